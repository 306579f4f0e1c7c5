/**
 * The features (stage-2) Parquet layout the models read: one row per
 * event, `HLF_input` (14 float32, min-max scaled), `GRU_input` (n × 19 float32,
 * flat, particle-major: sorted and standardised), `label` (int8),
 * `encoded_label` (3 float32, one-hot), provenance (`source_file`, `entry`) and
 * the row's seeded `shuffle_key` (train parts are sorted by it).
 */
import { Field, Float32, Float64, Int8, Int64, makeData, RecordBatch, Schema, Struct, Utf8, type List, type Table } from 'apache-arrow';
import { flatList, listData, listOf, metadataValue, openParquet, readTable, utf8Data, ParquetStreamEncoder, type ByteSource, type ParquetFile } from '../../parquet/index.js';
import { CLASSES, HLF_FEATURES as HLF, PARTICLE_FEATURES, PARTICLES_METADATA_KEY } from '../layout.js';
import { writerProperties } from '../ingest/parquet.js';

const f32List = () => listOf(new Float32());

export const FEATURES_SCHEMA = new Schema([
  new Field('HLF_input', f32List(), false),
  new Field('GRU_input', f32List(), false),
  new Field('label', new Int8(), false),
  new Field('encoded_label', f32List(), false),
  new Field('source_file', new Utf8(), false),
  new Field('entry', new Int64(), false),
  new Field('shuffle_key', new Float64(), false),
]);

export interface FeaturesRow {
  hlf: Float32Array;
  gru: Float32Array;
  label: number;
  sourceFile: string;
  entry: number;
  shuffleKey: number;
}

/** Rows to a ZSTD Parquet file in row groups of `rowGroupSize` (the unit a trainer streams). */
export class FeaturesParquetWriter {
  private readonly encoder: ParquetStreamEncoder;
  private readonly hlf: Float32Array;
  private readonly gru: Float32Array;
  private readonly label: Int8Array;
  private readonly encoded: Float32Array;
  private readonly entry: BigInt64Array;
  private readonly key: Float64Array;
  private readonly files: string[] = [];
  private readonly gruWidth: number;
  private length = 0;
  private added = 0;

  constructor(private readonly opts: { rowGroupSize: number; particles: number }) {
    this.gruWidth = opts.particles * PARTICLE_FEATURES;
    const n = opts.rowGroupSize;
    this.hlf = new Float32Array(n * HLF);
    this.gru = new Float32Array(n * this.gruWidth);
    this.label = new Int8Array(n);
    this.encoded = new Float32Array(n * CLASSES);
    this.entry = new BigInt64Array(n);
    this.key = new Float64Array(n);
    this.encoder = new ParquetStreamEncoder(writerProperties(n, opts.particles));
  }

  get rows(): number {
    return this.added;
  }

  add(row: FeaturesRow): void {
    const i = this.length++;
    this.hlf.set(row.hlf, i * HLF);
    this.gru.set(row.gru, i * this.gruWidth);
    this.label[i] = row.label;
    this.encoded.fill(0, i * CLASSES, (i + 1) * CLASSES);
    this.encoded[i * CLASSES + row.label] = 1;
    this.entry[i] = BigInt(row.entry);
    this.key[i] = row.shuffleKey;
    this.files.push(row.sourceFile);
    this.added++;
    if (this.length === this.opts.rowGroupSize) this.flush();
  }

  finish(): AsyncIterable<Uint8Array> {
    if (this.length > 0 || this.added === 0) this.flush();
    this.encoder.close();
    return this.encoder.bytes();
  }

  private flush(): void {
    const n = this.length;
    const children = [
      listData(FEATURES_SCHEMA.fields[0]!.type as List<Float32>, new Float32(), this.hlf.subarray(0, n * HLF), n, HLF),
      listData(FEATURES_SCHEMA.fields[1]!.type as List<Float32>, new Float32(), this.gru.subarray(0, n * this.gruWidth), n, this.gruWidth),
      makeData({ type: new Int8(), length: n, nullCount: 0, data: this.label.subarray(0, n) }),
      listData(FEATURES_SCHEMA.fields[3]!.type as List<Float32>, new Float32(), this.encoded.subarray(0, n * CLASSES), n, CLASSES),
      utf8Data(this.files),
      makeData({ type: new Int64(), length: n, nullCount: 0, data: this.entry.subarray(0, n) }),
      makeData({ type: new Float64(), length: n, nullCount: 0, data: this.key.subarray(0, n) }),
    ];
    this.encoder.push(new RecordBatch(FEATURES_SCHEMA, makeData({ type: new Struct(FEATURES_SCHEMA.fields), length: n, nullCount: 0, children })));
    this.length = 0;
    this.files.length = 0;
  }
}

export interface FeaturesColumns {
  rows: number;
  particles: number;
  hlf: Float32Array;
  gru: Float32Array;
  label: Int8Array;
  sourceFile: string[];
  entry: Float64Array;
  /** Absent in files from other writers (e.g. the Python reference). */
  shuffleKey?: Float64Array;
}

