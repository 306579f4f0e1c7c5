#!/usr/bin/env python3
"""Compare two stage-1 Parquet outputs event by event.

Usage:
  python compare_stage1.py A.parquet B.parquet [--rtol 1e-5] [--atol 1e-6]

Rows are matched by (basename(source_file), entry). Every column other than
the key columns that exists in either file is compared (normally `label`,
`hfeatures`, `lfeatures`); list columns may be list<float> in one file and
list<double> in the other (float32 values are widened to float64 exactly).
A value pair is equal when |a - b| <= atol + rtol * |b|, or both are NaN, or
a == b (same infinity). A list-length difference counts as one mismatch with
index -1 and the two lengths as a / b.

Prints one JSON object:
  {rows_a, rows_b, only_in_a: [first 20 keys], only_in_b: [...],
   value_mismatches: N, first_mismatches: [{source_file, entry, column, index,
   a, b}] (at most 20, in A's row order), max_abs_diff, max_rel_diff, ...}
max_abs_diff / max_rel_diff are taken over all compared finite pairs
(rel = |a - b| / max(|a|, |b|), 0 when both are 0).
Also reported: n_only_in_a, n_only_in_b, duplicate_keys_a/b, columns_only_in_a/b,
values_compared.

Exit status: 0 iff no missing row, no duplicate key, no missing column and no
mismatch; 1 otherwise; 2 on a usage error (unreadable file, no key columns).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys

import numpy as np

KEYS = ("source_file", "entry")
MAX_LISTED = 20


def load(path):
    import pyarrow.parquet as pq

    if not os.path.isfile(path):
        raise SystemExit(_usage_error(f"{path}: no such file"))
    try:
        table = pq.read_table(path)
    except Exception as exc:  # noqa: BLE001
        raise SystemExit(_usage_error(f"{path}: cannot read as Parquet ({exc})"))
    for k in KEYS:
        if k not in table.column_names:
            raise SystemExit(_usage_error(f"{path}: no '{k}' column (columns: {', '.join(table.column_names)})"))
    return table


def _usage_error(msg):
    print(f"compare_stage1.py: error: {msg}", file=sys.stderr)
    return 2


def keys_of(table):
    files = [os.path.basename(s) if s is not None else None for s in table.column("source_file").to_pylist()]
    entries = table.column("entry").to_pylist()
    return list(zip(files, entries))


def column_data(table, name):
    """(kind, values float64, starts, lengths) with kind 'list' or 'scalar'."""
    import pyarrow as pa
    import pyarrow.compute as pc

    col = table.column(name).combine_chunks()
    t = col.type
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        lengths = np.asarray(pc.fill_null(pc.list_value_length(col), 0).to_numpy(zero_copy_only=False),
                             dtype=np.int64)
        values = col.flatten()  # respects slicing, skips null lists
        values = np.asarray(pc.cast(values, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
        starts = np.zeros(len(lengths), dtype=np.int64)
        np.cumsum(lengths[:-1], out=starts[1:]) if len(lengths) > 1 else None
        return "list", values, starts, lengths
    values = np.asarray(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
    return "scalar", values, np.arange(len(values), dtype=np.int64), np.ones(len(values), dtype=np.int64)


def py(x):
    x = float(x)
    if math.isnan(x) or math.isinf(x):
        return str(x)
    return x


def main(argv=None):
    p = argparse.ArgumentParser(description="compare two topoflow stage-1 Parquet outputs")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--rtol", type=float, default=1e-5)
    p.add_argument("--atol", type=float, default=1e-6)
    args = p.parse_args(argv)

    ta, tb = load(args.a), load(args.b)
    ka, kb = keys_of(ta), keys_of(tb)
    ia_of = {}
    dup_a = []
    for i, k in enumerate(ka):
        if k in ia_of:
            dup_a.append(k)
        else:
            ia_of[k] = i
    ib_of = {}
    dup_b = []
    for i, k in enumerate(kb):
        if k in ib_of:
            dup_b.append(k)
        else:
            ib_of[k] = i
    only_a = [k for k in ia_of if k not in ib_of]
    only_b = [k for k in ib_of if k not in ia_of]
    pairs = [(ia, ib_of[k]) for k, ia in ia_of.items() if k in ib_of]
    pairs.sort()
    ia = np.array([x[0] for x in pairs], dtype=np.int64)
    ib = np.array([x[1] for x in pairs], dtype=np.int64)

    cols_a = [c for c in ta.column_names if c not in KEYS]
    cols_b = [c for c in tb.column_names if c not in KEYS]
    common = [c for c in cols_a if c in cols_b]

    mismatches = []  # (row position in A, column order, index, a, b)
    n_mismatch = 0
    n_values = 0
    max_abs = 0.0
    max_rel = 0.0
    for ci, name in enumerate(common):
        kind_a, va, sa, la = column_data(ta, name)
        kind_b, vb, sb, lb = column_data(tb, name)
        la_m, lb_m = la[ia], lb[ib]
        same_len = la_m == lb_m
        for j in np.flatnonzero(~same_len):
            n_mismatch += 1
            mismatches.append((int(ia[j]), ci, -1, int(la_m[j]), int(lb_m[j])))
        sel = np.flatnonzero(same_len)
        if sel.size == 0:
            continue
        lens = la_m[sel]
        total = int(lens.sum())
        if total == 0:
            continue
        # gather matched values: element k of matched row r
        row_of = np.repeat(np.arange(sel.size), lens)
        first = np.zeros(sel.size, dtype=np.int64)
        np.cumsum(lens[:-1], out=first[1:]) if sel.size > 1 else None
        within = np.arange(total, dtype=np.int64) - first[row_of]
        a = va[sa[ia[sel]][row_of] + within]
        b = vb[sb[ib[sel]][row_of] + within]
        n_values += total
        with np.errstate(invalid="ignore", over="ignore"):
            diff = np.abs(a - b)
            ok = (diff <= args.atol + args.rtol * np.abs(b)) | (a == b) | (np.isnan(a) & np.isnan(b))
            fin = np.isfinite(diff)
            if fin.any():
                d = diff[fin]
                max_abs = max(max_abs, float(d.max()))
                den = np.maximum(np.abs(a[fin]), np.abs(b[fin]))
                rel = np.where(den > 0, d / np.where(den > 0, den, 1.0), 0.0)
                max_rel = max(max_rel, float(rel.max()))
        bad = np.flatnonzero(~ok)
        n_mismatch += int(bad.size)
        # keep only the earliest few per column (sorted later across columns)
        for k in bad[: MAX_LISTED]:
            r = sel[row_of[k]]
            index = int(within[k]) if kind_a == "list" else None
            mismatches.append((int(ia[r]), ci, index, a[k], b[k]))

    mismatches.sort(key=lambda m: (m[0], m[1], -2 if m[2] is None else m[2]))
    src = ta.column("source_file").to_pylist()
    ent = ta.column("entry").to_pylist()
    first = [
        {"source_file": src[r], "entry": ent[r], "column": common[ci], "index": idx, "a": py(x), "b": py(y)}
        for r, ci, idx, x, y in mismatches[:MAX_LISTED]
    ]
    only_a_c = [c for c in cols_a if c not in cols_b]
    only_b_c = [c for c in cols_b if c not in cols_a]
    out = {
        "rows_a": ta.num_rows,
        "rows_b": tb.num_rows,
        "only_in_a": [list(k) for k in only_a[:MAX_LISTED]],
        "only_in_b": [list(k) for k in only_b[:MAX_LISTED]],
        "n_only_in_a": len(only_a),
        "n_only_in_b": len(only_b),
        "duplicate_keys_a": [list(k) for k in dup_a[:MAX_LISTED]],
        "duplicate_keys_b": [list(k) for k in dup_b[:MAX_LISTED]],
        "columns_only_in_a": only_a_c,
        "columns_only_in_b": only_b_c,
        "values_compared": n_values,
        "value_mismatches": n_mismatch,
        "first_mismatches": first,
        "max_abs_diff": max_abs,
        "max_rel_diff": max_rel,
        "rtol": args.rtol,
        "atol": args.atol,
    }
    print(json.dumps(out))
    failed = only_a or only_b or dup_a or dup_b or only_a_c or only_b_c or n_mismatch
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
