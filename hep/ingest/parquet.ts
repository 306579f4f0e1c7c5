/**
 * The ingest (stage-1) Parquet layout: one row per selected event. Columns are
 * non-nullable; the particle matrix is one flat row-major list<float> (a
 * FixedSizeList is not needed: every row has the same length, recorded in the
 * file's key-value metadata). IngestParquetWriter writes it one row group at a time.
 */
import { Field, Float32, Float64, Int64, makeData, RecordBatch, Schema, Struct, Utf8 } from 'apache-arrow';
import { listData, listOf, ParquetStreamEncoder, utf8Data, zstdWriterProperties } from '../../parquet/index.js';
import { HLF_FEATURES, PARTICLE_FEATURES, PARTICLES_METADATA_KEY } from '../layout.js';

export const INGEST_COLUMNS = ['hfeatures', 'lfeatures', 'label', 'source_file', 'entry'] as const;
export type IngestColumnName = (typeof INGEST_COLUMNS)[number];

export const HLF_LIST = listOf(new Float64());
export const PARTICLE_LIST = listOf(new Float32());

export const INGEST_SCHEMA = new Schema([
  new Field('hfeatures', HLF_LIST, false),
  new Field('lfeatures', PARTICLE_LIST, false),
  /** 0 QCD, 1 ttbar, 2 W+jets */
  new Field('label', new Int64(), false),
  new Field('source_file', new Utf8(), false),
  /** Entry number in the source file's TTree. */
  new Field('entry', new Int64(), false),
]);

/** ZSTD, dictionary only on source_file, the particle count in the metadata. */
export function writerProperties(rowGroupSize: number, particles: number) {
  return zstdWriterProperties(rowGroupSize, { dictionaryColumns: ['source_file'], metadata: { [PARTICLES_METADATA_KEY]: String(particles) } });
}

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

export class IngestRowGroup {
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
    this.hfeatures = new Float64Array(capacity * HLF_FEATURES);
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
    this.hfeatures.set(row.hfeatures, i * HLF_FEATURES);
    this.lfeatures.set(row.lfeatures, i * this.lfeaturesPerRow);
    this.label[i] = BigInt(row.label);
    this.entry[i] = BigInt(row.entry);
    this.sourceFile.push(row.sourceFile);
  }

  /** The rows so far as a record batch viewing this buffer: encode it before the next add(). */
  toRecordBatch(): RecordBatch {
    const n = this.length;
    const children = [
      listData(HLF_LIST, new Float64(), this.hfeatures.subarray(0, n * HLF_FEATURES), n, HLF_FEATURES),
      listData(PARTICLE_LIST, new Float32(), this.lfeatures.subarray(0, n * this.lfeaturesPerRow), n, this.lfeaturesPerRow),
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
  if (row.hfeatures.length !== HLF_FEATURES) throw new RangeError(`stage-1 row: hfeatures has ${row.hfeatures.length} values, expected ${HLF_FEATURES}`);
  if (!(row.lfeatures instanceof Float32Array) || row.lfeatures.length !== lfeaturesPerRow) {
    throw new RangeError(`stage-1 row: lfeatures must be a Float32Array of ${lfeaturesPerRow} values, got ${row.lfeatures.length}`);
  }
  if (!Number.isSafeInteger(row.label)) throw new RangeError(`stage-1 row: label must be an integer, got ${row.label}`);
  if (!Number.isSafeInteger(row.entry) || row.entry < 0) throw new RangeError(`stage-1 row: entry must be a non-negative integer, got ${row.entry}`);
  if (typeof row.sourceFile !== 'string') throw new TypeError('stage-1 row: sourceFile must be a string');
}

const DEFAULT_ROW_GROUP_SIZE = 1000;
/** Arrow list offsets are int32: a row group's particle values must stay below 2^31. */
const MAX_LIST_VALUES = 2 ** 31 - 1;

/**
 * add() copies rows into the current row group. A full group is handed to the
 * encoder, which runs the next time the event loop turns (root/read's TTree
 * reads yield every 2,000 entries): raw rows in memory stay at about what was
 * added since the last turn, plus the compressed bytes until finish()'s output
 * is consumed. finish() returns the whole file as chunks; consume it to the end.
 */
export class IngestParquetWriter {
  private readonly group: IngestRowGroup;
  private readonly encoder: ParquetStreamEncoder;
  private added = 0;
  private finished = false;

  constructor(opts: { rowGroupSize?: number; particles: number }) {
    const { rowGroupSize = DEFAULT_ROW_GROUP_SIZE, particles } = opts;
    if (!Number.isSafeInteger(particles) || particles < 1) throw new RangeError(`particles must be a positive integer, got ${particles}`);
    if (!Number.isSafeInteger(rowGroupSize) || rowGroupSize < 1) throw new RangeError(`rowGroupSize must be a positive integer, got ${rowGroupSize}`);
    if (rowGroupSize * particles * PARTICLE_FEATURES > MAX_LIST_VALUES) {
      throw new RangeError(`rowGroupSize ${rowGroupSize} x ${particles} particles x ${PARTICLE_FEATURES} exceeds 2^31 list values per row group`);
    }
    this.group = new IngestRowGroup(rowGroupSize, particles);
    this.encoder = new ParquetStreamEncoder(writerProperties(rowGroupSize, particles));
  }

  /** Rows added so far. */
  get rows(): number {
    return this.added;
  }

  /** Parquet bytes produced so far (row groups are encoded in the background, before finish()). */
  get encodedBytes(): number {
    return this.encoder.encodedBytes;
  }

  /** Checks and copies the row (its arrays may be reused afterwards). */
  add(row: IngestRow): void {
    if (this.finished) throw new Error('IngestParquetWriter: add() after finish()');
    this.group.add(row);
    this.added++;
    if (this.group.full) this.encodeGroup();
  }

  /** Encodes the last row group and the footer; yields the file's bytes from the start. Call once. */
  finish(): AsyncIterable<Uint8Array> {
    if (this.finished) throw new Error('IngestParquetWriter: finish() called twice');
    this.finished = true;
    // A file without rows still needs one (empty) batch: the encoder takes the schema from it.
    if (this.group.length > 0 || this.added === 0) this.encodeGroup();
    this.encoder.close();
    return this.encoder.bytes();
  }

  private encodeGroup(): void {
    this.encoder.push(this.group.toRecordBatch());
    this.group.clear();
  }
}
