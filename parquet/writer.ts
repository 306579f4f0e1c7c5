/** IngestParquetWriter: stage-1 rows to a ZSTD Parquet file, one row group at a time. */
import * as wasm from 'parquet-wasm';
import { ParquetStreamEncoder } from './encoder.js';
import { RowGroupBuffer, type IngestRow } from './rowGroup.js';
import { PARTICLE_FEATURES, PARTICLES_METADATA_KEY } from './schema.js';

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
  private readonly group: RowGroupBuffer;
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
    this.group = new RowGroupBuffer(rowGroupSize, particles);
    this.encoder = new ParquetStreamEncoder(zstdWriterProperties(rowGroupSize, particles));
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

/** ZSTD, dictionary only on source_file, chunk statistics, the particle count in the metadata. */
export function zstdWriterProperties(rowGroupSize: number, particles: number): wasm.WriterProperties {
  return (
    new wasm.WriterPropertiesBuilder()
      .setCompression(wasm.Compression.ZSTD)
      .setMaxRowGroupSize(rowGroupSize)
      // Dictionaries only help the repeated file name; on floats they bloat the file.
      .setDictionaryEnabled(false)
      .setColumnDictionaryEnabled('source_file', true)
      .setStatisticsEnabled(wasm.EnabledStatistics.Chunk)
      .setKeyValueMetadata(new Map([[PARTICLES_METADATA_KEY, String(particles)]]))
      .build()
  );
}

/** Concatenates a finished writer's output (tests, small files). */
export async function collectBytes(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}
