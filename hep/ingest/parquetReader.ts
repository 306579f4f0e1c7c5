/** Reading ingest (stage-1) Parquet files (ours, or any with the same columns) back into flat typed arrays. */
import type { Table, Vector } from 'apache-arrow';
import { firstListLength, fixedLists, metadataValue, openParquet, readTable, type ParquetFile } from '../../parquet/index.js';
import { HLF_FEATURES, PARTICLE_FEATURES, PARTICLES_METADATA_KEY } from '../layout.js';
import { INGEST_COLUMNS, type IngestColumnName } from './parquet.js';

/** Columns of `rows` rows; only the requested ones are present. Row-major, like the file. */
export interface IngestColumns {
  rows: number;
  /** Particle rows per event (lfeatures has particles x 19 values per row); 0 if unknown (no metadata, lfeatures not read, no rows). */
  particles: number;
  /** rows x 14 */
  hfeatures?: Float64Array;
  /** rows x particles x 19 */
  lfeatures?: Float32Array;
  label?: Int32Array;
  sourceFile?: string[];
  entry?: Float64Array;
}

export interface IngestReadOptions {
  /** Parquet column names (default: all five). */
  columns?: IngestColumnName[];
}

/** The whole file (or the requested columns) in memory. */
export async function readIngestParquet(bytes: Uint8Array, opts: IngestReadOptions = {}): Promise<IngestColumns> {
  const file = await openIngestFile(bytes, opts);
  try {
    let out: IngestColumns | undefined;
    let at = 0;
    for (let group = 0; group < file.groups; group++) {
      const part = await readGroup(file, group);
      // Allocated after the first group, which tells the particle count of files without our metadata.
      out ??= allocate(file.rows, part.particles, file.columns);
      copyInto(out, part, at);
      at += part.rows;
    }
    return out ?? allocate(0, file.particles, file.columns);
  } finally {
    file.parquet.free();
  }
}

/** One row group at a time, for readers that stream (memory: one group). */
export async function* readIngestRowGroups(bytes: Uint8Array, opts: IngestReadOptions = {}): AsyncGenerator<IngestColumns> {
  const file = await openIngestFile(bytes, opts);
  try {
    for (let group = 0; group < file.groups; group++) yield await readGroup(file, group);
  } finally {
    file.parquet.free();
  }
}

interface IngestFile {
  parquet: ParquetFile;
  rows: number;
  groups: number;
  /** From our key-value metadata; 0 when absent (then taken from the first row's lfeatures). */
  particles: number;
  columns: IngestColumnName[];
}

async function openIngestFile(bytes: Uint8Array, opts: IngestReadOptions): Promise<IngestFile> {
  const columns = opts.columns ?? [...INGEST_COLUMNS];
  const unknown = columns.filter((c) => !(INGEST_COLUMNS as readonly string[]).includes(c));
  if (unknown.length > 0) throw new RangeError(`unknown stage-1 column(s) ${unknown.join(', ')}; expected some of ${INGEST_COLUMNS.join(', ')}`);
  const parquet = await openParquet(bytes);
  const meta = parquet.metadata();
  const particles = Number(metadataValue(parquet, PARTICLES_METADATA_KEY) ?? 0);
  return { parquet, rows: meta.fileMetadata().numRows(), groups: meta.numRowGroups(), particles, columns };
}

async function readGroup(file: IngestFile, group: number): Promise<IngestColumns> {
  const table = await readTable(file.parquet, { rowGroups: [group], columns: file.columns });
  const rows = table.numRows;
  const out: IngestColumns = { rows, particles: file.particles };
  for (const name of file.columns) {
    const vector = column(table, name);
    if (name === 'hfeatures') out.hfeatures = fixedLists(vector, rows, HLF_FEATURES, Float64Array, 'stage-1 Parquet', name);
    if (name === 'lfeatures') {
      out.particles ||= rows > 0 ? firstListLength(vector) / PARTICLE_FEATURES : 0;
      out.lfeatures = fixedLists(vector, rows, out.particles * PARTICLE_FEATURES, Float32Array, 'stage-1 Parquet', name);
    }
    if (name === 'label') out.label = Int32Array.from(vector.toArray() as ArrayLike<bigint | number>, Number);
    if (name === 'entry') out.entry = Float64Array.from(vector.toArray() as ArrayLike<bigint | number>, Number);
    if (name === 'source_file') out.sourceFile = Array.from(vector, String);
  }
  return out;
}

function column(table: Table, name: string): Vector {
  const vector = table.getChild(name);
  if (!vector) throw new Error(`stage-1 Parquet: no column ${name}`);
  return vector;
}

function allocate(rows: number, particles: number, columns: IngestColumnName[]): IngestColumns {
  const out: IngestColumns = { rows, particles };
  for (const name of columns) {
    if (name === 'hfeatures') out.hfeatures = new Float64Array(rows * HLF_FEATURES);
    if (name === 'lfeatures') out.lfeatures = new Float32Array(rows * particles * PARTICLE_FEATURES);
    if (name === 'label') out.label = new Int32Array(rows);
    if (name === 'entry') out.entry = new Float64Array(rows);
    if (name === 'source_file') out.sourceFile = [];
  }
  return out;
}

function copyInto(out: IngestColumns, part: IngestColumns, at: number): void {
  out.hfeatures?.set(part.hfeatures ?? [], at * HLF_FEATURES);
  out.lfeatures?.set(part.lfeatures ?? [], at * out.particles * PARTICLE_FEATURES);
  out.label?.set(part.label ?? [], at);
  out.entry?.set(part.entry ?? [], at);
  out.sourceFile?.push(...(part.sourceFile ?? []));
}
