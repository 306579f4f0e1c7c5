"""Training data from the features stage's Parquet parts, with ml/data.ts's
semantics, row for row: each epoch opens up to `open_parts` parts (all that
fit a memory budget), each at a row group of its own in a seeded order, takes
every next row from one of them chosen in proportion to its rows left, and
passes rows through a seeded shuffle buffer. The order is a function of
(seed, epoch) alone, so a resumed run skips the batches already trained on.
Batches are trimmed to their longest event under masked padding.

Reading and decoding run on a background thread (`prefetch`), a few batches
ahead of the training step; on CUDA, batches are copied into pinned memory
there, so the host-to-device copy can overlap the step."""

import queue
import threading
from dataclasses import dataclass
from typing import Iterator, Optional

import numpy as np
import pyarrow.parquet as pq

from rng import Rng, shuffled
from store import Store, StoreError

HLF_FEATURES = 14
PARTICLE_FEATURES = 19
WHOLE_PART_BYTES = 32 * 2**20
DEFAULT_OPEN_PARTS = 16
OPEN_PARTS_BUDGET = 512 * 2**20
RANGE_READ_PART_COST = 24 * 2**20


@dataclass
class Needs:
    hlf: bool
    particles: bool
    trim: bool


@dataclass
class Row:
    hlf: Optional[np.ndarray]
    particles: Optional[np.ndarray]
    length: int
    label: int


@dataclass
class Batch:
    size: int
    hlf: Optional[np.ndarray]  # size x 14
    particles: Optional[np.ndarray]  # size x steps x 19
    lengths: Optional[np.ndarray]  # size (rows up to the last non-padding one)
    steps: int
    labels: np.ndarray  # int64


def open_parts_for(parts: list, whole_part_bytes: int = WHOLE_PART_BYTES) -> int:
    costs = sorted((p["bytes"] if p["bytes"] <= whole_part_bytes else RANGE_READ_PART_COST for p in parts), reverse=True)
    fit, total = 0, 0
    while fit < len(costs) and total + costs[fit] <= OPEN_PARTS_BUDGET:
        total += costs[fit]
        fit += 1
    return max(DEFAULT_OPEN_PARTS, fit)


