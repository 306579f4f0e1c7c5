"""Lays out a TensorFlow wheel's C library the way tfjs-node's addon expects.

Usage: tfjs-node-extract.py WHEEL DEST [SHA256]
  lib/      libtensorflow_cc.so.2 and libtensorflow_framework.so.2, plus the
            names the addon links and loads (libtensorflow.so[.2] -> _cc,
            libtensorflow_framework.so -> .so.2)
  include/  the C API headers (tensorflow/c/..., and the ctstring headers
            they include)
  cuda-requirements.txt  the wheel's `and-cuda` extra (NVIDIA CUDA wheels), if any
An nvidia-* wheel instead has its `nvidia/` tree unpacked into DEST/nvidia,
beside lib/, where TensorFlow's $ORIGIN/../nvidia/... search paths look.
The wheel's SHA-256 must equal SHA256 when one is given.
"""

import hashlib
import os
import re
import shutil
import sys
import zipfile

LIBS = ("tensorflow/libtensorflow_cc.so.2", "tensorflow/libtensorflow_framework.so.2")
HEADERS = (  # the C API and what it includes (tsl moved to the top level in 2.16)
    "tensorflow/include/tensorflow/c/",
    "tensorflow/include/tensorflow/core/platform/ctstring",
    "tensorflow/include/tensorflow/tsl/c/",
    "tensorflow/include/tensorflow/tsl/platform/ctstring",
    "tensorflow/include/tsl/c/",
    "tensorflow/include/tsl/platform/ctstring",
)
LINKS = {
    "libtensorflow.so.2": "libtensorflow_cc.so.2",
    "libtensorflow.so": "libtensorflow_cc.so.2",
    "libtensorflow_framework.so": "libtensorflow_framework.so.2",
}


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def copy_member(z, info, target):
    os.makedirs(os.path.dirname(target), exist_ok=True)
    with z.open(info) as src, open(target, "wb") as dst:
        shutil.copyfileobj(src, dst, 1 << 20)
    os.chmod(target, 0o755 if target.endswith((".so", ".2")) or ".so." in target else 0o644)


def safe(name):
    return not name.startswith("/") and ".." not in name.split("/")


def tensorflow_wheel(z, dest):
    names = {i.filename: i for i in z.infolist()}
    missing = [lib for lib in LIBS if lib not in names]
    if missing:
        sys.exit(f"{missing[0]} is not in the wheel (TensorFlow >= 2.12 has it)")
    for lib in LIBS:
        copy_member(z, names[lib], os.path.join(dest, "lib", os.path.basename(lib)))
    for name, info in names.items():
        if name.startswith(HEADERS) and not name.endswith("/") and safe(name):
            copy_member(z, info, os.path.join(dest, "include", name[len("tensorflow/include/"):]))
    for link, target in LINKS.items():
        os.symlink(target, os.path.join(dest, "lib", link))
    meta = next((n for n in names if n.endswith(".dist-info/METADATA")), None)
    cuda = []
    if meta:
        for line in z.read(meta).decode().splitlines():
            m = re.match(r"Requires-Dist: ([^;]+);.*extra == .and-cuda.", line)
            if m:
                cuda.append(m.group(1).replace(" ", "").replace("(", "").replace(")", ""))
    with open(os.path.join(dest, "cuda-requirements.txt"), "w") as f:
        f.write("".join(r + "\n" for r in cuda))


def nvidia_wheel(z, dest):
    for info in z.infolist():
        name = info.filename
        if name.startswith("nvidia/") and not name.endswith("/") and safe(name):
            copy_member(z, info, os.path.join(dest, name))


def main():
    wheel, dest = sys.argv[1], sys.argv[2]
    want = sys.argv[3] if len(sys.argv) > 3 else ""
    got = sha256(wheel)
    if want and got != want:
        sys.exit(f"{os.path.basename(wheel)}: SHA-256 {got}, expected {want}")
    with zipfile.ZipFile(wheel) as z:
        if os.path.basename(wheel).startswith("nvidia"):
            nvidia_wheel(z, dest)
            return
        os.makedirs(dest, exist_ok=True)
        tensorflow_wheel(z, dest)


if __name__ == "__main__":
    main()
