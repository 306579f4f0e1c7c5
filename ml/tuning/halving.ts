/**
 * Successive halving (Jamieson & Talwalkar 2016; scikit-learn's
 * HalvingGridSearchCV) with epochs as the budget: every candidate trains a few
 * epochs, the best 1/eta go on with eta times as many, until the last rung,
 * where the survivors train their full epochs. A candidate that is not
 * promoted is pruned at its rung. Pure.
 */

export interface HalvingSettings {
  /** Candidates kept at each rung: the best ceil(n / eta). */
  eta: number;
  /** The first rung's budget. */
  minEpochs: number;
}

/**
 * Epoch budgets per rung: minEpochs · eta^r, as many rungs as both the
 * candidates (each rung keeps 1/eta of them) and the epochs (the budget grows
 * by eta up to `maxEpochs`) allow; the last rung is always `maxEpochs`.
 */
export function rungBudgets(candidates: number, maxEpochs: number, s: HalvingSettings): number[] {
  const byCandidates = Math.floor(Math.log(Math.max(1, candidates)) / Math.log(s.eta) + 1e-9);
  const byEpochs = Math.floor(Math.log(Math.max(1, maxEpochs / s.minEpochs)) / Math.log(s.eta) + 1e-9);
  const rungs = 1 + Math.min(byCandidates, byEpochs);
  return Array.from({ length: rungs }, (_, r) => (r === rungs - 1 ? maxEpochs : Math.round(s.minEpochs * s.eta ** r)));
}

/** How many candidates of `n` go on to the next rung. */
export const promotedCount = (n: number, eta: number) => Math.max(1, Math.ceil(n / eta));

/**
 * The `keep` best candidates, best first. A NaN score (a diverged trial)
 * ranks last; ties go to the lower id, so the choice never depends on timing.
 */
export function promote<T extends { id: number; score: number }>(scored: readonly T[], keep: number, higherIsBetter: boolean): T[] {
  const rank = (x: T) => (Number.isNaN(x.score) ? Number.POSITIVE_INFINITY : higherIsBetter ? -x.score : x.score);
  return [...scored].sort((a, b) => rank(a) - rank(b) || a.id - b.id).slice(0, keep);
}
