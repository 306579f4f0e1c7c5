"""The pipeline's storage as the kernel sees it: a local directory or an S3
bucket and prefix, through pyarrow's filesystems. Credentials come from the
worker's environment (AWS_* variables, profiles) and are never in the job.
Keys are the TypeScript Storage's keys (relative to the root)."""

import os
import posixpath
import tempfile

from pyarrow import fs as pafs


class StoreError(Exception):
    pass


class Store:
    def __init__(self, spec: dict) -> None:
        kind = spec.get("kind")
        if kind == "local":
            self.fs = pafs.LocalFileSystem()
            self.base = spec["root"].rstrip("/")
            self.local = True
            self.describe = f"file://{self.base}"
        elif kind == "s3":
            options = {"region": spec.get("region") or os.environ.get("AWS_REGION") or "us-east-1"}
            endpoint = spec.get("endpoint")
            if endpoint:
                scheme, _, rest = endpoint.partition("://")
                options["endpoint_override"] = rest.rstrip("/") if rest else endpoint
                options["scheme"] = scheme if rest else "https"
                options["force_virtual_addressing"] = False
            options["connect_timeout"] = 5
            options["request_timeout"] = 60
            self.fs = pafs.S3FileSystem(**options)
            prefix = spec.get("prefix", "").strip("/")
            self.base = spec["bucket"] + (f"/{prefix}" if prefix else "")
            self.local = False
            self.describe = f"s3://{self.base}"
        else:
            raise StoreError(f"job.storage.kind must be local or s3, not {kind!r}")

    def path(self, key: str) -> str:
        if key.startswith("/") or ".." in key.split("/"):
            raise StoreError(f"unsafe storage key {key!r}")
        return f"{self.base}/{key}"

    def uri(self, key: str) -> str:
        return f"{self.describe}/{key}"

    def open(self, key: str):
        try:
            return self.fs.open_input_file(self.path(key))
        except FileNotFoundError as err:
            raise StoreError(f"{self.uri(key)}: not found") from err

    def get(self, key: str) -> bytes:
        with self.open(key) as f:
            return f.read()

    def put(self, key: str, body: bytes) -> None:
        path = self.path(key)
        if self.local:
            # temp file, fsync, rename: a reader never sees a half-written object
            folder = os.path.dirname(path)
            os.makedirs(folder, exist_ok=True)
            fd, temp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
            with os.fdopen(fd, "wb") as f:
                f.write(body)
                f.flush()
                os.fsync(f.fileno())
            os.replace(temp, path)
        else:
            with self.fs.open_output_stream(path) as f:
                f.write(body)

    def list(self, prefix: str) -> list:
        """Keys under the folder `prefix` (relative to the root)."""
        selector = pafs.FileSelector(self.path(prefix.rstrip("/")), recursive=True, allow_not_found=True)
        skip = len(self.base) + 1
        return [info.path[skip:] for info in self.fs.get_file_info(selector) if info.type == pafs.FileType.File]

    def delete_folder(self, prefix: str) -> None:
        try:
            self.fs.delete_dir(self.path(prefix.rstrip("/")))
        except FileNotFoundError:
            pass


def join(*parts: str) -> str:
    return posixpath.join(*[p.strip("/") for p in parts if p])
