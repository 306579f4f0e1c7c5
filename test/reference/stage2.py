#!/usr/bin/env python3
"""Independent Python reference for topoflow pipeline stage 2 (feature preparation).

Written from shared/reference/seed-pipeline.md section 3 and the project rules
(see test/reference/README.md, section "stage2.py"). numpy + pyarrow only.

Steps: HLF min-max scaling (fit on all input rows), per-event particle sort by
descending dR from the lepton + per-event standardisation (faithful: all n rows;
masked: real rows only), hash-based class balancing, 80/20 split, train shuffle.
"""

import argparse
import hashlib
import json
import math
import os
import sys
import tempfile
import time

import numpy as np

PROG = "stage2.py"
N_HLF = 14
N_COLS = 19
N_CLASSES = 3
BATCH = 256
TWO_PI = 2.0 * math.pi
REQUIRED = ("hfeatures", "lfeatures", "label", "source_file", "entry")


class InputError(Exception):
    pass


# --------------------------------------------------------------------------
# uniforms
# --------------------------------------------------------------------------


def uniform(seed, purpose, source_file, entry):
    h = hashlib.sha256(f"{seed}|{purpose}|{source_file}|{entry}".encode("utf-8")).digest()
    return (int.from_bytes(h[:8], "big") >> 11) / 9007199254740992.0  # 2**53


# --------------------------------------------------------------------------
# arrow helpers
# --------------------------------------------------------------------------


