/**
 * Stage 1 on one ROOT file (or an entry range of it): read Delphes events,
 * select and build features, write one Parquet part. Plain function, shared by
 * the `ingest` stage kind, tests and benchmarks.
 */
import { IngestProcessor } from './processor.js';
import type { IngestConfig } from './config.js';
import type { RejectReason } from './selection.js';
import type { RootFile } from '../../root/read/index.js';
import { readDelphesEvents } from '../delphes.js';
import { IngestParquetWriter } from './parquet.js';
import { particleRows } from '../layout.js';

export const REJECT_REASONS: readonly RejectReason[] = ['no_lepton', 'empty_maps', 'lepton_below_pt', 'not_isolated'];

export interface IngestFileOptions {
  config: IngestConfig;
  label: number;
  /** Provenance written in every row. */
  sourceFile: string;
  range?: { first?: number; count?: number };
  rowGroupSize?: number;
  /** Called every `progressEvery` events with the number read so far. */
  onProgress?: (read: number) => void;
  progressEvery?: number;
  signal?: AbortSignal;
}

export interface IngestFileResult {
  /** The Parquet part, encoded as it streams out (row groups were encoded while reading). */
  parquet: AsyncIterable<Uint8Array>;
  read: number;
  selected: number;
  rejected: Record<RejectReason, number>;
}

export async function ingestRootFile(root: RootFile, o: IngestFileOptions): Promise<IngestFileResult> {
  const { config } = o;
  const processor = new IngestProcessor(config);
  const writer = new IngestParquetWriter({ rowGroupSize: o.rowGroupSize ?? 1000, particles: particleRows(config) });
  const rejected = Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as Record<RejectReason, number>;
  const every = o.progressEvery ?? 500;
  let read = 0;
  await readDelphesEvents(root, (entry, ev) => {
    if (o.signal?.aborted) throw new Error('cancelled');
    read++;
    const r = processor.process(ev);
    if (r.selected) writer.add({ hfeatures: r.hfeatures, lfeatures: r.lfeatures, label: o.label, sourceFile: o.sourceFile, entry });
    else rejected[r.reason]++;
    if (read % every === 0) o.onProgress?.(read);
  }, o.range);
  return { parquet: writer.finish(), read, selected: writer.rows, rejected };
}
