/**
 * The `score` stage's Parquet layout: one row per event, its provenance
 * (`source_file`, `entry`), true `label` (int8), the three class scores
 * (`score_qcd`, `score_ttbar`, `score_wjets`, float32 softmax outputs) and
 * `selected` (bool: the signal class's score passes the working point's cut).
 */
import { Bool, Field, Float32, Int8, Int64, makeData, RecordBatch, Schema, Struct, Utf8 } from 'apache-arrow';
import { collectBytes, openParquet, readTable, utf8Data, zstdWriterProperties, ParquetStreamEncoder } from '../parquet/index.js';
import { CLASSES } from '../hep/layout.js';

export const SCORE_COLUMNS = ['score_qcd', 'score_ttbar', 'score_wjets'] as const;

export const SCORES_SCHEMA = new Schema([
  new Field('source_file', new Utf8(), false),
  new Field('entry', new Int64(), false),
  new Field('label', new Int8(), false),
  ...SCORE_COLUMNS.map((name) => new Field(name, new Float32(), false)),
  new Field('selected', new Bool(), false),
]);

export interface ScoredEvents {
  sourceFile: string[];
  entry: Float64Array;
  label: Int8Array;
  /** n × 3, row-major. */
  scores: Float32Array;
  selected: Uint8Array;
}

const ROW_GROUP = 16_384;

/** ZSTD Parquet bytes of the scored events, in row groups of 16,384 rows. */
export async function encodeScores(e: ScoredEvents): Promise<Uint8Array> {
  const n = e.label.length;
  const encoder = new ParquetStreamEncoder(zstdWriterProperties(ROW_GROUP, { dictionaryColumns: ['source_file'], metadata: {} }));
  for (let start = 0; start < n || (n === 0 && start === 0); start += ROW_GROUP) {
    const end = Math.min(n, start + ROW_GROUP);
    const rows = end - start;
    const column = (c: number) => Float32Array.from({ length: rows }, (_, i) => e.scores[(start + i) * CLASSES + c]!);
    const bits = new Uint8Array(Math.ceil(rows / 8));
    for (let i = 0; i < rows; i++) if (e.selected[start + i]) bits[i >> 3]! |= 1 << (i & 7);
    const children = [
      utf8Data(e.sourceFile.slice(start, end)),
      makeData({ type: new Int64(), length: rows, nullCount: 0, data: BigInt64Array.from(e.entry.subarray(start, end), (x) => BigInt(x)) }),
      makeData({ type: new Int8(), length: rows, nullCount: 0, data: e.label.subarray(start, end) }),
      ...SCORE_COLUMNS.map((_, c) => makeData({ type: new Float32(), length: rows, nullCount: 0, data: column(c) })),
      makeData({ type: new Bool(), length: rows, nullCount: 0, data: bits }),
    ];
    encoder.push(new RecordBatch(SCORES_SCHEMA, makeData({ type: new Struct(SCORES_SCHEMA.fields), length: rows, nullCount: 0, children })));
    if (n === 0) break;
  }
  encoder.close();
  return collectBytes(encoder.bytes());
}

/** A whole scores file back in memory (tests, small outputs). */
export async function readScores(bytes: Uint8Array): Promise<ScoredEvents> {
  const file = await openParquet(bytes);
  try {
    const table = await readTable(file);
    const n = table.numRows;
    const scores = new Float32Array(n * CLASSES);
    SCORE_COLUMNS.forEach((name, c) => {
      const values = table.getChild(name)!.toArray() as Float32Array;
      for (let i = 0; i < n; i++) scores[i * CLASSES + c] = values[i]!;
    });
    return {
      sourceFile: Array.from(table.getChild('source_file')!, String),
      entry: Float64Array.from(table.getChild('entry')!.toArray() as ArrayLike<bigint>, Number),
      label: Int8Array.from(table.getChild('label')!.toArray() as ArrayLike<number>),
      scores,
      selected: Uint8Array.from(table.getChild('selected')!, (b) => (b ? 1 : 0)),
    };
  } finally {
    file.free();
  }
}