def _list_parts(arr, path, col, row0, expect_len, what):
    """Return (values float64 ndarray of shape (rows, expect_len)) for a list column chunk.

    Checks nulls, list lengths and finiteness. row0 = file row index of arr[0].
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    t = arr.type
    if not (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)):
        raise InputError(f"{path}: column '{col}': expected a list column, got {t}")
    rows = len(arr)
    if arr.null_count:
        bad = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
        raise InputError(f"{path}: row {row0 + bad}: column '{col}': null list")
    lens = pc.list_value_length(arr).to_numpy(zero_copy_only=False)
    wrong = np.flatnonzero(lens != expect_len)
    if wrong.size:
        b = int(wrong[0])
        raise InputError(
            f"{path}: row {row0 + b}: column '{col}': expected {expect_len} values ({what}), got {int(lens[b])}")
    vals = pc.list_flatten(arr)
    if vals.null_count:
        flat_bad = int(np.flatnonzero(vals.is_null().to_numpy(zero_copy_only=False))[0])
        b = flat_bad // expect_len if expect_len else 0
        raise InputError(
            f"{path}: row {row0 + b}: column '{col}': null value at index {flat_bad % expect_len}")
    if not (pa.types.is_floating(vals.type) or pa.types.is_integer(vals.type)):
        raise InputError(f"{path}: column '{col}': expected numeric list values, got {vals.type}")
    x = vals.to_numpy(zero_copy_only=False).astype(np.float64, copy=False).reshape(rows, expect_len)
    fin = np.isfinite(x)
    if not fin.all():
        r, c = np.argwhere(~fin)[0]
        raise InputError(
            f"{path}: row {row0 + int(r)}: column '{col}': non-finite value {float(x[r, c])} at index {int(c)}")
    return x


def _scalar_col(arr, path, col, row0, kind):
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        bad = int(np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False))[0])
        raise InputError(f"{path}: row {row0 + bad}: column '{col}': null value")
    t = arr.type
    if kind == "int":
        if not pa.types.is_integer(t):
            raise InputError(f"{path}: column '{col}': expected an integer column, got {t}")
        return arr.to_numpy(zero_copy_only=False).astype(np.int64)
    if not (pa.types.is_string(t) or pa.types.is_large_string(t)):
        raise InputError(f"{path}: column '{col}': expected a string column, got {t}")
    return arr.to_pylist()


def open_input(path):
    import pyarrow.parquet as pq

    if not os.path.isfile(path):
        raise InputError(f"{path}: no such file")
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # noqa: BLE001
        raise InputError(f"{path}: not a readable Parquet file ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})")
    names = pf.schema_arrow.names
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise InputError(f"{path}: row -: column '{missing[0]}': missing column"
                         + (f" (also missing: {', '.join(missing[1:])})" if len(missing) > 1 else ""))
    n_meta = None
    md = pf.schema_arrow.metadata or {}
    raw = md.get(b"topoflow.particles")
    if raw is not None:
        try:
            n_meta = int(raw.decode())
        except ValueError:
            raise InputError(f"{path}: key-value metadata 'topoflow.particles' is not an integer: {raw!r}")
        if n_meta < 1:
            raise InputError(f"{path}: key-value metadata 'topoflow.particles' must be >= 1, got {n_meta}")
    return pf, n_meta


# --------------------------------------------------------------------------
# particle transform (vectorised per batch)
# --------------------------------------------------------------------------


def _wrap_dphi(d):
    """Wrap into [-pi, pi] with `while d > pi: d -= 2pi; while d < -pi: d += 2pi` semantics."""
    for _ in range(64):
        hi = d > math.pi
        if not hi.any():
            break
        d = np.where(hi, d - TWO_PI, d)
    for _ in range(64):
        lo = d < -math.pi
        if not lo.any():
            break
        d = np.where(lo, d + TWO_PI, d)
    if (d > math.pi).any() or (d < -math.pi).any():  # absurdly large |phi|; fall back
        d = np.where((d > math.pi) | (d < -math.pi), np.remainder(d + math.pi, TWO_PI) - math.pi, d)
    return d


def transform(x, masked, scale=None):
    """x: (B, n, 19) float64 -> (B, n, 19) float32 sorted + standardised.

    scale: None (each event over its own rows, the seed's) or (mean, std) per column
    fitted over the whole dataset (std 0: a constant column, which becomes 0)."""
    B, n, _ = x.shape
    eta_l = x[:, 0, 5][:, None]
    phi_l = x[:, 0, 6][:, None]
    deta = x[:, :, 5] - eta_l
    dphi = _wrap_dphi(x[:, :, 6] - phi_l)
    dr = np.sqrt(deta * deta + dphi * dphi)
    if masked:
        nonzero = (x != 0.0).any(axis=2)  # (B, n)
        # real rows = the leading run of rows that are not all-zero
        k = np.where(nonzero.all(axis=1), n, np.argmin(nonzero, axis=1))
        real = np.arange(n)[None, :] < k[:, None]
        key = np.where(real, -dr, np.inf)  # padding sorts last and keeps its order
    else:
        k = np.full(B, n)
        key = -dr
    order = np.argsort(key, axis=1, kind="stable")  # stable: ties keep input order
    flat = (order + (np.arange(B) * n)[:, None]).reshape(-1)
    xs = np.take(x.reshape(B * n, N_COLS), flat, axis=0).reshape(B, n, N_COLS)
    if masked:
        m = (np.arange(n)[None, :] < k[:, None])[:, :, None]  # after the sort real rows lead
        if not m.all():
            xs[np.broadcast_to(~m, xs.shape)] = 0.0  # (only matters for non-zero rows after padding)
        kk = np.maximum(k, 1).astype(np.float64)[:, None]
    else:
        m = None
        kk = float(n)
    if scale is not None:
        mean, std = scale
        d = (xs - mean[None, None, :]) / np.where(std == 0.0, 1.0, std)[None, None, :]
        d[:, :, std == 0.0] = 0.0
        if m is not None and not m.all():
            d[np.broadcast_to(~m, d.shape)] = 0.0
        return d.astype(np.float32)
    mean = xs.sum(axis=1) / kk
    d = xs - mean[:, None, :]
    if m is not None and not m.all():
        d[np.broadcast_to(~m, d.shape)] = 0.0
    var = np.einsum("bnc,bnc->bc", d, d) / kk
    std = np.sqrt(var)
    # zero-variance column = all (real) values equal. Rounding in the mean can make var tiny but
    # non-zero for a constant column, so candidates are checked exactly.
    cand = var <= ((4.0 * n + 64.0) * np.finfo(np.float64).eps * np.abs(mean)) ** 2
    const = std == 0.0
    if cand.any():
        for b, c in zip(*np.nonzero(cand)):
            col = xs[b, :int(k[b]), c]
            if col.size == 0 or (col == col[0]).all():
                const[b, c] = True
    scale = np.where(const, 1.0, std)
    d /= scale[:, None, :]
    if const.any():
        d[np.broadcast_to(const[:, None, :], d.shape)] = 0.0
    return d.astype(np.float32)


# --------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------


def _schema():
    import pyarrow as pa

    return pa.schema([
        ("HLF_input", pa.list_(pa.float32())),
        ("GRU_input", pa.list_(pa.float32())),
        ("label", pa.int8()),
        ("encoded_label", pa.list_(pa.float32())),
        ("source_file", pa.string()),
        ("entry", pa.int64()),
    ])


def _fixed_list(flat, width):
    import pyarrow as pa

    flat = np.ascontiguousarray(flat, dtype=np.float32).reshape(-1)
    rows = flat.size // width if width else 0
    offsets = pa.array(np.arange(rows + 1, dtype=np.int32) * width, type=pa.int32())
    return pa.ListArray.from_arrays(offsets, pa.array(flat, type=pa.float32()))


def make_table(hlf, gru, labels, sources, entries, n):
    import pyarrow as pa

    onehot = np.zeros((len(labels), N_CLASSES), dtype=np.float32)
    onehot[np.arange(len(labels)), labels] = 1.0
    return pa.Table.from_arrays([
        _fixed_list(hlf, N_HLF),
        _fixed_list(gru, n * N_COLS),
        pa.array(np.asarray(labels, dtype=np.int8), type=pa.int8()),
        _fixed_list(onehot, N_CLASSES),
        pa.array(list(sources), type=pa.string()),
        pa.array(np.asarray(entries, dtype=np.int64), type=pa.int64()),
    ], schema=_schema())


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------


def parse_args(argv):
    p = argparse.ArgumentParser(prog=PROG, description="topoflow stage-2 Python reference (feature preparation)")
    p.add_argument("--padding", required=True, choices=("faithful", "masked"))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--particle-scaling", choices=("event", "dataset"), default="event",
                   help="dataset: one mean/std per particle column over every real row of the inputs")
    p.add_argument("--out-train", required=True)
    p.add_argument("--out-test", required=True)
    p.add_argument("--stats", required=True)
    p.add_argument("--bench", action="store_true", help="print throughput (events/s) to stderr")
    p.add_argument("files", nargs="+", metavar="IN.parquet")
    return p.parse_args(argv)


def _prefetch(it):
    """Read the next Parquet batch in a helper thread while the current one is transformed."""
    from concurrent.futures import ThreadPoolExecutor

    end = object()
    with ThreadPoolExecutor(max_workers=1) as ex:
        fut = ex.submit(next, it, end)
        while True:
            item = fut.result()
            if item is end:
                return
            fut = ex.submit(next, it, end)
            yield item


def run(args, tmp_paths):
    import pyarrow.parquet as pq

    masked = args.padding == "masked"
    t0 = time.perf_counter()

    # ---- pass 1: open + validate scalar/HLF columns, collect keys ----
    inputs = []
    for path in args.files:
        inputs.append((path,) + open_input(path))
    n = None
    n_src = None
    for path, _pf, n_meta in inputs:
        if n_meta is not None:
            if n is not None and n != n_meta:
                raise InputError(f"{path}: row -: column 'lfeatures': metadata topoflow.particles={n_meta} "
                                 f"differs from {n} in {n_src}")
            n, n_src = n_meta, path

    hf_parts, lab_parts, src_all, ent_parts, file_rows = [], [], [], [], []
    for path, pf, _ in inputs:
        row0 = 0
        for b in pf.iter_batches(batch_size=8192, columns=["hfeatures", "label", "source_file", "entry"]):
            h = _list_parts(b.column("hfeatures"), path, "hfeatures", row0, N_HLF, "high-level features")
            lab = _scalar_col(b.column("label"), path, "label", row0, "int")
            bad = np.flatnonzero((lab < 0) | (lab >= N_CLASSES))
            if bad.size:
                r = int(bad[0])
                raise InputError(f"{path}: row {row0 + r}: column 'label': value {int(lab[r])} not in 0, 1, 2")
            src = _scalar_col(b.column("source_file"), path, "source_file", row0, "str")
            ent = _scalar_col(b.column("entry"), path, "entry", row0, "int")
            hf_parts.append(h)
            lab_parts.append(lab)
            src_all.extend(src)
            ent_parts.append(ent)
            row0 += b.num_rows
        file_rows.append(row0)
    N = sum(file_rows)
    hf = np.concatenate(hf_parts) if hf_parts else np.zeros((0, N_HLF))
    labels = np.concatenate(lab_parts) if lab_parts else np.zeros(0, dtype=np.int64)
    entries = np.concatenate(ent_parts) if ent_parts else np.zeros(0, dtype=np.int64)

    counts = np.bincount(labels, minlength=N_CLASSES)[:N_CLASSES]
    for c in range(N_CLASSES):
        if counts[c] == 0:
            raise InputError(f"{', '.join(args.files)}: row -: column 'label': class {c} has no rows "
                             f"(counts {counts.tolist()})")

    # ---- HLF min-max scaling on all rows ----
    hmin = hf.min(axis=0)
    hmax = hf.max(axis=0)
    rng = hmax - hmin
    const = rng == 0.0
    hlf = np.where(const, 0.5, (hf - hmin) / np.where(const, 1.0, rng)).astype(np.float32)

    # ---- balance / split / shuffle decisions ----
    ratio = [min(1.0, counts[0] / counts[c]) for c in range(N_CLASSES)]
    seed = args.seed
    dest = np.full(N, -1, dtype=np.int64)  # -1 dropped, -2 test, >=0 train position
    train_idx, train_keys, is_test = [], [], np.zeros(N, dtype=bool)
    for i in range(N):
        c = int(labels[i])
        s, e = src_all[i], int(entries[i])
        if c != 0 and ratio[c] < 1.0 and not (uniform(seed, "balance", s, e) < ratio[c]):
            continue
        if uniform(seed, "split", s, e) < 0.8:
            train_idx.append(i)
            train_keys.append((uniform(seed, "shuffle", s, e), s, e, i))
        else:
            is_test[i] = True
    train_keys.sort()
    train_order = np.array([k[3] for k in train_keys], dtype=np.int64)
    dest[train_order] = np.arange(len(train_order))
    dest[is_test] = -2
    n_train = len(train_order)
    test_idx = np.flatnonzero(is_test)

    # ---- pass 2: particles ----
    out_dir_train = os.path.dirname(os.path.abspath(args.out_train))
    mm = None
    mm_path = None
    test_writer = pq.ParquetWriter(tmp_paths["test"], _schema(), compression="zstd", use_dictionary=["source_file"])
    tmp_paths["_writers"].append(test_writer)
    def batches():
        for path, pf, _n_meta in inputs:
            row0 = 0
            for b in pf.iter_batches(batch_size=BATCH, columns=["lfeatures"]):
                yield path, row0, b
                row0 += b.num_rows

    scale = particle_scale(batches) if args.particle_scaling == "dataset" else None
    g = 0  # global row index
    for path, row0, b in _prefetch(batches()):
        if True:
            arr = b.column("lfeatures")
            rows = b.num_rows
            if n is None:
                import pyarrow.compute as pc
                ln = int(pc.list_value_length(arr)[0].as_py() or 0) if rows else 0
                if ln <= 0 or ln % N_COLS:
                    raise InputError(f"{path}: row {row0}: column 'lfeatures': length {ln} "
                                     f"is not a positive multiple of {N_COLS}")
                n, n_src = ln // N_COLS, path
            x = _list_parts(arr, path, "lfeatures", row0, n * N_COLS, f"{n} particles x {N_COLS}")
            if mm is None and n_train:
                fd, mm_path = tempfile.mkstemp(prefix=".stage2-train-", suffix=".f32", dir=out_dir_train)
                os.close(fd)
                tmp_paths["extra"].append(mm_path)
                mm = np.memmap(mm_path, dtype=np.float32, mode="w+", shape=(n_train, n * N_COLS))
            d = dest[g:g + rows]
            keep = np.flatnonzero(d != -1)
            if keep.size:
                xk = x if keep.size == rows else x[keep]
                y = transform(xk.reshape(keep.size, n, N_COLS), masked, scale).reshape(keep.size, n * N_COLS)
                dk = d[keep]
                tr = dk >= 0
                if tr.any():
                    mm[dk[tr]] = y[tr]
                te = np.flatnonzero(~tr)
                if te.size:
                    gi = g + keep[te]
                    test_writer.write_table(make_table(hlf[gi], y[te], labels[gi],
                                                       [src_all[j] for j in gi], entries[gi], n))
            g += rows
    if n is None:
        n = 1  # no rows at all (cannot happen: empty classes are rejected above)
    test_writer.close()
    tmp_paths["_writers"].remove(test_writer)

    # ---- write train in shuffle order ----
    train_writer = pq.ParquetWriter(tmp_paths["train"], _schema(), compression="zstd", use_dictionary=["source_file"])
    tmp_paths["_writers"].append(train_writer)
    for s in range(0, n_train, BATCH):
        gi = train_order[s:s + BATCH]
        train_writer.write_table(make_table(hlf[gi], np.asarray(mm[s:s + BATCH]), labels[gi],
                                            [src_all[j] for j in gi], entries[gi], n))
    train_writer.close()
    tmp_paths["_writers"].remove(train_writer)
    if mm is not None:
        del mm
        os.unlink(mm_path)
        tmp_paths["extra"].remove(mm_path)

    stats = {
        "min": [float(v) for v in hmin],
        "max": [float(v) for v in hmax],
        "counts_before": [int(v) for v in counts],
        "counts_after": {
            "train": [int(v) for v in np.bincount(labels[train_order], minlength=N_CLASSES)[:N_CLASSES]],
            "test": [int(v) for v in np.bincount(labels[test_idx], minlength=N_CLASSES)[:N_CLASSES]],
        },
    }
    with open(tmp_paths["stats"], "w") as fh:
        json.dump(stats, fh, indent=2)
        fh.write("\n")
    os.replace(tmp_paths["train"], args.out_train)
    os.replace(tmp_paths["test"], args.out_test)
    os.replace(tmp_paths["stats"], args.stats)
    dt = time.perf_counter() - t0
    if args.bench:
        print(f"{PROG} bench: padding={args.padding} events={N} particles={n} train={n_train} "
              f"test={len(test_idx)} wall={dt:.3f}s events/s={N / dt if dt > 0 else float('inf'):.1f}",
              file=sys.stderr)


def particle_scale(batches):
    """Mean and population std per column over every real (not all-zero) particle row of all inputs."""
    total = np.zeros(N_COLS)
    count = 0
    lo = np.full(N_COLS, np.inf)
    hi = np.full(N_COLS, -np.inf)
    rows = []
    for path, row0, b in batches():
        import pyarrow.compute as pc
        flat = pc.list_flatten(b.column("lfeatures")).to_numpy(zero_copy_only=False).astype(np.float64)
        x = flat.reshape(-1, N_COLS)
        x = x[(x != 0.0).any(axis=1)]
        rows.append(x)
        total += x.sum(axis=0)
        count += x.shape[0]
        lo = np.minimum(lo, x.min(axis=0, initial=np.inf))
        hi = np.maximum(hi, x.max(axis=0, initial=-np.inf))
    if count == 0:
        raise InputError("particle-scaling dataset: no particle row in the inputs")
    mean = total / count
    m2 = sum(((x - mean) ** 2).sum(axis=0) for x in rows)
    std = np.where(lo == hi, 0.0, np.sqrt(m2 / count))
    return mean, std


def _tmp_name(final):
    d, b = os.path.split(os.path.abspath(final))
    return os.path.join(d, f".{b}.tmp-{os.getpid()}")


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    import pyarrow  # noqa: F401  (imports are not part of --bench timing)
    import pyarrow.compute  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    tmp_paths = {"train": _tmp_name(args.out_train), "test": _tmp_name(args.out_test),
                 "stats": _tmp_name(args.stats), "extra": [], "_writers": []}

    def cleanup():
        for w in tmp_paths["_writers"]:
            try:
                w.close()
            except Exception:  # noqa: BLE001
                pass
        for p in [tmp_paths["train"], tmp_paths["test"], tmp_paths["stats"]] + tmp_paths["extra"] + \
                [args.out_train, args.out_test, args.stats]:
            try:
                os.unlink(p)
            except OSError:
                pass

    try:
        run(args, tmp_paths)
    except InputError as exc:
        cleanup()
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001  (unreadable input, I/O error: one line, no traceback)
        cleanup()
        msg = str(exc).splitlines()[0] if str(exc) else ""
        print(f"{PROG}: error: {type(exc).__name__}: {msg}", file=sys.stderr)
        return 2
    except BaseException:
        cleanup()
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main())
