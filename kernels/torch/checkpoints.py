"""Checkpoints in the pipeline's storage, in ml/checkpoint.ts's format:
`<folder>/step-<9 digits>/tensors.bin` (float32 tensors back to back) then
`state.json` (format topoflow.checkpoint/1: step, trainer state, tensor
layout, the tensors' SHA-256), written last. A checkpoint without a readable
state.json, or whose bytes do not match it, does not exist; the newest valid
one wins; all but the newest two are pruned."""

import hashlib
import json
import re
from datetime import datetime, timezone

import numpy as np

from store import Store, join

FORMAT = "topoflow.checkpoint/1"


def pack(tensors: list) -> tuple:
    """[(name, float32 ndarray)] -> (bytes, layout)."""
    layout, chunks, at = [], [], 0
    for name, values in tensors:
        arr = np.ascontiguousarray(values, dtype="<f4")
        layout.append({"name": name, "shape": list(arr.shape), "offset": at})
        chunks.append(arr.tobytes())
        at += arr.size
    return b"".join(chunks), layout


def unpack(data: bytes, layout: list) -> list:
    flat = np.frombuffer(data, dtype="<f4")
    out = []
    for i, t in enumerate(layout):
        end = layout[i + 1]["offset"] if i + 1 < len(layout) else flat.size
        n = int(np.prod(t["shape"])) if t["shape"] else 1
        if end - t["offset"] != n:
            raise ValueError(f"tensor {t['name']}: shape {t['shape']} does not match its {end - t['offset']} values")
        out.append(flat[t["offset"] : end].reshape(t["shape"]).copy())
    return out


class Checkpoints:
    def __init__(self, store: Store, folder: str, keep: int = 2) -> None:
        self.store, self.folder, self.keep = store, folder.rstrip("/"), keep

    def _dir(self, step: int) -> str:
        return join(self.folder, f"step-{step:09d}")

    def steps(self) -> list:
        found = set()
        for key in self.store.list(self.folder + "/"):
            m = re.search(r"/step-(\d+)/", key[len(self.folder) :])
            if m:
                found.add(int(m.group(1)))
        return sorted(found)

    def save(self, step: int, state: dict, tensors: list) -> None:
        data, layout = pack(tensors)
        folder = self._dir(step)
        self.store.put(join(folder, "tensors.bin"), data)
        record = {"format": FORMAT, "step": step, "state": state, "tensors": layout, "sha256": hashlib.sha256(data).hexdigest(), "savedAt": datetime.now(timezone.utc).isoformat()}
        self.store.put(join(folder, "state.json"), json.dumps(record).encode())
        for old in self.steps()[: -self.keep]:
            self.store.delete_folder(self._dir(old))

    def latest(self, warn):
        for step in reversed(self.steps()):
            folder = self._dir(step)
            try:
                record = json.loads(self.store.get(join(folder, "state.json")))
            except Exception:
                continue  # interrupted before its state was written
            try:
                if record.get("format") != FORMAT:
                    raise ValueError(f"unknown checkpoint format {record.get('format')!r}")
                data = self.store.get(join(folder, "tensors.bin"))
                if hashlib.sha256(data).hexdigest() != record["sha256"]:
                    raise ValueError("tensors.bin does not match the SHA-256 in state.json")
                return step, record["state"], [t["name"] for t in record["tensors"]], unpack(data, record["tensors"])
            except Exception as err:
                warn(f"checkpoint at step {step} is unusable ({err}); trying an older one")
        return None
