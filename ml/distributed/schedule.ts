/**
 * Data-parallel training's arithmetic, without TensorFlow.js: which rounds
 * an epoch has and which rows of the epoch's stream each worker trains on.
 *
 * Each epoch's stream (ml/data.ts, a function of seed and epoch) is cut into
 * global steps of `workers × batchSize` rows; in a global step worker w takes
 * the w-th run of `batchSize` rows. So the workers' slices are disjoint, every
 * row is used once per epoch, and with `syncEvery: 1` a round is one step of
 * synchronous SGD over a batch `workers` times larger. A round is up to
 * `syncEvery` global steps and never crosses an epoch's end (validation runs
 * there).
 */

export interface Topology {
  /** Training rows per epoch. */
  rows: number;
  workers: number;
  batchSize: number;
  /** Global steps per round. */
  syncEvery: number;
}

/** A round's place: its epoch, its first global step within the epoch, and how many steps. */
export interface RoundPlace {
  epoch: number;
  fromStep: number;
  steps: number;
}

export const stepsPerEpoch = (t: Topology): number => Math.ceil(t.rows / (t.workers * t.batchSize));
export const roundsPerEpoch = (t: Topology): number => Math.ceil(stepsPerEpoch(t) / t.syncEvery);

/** The first round of an epoch. */
export function firstRound(t: Topology, epoch: number): RoundPlace {
  return { epoch, fromStep: 0, steps: Math.min(t.syncEvery, stepsPerEpoch(t)) };
}

/** The round after `r` within its epoch, or null when `r` ends the epoch. */
export function nextInEpoch(t: Topology, r: RoundPlace): RoundPlace | null {
  const from = r.fromStep + r.steps;
  const total = stepsPerEpoch(t);
  return from < total ? { epoch: r.epoch, fromStep: from, steps: Math.min(t.syncEvery, total - from) } : null;
}

/** The batch (of `batchSize` rows, in the epoch's stream) that `worker` trains on in global step `step`: rows `workerRows`. */
export const workerBatch = (t: Topology, step: number, worker: number): number => step * t.workers + worker;

/** Rows [start, end) of the epoch's stream that `worker` trains on in global step `step` (may be empty at the epoch's end). */
export function workerRows(t: Topology, step: number, worker: number): { start: number; end: number } {
  const start = Math.min(t.rows, step * t.workers * t.batchSize + worker * t.batchSize);
  return { start, end: Math.min(t.rows, start + t.batchSize) };
}

/** Rows `worker` trains on in a round. */
export function rowsInRound(t: Topology, r: RoundPlace, worker: number): number {
  let n = 0;
  for (let s = r.fromStep; s < r.fromStep + r.steps; s++) {
    const { start, end } = workerRows(t, s, worker);
    n += end - start;
  }
  return n;
}
