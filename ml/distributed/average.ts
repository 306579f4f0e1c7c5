/**
 * The reduce of a round: the workers' tensors (weights, then Adam's first and
 * second moments) averaged element by element, each worker weighted by the
 * rows it trained on in the round, summed in double precision in worker order
 * and rounded once to float32. A function of the parts alone, so a re-run
 * reduce (its worker killed) writes the same bits.
 *
 * Why moments are averaged too: each worker continues from the same Adam
 * state, so averaging m and v keeps the optimizer's estimate of the gradient's
 * scale that all of them would have built on the combined rows; resetting them
 * (another common rule) restarts Adam's bias correction every round.
 */

export interface WorkerPart {
  /** The same tensors, in the same order and sizes, for every worker. */
  tensors: Float32Array[];
  /** Rows trained on in the round (0: the worker's slice was empty; it does not count). */
  rows: number;
}

export function averageParts(parts: readonly WorkerPart[]): Float32Array[] {
  const total = parts.reduce((s, p) => s + p.rows, 0);
  if (parts.length === 0 || total === 0) throw new Error('a round to reduce needs at least one worker part with rows');
  const first = parts[0]!.tensors;
  for (const [w, p] of parts.entries()) {
    if (p.tensors.length !== first.length || p.tensors.some((t, i) => t.length !== first[i]!.length)) {
      throw new Error(`worker ${w}'s part does not have the tensors of worker 0's (was the model changed between rounds?)`);
    }
  }
  return first.map((_, i) => {
    const out = new Float32Array(first[i]!.length);
    for (let j = 0; j < out.length; j++) {
      let sum = 0;
      for (const p of parts) if (p.rows > 0) sum += p.rows * p.tensors[i]![j]!;
      out[j] = sum / total;
    }
    return out;
  });
}
