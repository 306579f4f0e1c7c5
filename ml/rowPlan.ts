/**
 * Which rows of a masked batch a recurrent loop runs at each time step.
 *
 * A masked step leaves a row's state as it is, so a row's steps after its
 * last unmasked one change nothing and can be skipped. With the rows sorted
 * longest first, the rows still running at step t are a prefix of the
 * batch, and the loop runs the cell on that prefix only: like cuDNN's packed
 * sequences. Particle lists are zero-padded to the longest event, and in a
 * batch of 128 events the mean length is about half the longest (demo data),
 * so about half the cell's arithmetic goes.
 */

export interface RowPlan {
  /** Row i of the sorted batch is row order[i] of the batch; null: the batch's own order. */
  order: Int32Array | null;
  /** Rows run at each step (a prefix of the sorted batch, never growing); its length is the number of steps run. */
  running: number[];
}

/** Every row at every step. */
export function fullPlan(batch: number, time: number): RowPlan {
  return { order: null, running: new Array<number>(time).fill(batch) };
}

/**
 * The plan for rows of `lengths`: sorted longest first (ties in batch
 * order), rows of length 0 never run. The running prefix shrinks to the
 * unfinished rows once at least an eighth of it has finished: each shrink
 * costs an op or two, and a finished row kept running only repeats masked
 * steps, which change nothing.
 */
export function packedPlan(lengths: Int32Array): RowPlan {
  const batch = lengths.length;
  const sorted = Int32Array.from(lengths.keys()).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  const identity = sorted.every((row, i) => row === i);
  const steps = batch ? lengths[sorted[0]!]! : 0;
  const running: number[] = [];
  let unfinished = batch;
  let current = -1;
  for (let t = 0; t < steps; t++) {
    while (unfinished > 0 && lengths[sorted[unfinished - 1]!]! <= t) unfinished--;
    if (current < 0 || current - unfinished >= Math.max(1, Math.ceil(current / 8))) current = unfinished;
    running.push(current);
  }
  return { order: identity ? null : sorted, running };
}

/** Whether the plan runs every row at every one of `time` steps in the batch's order (nothing to gain from it). */
export function runsEverything(plan: RowPlan, batch: number, time: number): boolean {
  return plan.order === null && plan.running.length === time && plan.running.every((k) => k === batch);
}
