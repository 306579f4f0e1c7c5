/**
 * Where a training loop's rows come from: a features stage's Parquet parts,
 * streamed from storage (training), or rows held in memory (a tuning trial's
 * folds of a small sample). The trainer sees only this interface.
 */
import { Rng } from '../common/rng.js';
import type { Storage } from '../storage/index.js';
import { epochRows, orderedRows, shuffled, type DataNeeds, type PartRef, type Row } from './data.js';

export interface TrainingData {
  readonly trainRows: number;
  readonly testRows: number;
  /** The training rows of one epoch, in an order that is a function of (seed, epoch). */
  epoch(needs: DataNeeds, opts: { seed: number; epoch: number; bufferSize: number }): AsyncIterable<Row>;
  /** The test rows, always in the same order (predictions line up with it). */
  test(needs: DataNeeds): AsyncIterable<Row>;
}

const rowsOf = (parts: PartRef[]) => parts.reduce((s, p) => s + p.rows, 0);

export function storedData(storage: Storage, train: PartRef[], test: PartRef[]): TrainingData {
  return {
    trainRows: rowsOf(train),
    testRows: rowsOf(test),
    epoch: (needs, opts) => epochRows(storage, train, needs, opts),
    test: (needs) => orderedRows(storage, test, needs),
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
    epoch: (_needs, opts) => iterate(shuffled(train, new Rng(opts.seed, opts.epoch, 0x7e57))),
    test: () => iterate(test),
  };
}

async function* iterate(rows: readonly Row[]): AsyncGenerator<Row> {
  yield* rows;
}