def real_length(particles: np.ndarray) -> int:
    nz = np.flatnonzero(particles)
    return int(nz[-1] // PARTICLE_FEATURES + 1) if nz.size else 0


class PartReader:
    """One stage-2 part; errors name the object."""

    def __init__(self, store: Store, part: dict) -> None:
        self.uri = store.uri(part["key"])
        try:
            self.file = pq.ParquetFile(store.open(part["key"]))
        except StoreError:
            raise
        except Exception as err:  # pyarrow's errors for a file that is not Parquet
            raise StoreError(f"{self.uri}: not a readable stage-2 Parquet file ({err})") from err
        self.rows = self.file.metadata.num_rows
        self.row_groups = self.file.metadata.num_row_groups

    def read(self, group: int, needs: Needs) -> dict:
        columns = ["HLF_input", "label"] + (["GRU_input"] if needs.particles else [])
        try:
            table = self.file.read_row_group(group, columns=columns)
        except Exception as err:
            raise StoreError(f"{self.uri}: row group {group} cannot be read ({err})") from err
        n = table.num_rows
        out = {"rows": n, "label": table.column("label").to_numpy().astype(np.int64)}
        out["hlf"] = _flat(table, "HLF_input").reshape(n, HLF_FEATURES)
        if needs.particles:
            gru = _flat(table, "GRU_input")
            out["gru"] = gru.reshape(n, -1)
            out["particles"] = out["gru"].shape[1] // PARTICLE_FEATURES
        return out

    def close(self) -> None:
        self.file.close()


def _flat(table, name: str) -> np.ndarray:
    col = table.column(name).combine_chunks()
    return col.values.to_numpy(zero_copy_only=False).astype(np.float32, copy=False)


def _copy_row(cols: dict, r: int, needs: Needs) -> Row:
    hlf = cols["hlf"][r].copy() if needs.hlf else None
    particles, length = None, 0
    if needs.particles:
        particles = cols["gru"][r].copy()
        length = real_length(particles) if needs.trim else cols["particles"]
    return Row(hlf, particles, length, int(cols["label"][r]))


class _Open:
    def __init__(self, file: PartReader, groups: list) -> None:
        self.file, self.groups, self.cols, self.row, self.left = file, groups, None, 0, file.rows


def _next_row(part: _Open, needs: Needs) -> Row:
    while part.cols is None or part.row >= part.cols["rows"]:
        if not part.groups:
            raise StoreError(f"{part.file.uri}: fewer rows than its metadata's {part.file.rows}")
        part.cols = part.file.read(part.groups.pop(), needs)
        part.row = 0
    part.left -= 1
    row = _copy_row(part.cols, part.row, needs)
    part.row += 1
    return row


def _pick_by_rows_left(open_: list, u: float) -> int:
    at = u * float(sum(o.left for o in open_))
    for i, o in enumerate(open_):
        at -= o.left
        if at < 0:
            return i
    return len(open_) - 1


def epoch_rows(store: Store, parts: list, needs: Needs, seed: int, epoch: int, buffer_size: int, open_parts: Optional[int] = None) -> Iterator[Row]:
    rng = Rng(seed, epoch, 0x5EED)
    q = shuffled(list(range(len(parts))), rng)
    open_: list = []
    limit = open_parts if open_parts is not None else open_parts_for(parts)

    def fill() -> None:
        while len(open_) < limit and q:
            file = PartReader(store, parts[q.pop(0)])
            if file.rows == 0:
                file.close()
            else:
                open_.append(_Open(file, shuffled(list(range(file.row_groups)), rng)))

    buffer: list = []
    try:
        fill()
        while open_:
            i = _pick_by_rows_left(open_, rng.uniform())
            row = _next_row(open_[i], needs)
            if open_[i].left == 0:
                open_.pop(i).file.close()
                fill()
            if len(buffer) < buffer_size:
                buffer.append(row)
                continue
            j = int(rng.uniform() * len(buffer))
            yield buffer[j]
            buffer[j] = row
    finally:
        for o in open_:
            o.file.close()
    yield from shuffled(buffer, rng)


def ordered_rows(store: Store, parts: list, needs: Needs) -> Iterator[Row]:
    """The test rows in file order (predictions line up with the files)."""
    for part in parts:
        file = PartReader(store, part)
        try:
            for g in range(file.row_groups):
                cols = file.read(g, needs)
                for r in range(cols["rows"]):
                    yield _copy_row(cols, r, needs)
        finally:
            file.close()


def batches(rows: Iterator[Row], size: int, needs: Needs, skip: int = 0) -> Iterator[Batch]:
    pending: list = []
    index = 0
    for row in rows:
        pending.append(row)
        if len(pending) == size:
            if index >= skip:
                yield assemble(pending, needs)
            index += 1
            pending = []
    if pending and index >= skip:
        yield assemble(pending, needs)


def assemble(rows: list, needs: Needs) -> Batch:
    size = len(rows)
    labels = np.fromiter((r.label for r in rows), dtype=np.int64, count=size)
    hlf = np.stack([r.hlf for r in rows]) if needs.hlf else None
    particles, lengths, steps = None, None, 0
    if needs.particles:
        full = rows[0].particles.size // PARTICLE_FEATURES
        steps = max(1, max(r.length for r in rows)) if needs.trim else full
        width = steps * PARTICLE_FEATURES
        particles = np.stack([r.particles[:width] for r in rows]).reshape(size, steps, PARTICLE_FEATURES)
        lengths = np.fromiter((r.length for r in rows), dtype=np.int64, count=size)
    return Batch(size, hlf, particles, lengths, steps, labels)


_END = object()


def prefetch(items: Iterator, depth: int = 4, transform=None) -> Iterator:
    """Runs `items` (reading, decoding, assembling) on a background thread,
    `depth` ahead; `transform` (e.g. pinning) runs there too. Errors surface
    in the consumer; closing the consumer stops the thread."""
    out: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                out.put(transform(item) if transform else item)
            out.put(_END)
        except BaseException as err:  # handed to the consumer
            out.put(err)

    thread = threading.Thread(target=work, name="topoflow-data", daemon=True)
    thread.start()
    try:
        while True:
            item = out.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            try:
                out.get_nowait()
            except queue.Empty:
                thread.join(0.05)