/** The model inputs of one row group (see `FeaturesFile.readInputs`). */
export interface ModelInputs {
  rows: number;
  particles: number;
  /** rows × 14 */
  hlf: Float32Array;
  /** rows × particles × 19, when read */
  gru: Float32Array | undefined;
  label: Int8Array;
}

/** A whole stage-2 file in memory (tests, small sets; trainers stream row groups). */
export async function readFeaturesParquet(bytes: Uint8Array): Promise<FeaturesColumns> {
  const file = await openParquet(bytes);
  try {
    return columnsOf(await readTable(file), particlesOf(file));
  } finally {
    file.free();
  }
}

/** Random access to a stage-2 file's row groups (a trainer reads them in a shuffled order). */
export class FeaturesFile {
  private constructor(
    private readonly file: ParquetFile,
    readonly particles: number,
    readonly rowGroups: number,
    readonly rows: number,
  ) {}

  /** From the whole file, or from a byte source (then only the footer and the column chunks read are fetched). */
  static async open(data: Uint8Array | ByteSource): Promise<FeaturesFile> {
    const file = await openParquet(data);
    const meta = file.metadata();
    return new FeaturesFile(file, particlesOf(file), meta.numRowGroups(), meta.fileMetadata().numRows());
  }

  /**
   * Only what a model reads from one row group: HLF, label and, when asked,
   * the particle lists (most of the bytes; an HLF-only model skips decoding them).
   */
  async readInputs(group: number, opts: { particles: boolean }): Promise<ModelInputs> {
    const columns = ['HLF_input', 'label', ...(opts.particles ? ['GRU_input'] : [])];
    const table = await readTable(this.file, { rowGroups: [group], columns });
    return {
      rows: table.numRows,
      particles: this.particles,
      hlf: flatList(table, 'HLF_input'),
      gru: opts.particles ? flatList(table, 'GRU_input') : undefined,
      label: labelsOf(table),
    };
  }

  free(): void {
    this.file.free();
  }
}

/** One row group at a time (memory: one group), for trainers streaming batches. */
export async function* readFeaturesRowGroups(bytes: Uint8Array): AsyncGenerator<FeaturesColumns> {
  const file = await openParquet(bytes);
  try {
    const particles = particlesOf(file);
    for (let g = 0; g < file.metadata().numRowGroups(); g++) {
      yield columnsOf(await readTable(file, { rowGroups: [g] }), particles);
    }
  } finally {
    file.free();
  }
}

/**
 * The training set in its global seeded order: train parts are each sorted by
 * `shuffle_key`, so a k-way merge of their row groups yields the whole set
 * shuffled while holding one row group per part. Yields one row at a time as
 * views into the current row groups (copy what you keep).
 */
export async function* mergeByShuffleKey(parts: Array<() => Promise<Uint8Array>>): AsyncGenerator<{ cols: FeaturesColumns; row: number }> {
  interface Cursor { groups: AsyncGenerator<FeaturesColumns>; cols: FeaturesColumns; row: number }
  const cursors: Cursor[] = [];
  const advance = async (c: Cursor): Promise<boolean> => {
    while (++c.row >= c.cols.rows) {
      const next = await c.groups.next();
      if (next.done) return false;
      c.cols = next.value;
      c.row = -1;
    }
    return true;
  };
  for (const load of parts) {
    const groups = readFeaturesRowGroups(await load());
    const first = await groups.next();
    if (first.done) continue;
    const c: Cursor = { groups, cols: first.value, row: -1 };
    if (!c.cols.shuffleKey) throw new Error('mergeByShuffleKey: a part has no shuffle_key column');
    if (await advance(c)) cursors.push(c);
  }
  const keyOf = (c: Cursor) => c.cols.shuffleKey![c.row]!;
  const before = (a: Cursor, b: Cursor) => {
    const ka = keyOf(a);
    const kb = keyOf(b);
    if (ka !== kb) return ka < kb;
    const fa = a.cols.sourceFile[a.row]!;
    const fb = b.cols.sourceFile[b.row]!;
    return fa !== fb ? fa < fb : a.cols.entry[a.row]! < b.cols.entry[b.row]!;
  };
  while (cursors.length) {
    let best = 0;
    for (let i = 1; i < cursors.length; i++) if (before(cursors[i]!, cursors[best]!)) best = i;
    const c = cursors[best]!;
    yield { cols: c.cols, row: c.row };
    if (!(await advance(c))) cursors.splice(best, 1);
  }
}

function particlesOf(file: ParquetFile): number {
  return Number(metadataValue(file, PARTICLES_METADATA_KEY) ?? 0);
}

const labelsOf = (table: Table) => Int8Array.from(table.getChild('label')!.toArray() as ArrayLike<number>);

function columnsOf(table: Table, particles: number): FeaturesColumns {
  return {
    rows: table.numRows,
    particles,
    hlf: flatList(table, 'HLF_input'),
    gru: flatList(table, 'GRU_input'),
    label: labelsOf(table),
    sourceFile: Array.from(table.getChild('source_file')!, String),
    entry: Float64Array.from(table.getChild('entry')!.toArray() as ArrayLike<bigint>, Number),
    ...(table.getChild('shuffle_key') ? { shuffleKey: Float64Array.from(table.getChild('shuffle_key')!.toArray() as ArrayLike<number>) } : {}),
  };
}
