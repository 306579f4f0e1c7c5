"""Describe a Parquet file with pyarrow as JSON, the reference for test/parquet.test.ts.

    python read_parquet.py FILE [--values]

Prints {"num_rows", "row_group_rows", "schema": [{"name", "type", "nullable"}],
"compression": [codecs of all column chunks, deduplicated], "metadata": {key: value}
(without ARROW:schema), "sha256": {column: hex digest of the flattened values'
little-endian bytes, for numeric columns}} and, with --values, "values": {column:
[one value per row]}, non-finite floats written as "NaN", "Infinity", "-Infinity".
"""

import argparse
import hashlib
import json
import math

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq


def finite_or_name(value):
    """Replaces non-finite floats, recursively, by JavaScript's names for them."""
    if isinstance(value, list):
        return [finite_or_name(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    return value


def flat_bytes(column: pa.ChunkedArray) -> bytes:
    if pa.types.is_list(column.type):
        column = pc.list_flatten(column)
    values = column.to_numpy()
    return values.astype(values.dtype.newbyteorder("<"), copy=False).tobytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--values", action="store_true")
    args = parser.parse_args()

    parquet = pq.ParquetFile(args.file)
    meta = parquet.metadata
    table = parquet.read()
    report = {
        "num_rows": meta.num_rows,
        "row_group_rows": [meta.row_group(i).num_rows for i in range(meta.num_row_groups)],
        "schema": [{"name": f.name, "type": str(f.type), "nullable": f.nullable} for f in table.schema],
        "compression": sorted({meta.row_group(i).column(j).compression for i in range(meta.num_row_groups) for j in range(meta.num_columns)}),
        "metadata": {k.decode(): v.decode() for k, v in (meta.metadata or {}).items() if k != b"ARROW:schema"},
        "sha256": {
            name: hashlib.sha256(flat_bytes(table.column(name))).hexdigest()
            for name in table.column_names
            if not pa.types.is_string(table.column(name).type)
        },
    }
    if args.values:
        report["values"] = {name: finite_or_name(table.column(name).to_pylist()) for name in table.column_names}
    print(json.dumps(report))


if __name__ == "__main__":
    main()
