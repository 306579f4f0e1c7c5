/**
 * Where a training loop's batches come from: a features stage's Parquet
 * parts, streamed from storage (training), or rows held in memory (a tuning
 * trial's folds of a small sample). The trainer sees only this interface.
 */
import { Rng } from '../common/rng.js';
import type { Storage } from '../storage/index.js';
import { KeptGroups } from './keptGroups.js';
import { batchesOf, epochBatches, orderedRows, shuffled, type Batch, type DataNeeds, type PartRef, type Row } from './data.js';

export interface EpochRequest {
  seed: number;
  epoch: number;
  bufferSize: number;
  batchSize: number;
  /** Batches to leave out at the start (a resumed epoch's, already trained on). */
  skip?: number;
}

export interface TrainingData {
  readonly trainRows: number;
  readonly testRows: number;
  /** The training batches of one epoch, in an order that is a function of (seed, epoch) and the batch size. */
  epoch(needs: DataNeeds, opts: EpochRequest): AsyncIterable<Batch>;
  /** The test rows, always in the same order (predictions line up with it). */
  test(needs: DataNeeds): AsyncIterable<Row>;
  /** Frees what the source holds beyond its epochs (a prefetch worker thread); the owner calls it when training ends. */
  close?(): Promise<void>;
}

const rowsOf = (parts: PartRef[]) => parts.reduce((s, p) => s + p.rows, 0);

/**
 * Row groups decoded in one epoch are kept for the next ones, within a budget
 * (see keptGroups.ts); `kept` may outlive this object (a data-parallel
 * worker's rounds share one).
 */
export function storedData(storage: Storage, train: PartRef[], test: PartRef[], kept = new KeptGroups()): TrainingData {
  return {
    trainRows: rowsOf(train),
    testRows: rowsOf(test),
    epoch: (needs, opts) => epochBatches(storage, train, needs, { ...opts, kept }),
    test: (needs) => orderedRows(storage, test, needs, { kept }),
  };
}

/**
 * Rows already decoded with the needs they will be used with (their `length`
 * reflects trimming). Each epoch is a full seeded shuffle: the buffer size
 * does not matter when everything fits in memory.
 */
export function memoryData(train: readonly Row[], test: readonly Row[]): TrainingData {
  return {
    trainRows: train.length,
    testRows: test.length,
    epoch: (needs, opts) => batchesOf(shuffled(train, new Rng(opts.seed, opts.epoch, 0x7e57)), opts.batchSize, needs, opts.skip),
    test: () => iterate(test),
  };
}

async function* iterate(rows: readonly Row[]): AsyncGenerator<Row> {
  yield* rows;
}
