/** One row group's worth of stage-1 rows in preallocated columns, turned into an Arrow record batch. */
import { Float32, Float64, Int64, makeData, RecordBatch, Struct, Utf8, type List } from 'apache-arrow';
import { HFEATURES, HFEATURES_TYPE, LFEATURES_TYPE, PARTICLE_FEATURES, INGEST_SCHEMA } from './schema.js';

export interface IngestRow {
  hfeatures: Float64Array | number[];
  /** particles x 19, row-major. */
  lfeatures: Float32Array;
  /** 0 QCD, 1 ttbar, 2 W+jets */
  label: number;
  sourceFile: string;
  /** Entry number in the source file's TTree. */
  entry: number;
}

export class RowGroupBuffer {
  length = 0;
  private readonly hfeatures: Float64Array;
  private readonly lfeatures: Float32Array;
  private readonly label: BigInt64Array;
  private readonly entry: BigInt64Array;
  private readonly sourceFile: string[] = [];
  private readonly lfeaturesPerRow: number;

  constructor(
    readonly capacity: number,
    particles: number,
  ) {
    this.lfeaturesPerRow = particles * PARTICLE_FEATURES;
    this.hfeatures = new Float64Array(capacity * HFEATURES);
    this.lfeatures = new Float32Array(capacity * this.lfeaturesPerRow);
    this.label = new BigInt64Array(capacity);
    this.entry = new BigInt64Array(capacity);
  }

  get full(): boolean {
    return this.length === this.capacity;
  }

  /** Checks the row, then copies it in (the caller may reuse its arrays). */
  add(row: IngestRow): void {
    if (this.full) throw new Error('row group is full');
    checkRow(row, this.lfeaturesPerRow);
    const i = this.length++;
    this.hfeatures.set(row.hfeatures, i * HFEATURES);
    this.lfeatures.set(row.lfeatures, i * this.lfeaturesPerRow);
    this.label[i] = BigInt(row.label);
    this.entry[i] = BigInt(row.entry);
    this.sourceFile.push(row.sourceFile);
  }

  /** The rows so far as a record batch viewing this buffer: encode it before the next add(). */
  toRecordBatch(): RecordBatch {
    const n = this.length;
    const children = [
      listData(HFEATURES_TYPE, new Float64(), this.hfeatures.subarray(0, n * HFEATURES), n, HFEATURES),
      listData(LFEATURES_TYPE, new Float32(), this.lfeatures.subarray(0, n * this.lfeaturesPerRow), n, this.lfeaturesPerRow),
      makeData({ type: new Int64(), length: n, nullCount: 0, data: this.label.subarray(0, n) }),
      utf8Data(this.sourceFile),
      makeData({ type: new Int64(), length: n, nullCount: 0, data: this.entry.subarray(0, n) }),
    ];
    return new RecordBatch(INGEST_SCHEMA, makeData({ type: new Struct(INGEST_SCHEMA.fields), length: n, nullCount: 0, children }));
  }

  clear(): void {
    this.length = 0;
    this.sourceFile.length = 0;
  }
}

function checkRow(row: IngestRow, lfeaturesPerRow: number): void {
  if (row.hfeatures.length !== HFEATURES) throw new RangeError(`stage-1 row: hfeatures has ${row.hfeatures.length} values, expected ${HFEATURES}`);
  if (!(row.lfeatures instanceof Float32Array) || row.lfeatures.length !== lfeaturesPerRow) {
    throw new RangeError(`stage-1 row: lfeatures must be a Float32Array of ${lfeaturesPerRow} values, got ${row.lfeatures.length}`);
  }
  if (!Number.isSafeInteger(row.label)) throw new RangeError(`stage-1 row: label must be an integer, got ${row.label}`);
  if (!Number.isSafeInteger(row.entry) || row.entry < 0) throw new RangeError(`stage-1 row: entry must be a non-negative integer, got ${row.entry}`);
  if (typeof row.sourceFile !== 'string') throw new TypeError('stage-1 row: sourceFile must be a string');
}

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
