/**
 * Arrow column helpers for flat, fixed-width list columns (a matrix per row
 * stored as one list) and strings: building them for the writer and flattening
 * them back into typed arrays after a read.
 */
import { Field, Float32, Float64, makeData, Utf8, type Data, type List, type Table, type Vector } from 'apache-arrow';
import { List as ListType } from 'apache-arrow';

/** A non-nullable list type whose elements are named `element`, as the Parquet LIST spec recommends (Arrow's default is `item`). */
export const listOf = <T extends Float32 | Float64>(type: T): List<T> => new ListType(new Field('element', type, false));

/** A list column whose rows all hold `width` values. */
export function listData<T extends Float32 | Float64>(type: List<T>, valueType: T, values: T['TArray'], rows: number, width: number) {
  const valueOffsets = new Int32Array(rows + 1);
  for (let i = 1; i <= rows; i++) valueOffsets[i] = i * width;
  const child = makeData({ type: valueType, length: values.length, nullCount: 0, data: values });
  return makeData({ type, length: rows, nullCount: 0, valueOffsets, child });
}

export function utf8Data(strings: string[]) {
  const encoder = new TextEncoder();
  const encoded = strings.map((s) => encoder.encode(s));
  const valueOffsets = new Int32Array(strings.length + 1);
  encoded.forEach((bytes, i) => (valueOffsets[i + 1] = (valueOffsets[i] ?? 0) + bytes.length));
  const data = new Uint8Array(valueOffsets[strings.length] ?? 0);
  encoded.forEach((bytes, i) => data.set(bytes, valueOffsets[i]));
  return makeData({ type: new Utf8(), length: strings.length, nullCount: 0, valueOffsets, data });
}

/** A float list column's values, concatenated over its record batches (rows may differ in length). */
export function flatList(table: Table, name: string): Float32Array {
  const parts: Float32Array[] = [];
  for (const data of table.getChild(name)!.data as Data[]) {
    const child = data.children[0] as Data;
    const offsets = data.valueOffsets as Int32Array;
    parts.push((child.values as Float32Array).subarray(child.offset + (offsets[data.offset] ?? 0), child.offset + (offsets[data.offset + data.length] ?? 0)));
  }
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Flattens a list column whose rows must all hold `width` values; a row of
 * another length throws, naming `what` (the file's layout), the column and the row.
 */
export function fixedLists<T extends Float32Array | Float64Array>(vector: Vector, rows: number, width: number, Out: new (n: number) => T, what: string, name: string): T {
  const out = new Out(rows * width);
  let row = 0;
  for (const data of vector.data as Data[]) {
    const offsets = data.valueOffsets as Int32Array;
    const child = data.children[0] as Data;
    const values = child.values as Float32Array | Float64Array;
    for (let i = 0; i < data.length; i++, row++) {
      const start = offsets[data.offset + i] ?? 0;
      const end = offsets[data.offset + i + 1] ?? 0;
      if (end - start !== width) throw new Error(`${what}: ${name} row ${row} has ${end - start} values, expected ${width}`);
      out.set(values.subarray(child.offset + start, child.offset + end), row * width);
    }
  }
  return out;
}

/** Values in the first row of a list column. */
export function firstListLength(vector: Vector): number {
  const data = vector.data[0] as Data;
  const offsets = data.valueOffsets as Int32Array;
  return (offsets[data.offset + 1] ?? 0) - (offsets[data.offset] ?? 0);
}
