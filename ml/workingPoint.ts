/**
 * Working points of a one-vs-rest selector: the cut on the signal class's
 * score that keeps a chosen fraction of the signal (99 %, 95 %, 90 %), and
 * what it lets through of the rest: the false-positive rate, the background
 * rejection factor 1/FPR, and their binomial uncertainties given the sample
 * sizes. Plain arrays, no TensorFlow.js.
 *
 * The cut is the one scikit-learn's `roc_curve(drop_intermediate=False)` gives
 * at its first point with TPR >= target: keep events with score >= the k-th
 * highest signal score, k the smallest count with k/S >= target (tied scores
 * are all kept, so the efficiency can exceed the target).
 */

export interface WorkingPoint {
  /** Class index taken as signal (the rest is background). */
  signal: number;
  /** The efficiency asked for. */
  target: number;
  /** Keep events whose signal score is >= this. */
  threshold: number;
  signalEvents: number;
  backgroundEvents: number;
  selectedSignal: number;
  selectedBackground: number;
  /** selectedSignal / signalEvents, and its binomial standard error. */
  efficiency: number;
  efficiencyError: number;
  /** selectedBackground / backgroundEvents (the false-positive rate), and its binomial standard error. */
  fpr: number;
  fprError: number;
  /** 1 / fpr; null when no background passes (see rejectionLowerLimit). */
  rejection: number | null;
  /** fprError / fpr² (first-order propagation); null when fpr is 0. */
  rejectionError: number | null;
  /** When no background passes: 95 % CL lower limit on the rejection, backgroundEvents / 3 (the "rule of three"); else null. */
  rejectionLowerLimit: number | null;
}

export const STANDARD_EFFICIENCIES = [0.99, 0.95, 0.9] as const;

/**
 * Working points of `signal` against the rest. `probs` is n × k row-major
 * (column `signal` is the score), `labels` the true classes.
 */
export function workingPoints(probs: ArrayLike<number>, labels: ArrayLike<number>, k: number, signal: number, targets: readonly number[] = STANDARD_EFFICIENCIES): WorkingPoint[] {
  const n = labels.length;
  if (probs.length !== n * k) throw new RangeError(`workingPoints: ${probs.length} scores is not ${n} events × ${k} classes`);
  if (!Number.isInteger(signal) || signal < 0 || signal >= k) throw new RangeError(`workingPoints: signal class ${signal} is not in 0..${k - 1}`);
  const scores = new Float64Array(n);
  const isSignal = new Array<boolean>(n);
  for (let i = 0; i < n; i++) {
    scores[i] = probs[i * k + signal]!;
    isSignal[i] = labels[i] === signal;
  }
  return targets.map((t) => workingPoint(scores, isSignal, t, signal));
}

/** The working point of one selector at efficiency `target` ∈ (0, 1]. */
export function workingPoint(scores: ArrayLike<number>, isSignal: ArrayLike<boolean>, target: number, signal = 1): WorkingPoint {
  if (!(target > 0 && target <= 1)) throw new RangeError(`workingPoint: the target efficiency must be in (0, 1], got ${target}`);
  if (scores.length !== isSignal.length) throw new RangeError(`workingPoint: ${scores.length} scores but ${isSignal.length} signal flags`);
  const sig: number[] = [];
  for (let i = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i]!)) throw new RangeError(`workingPoint: score at index ${i} is ${scores[i]}; scores must be finite`);
    if (isSignal[i]) sig.push(scores[i]!);
  }
  const S = sig.length;
  const B = scores.length - S;
  if (S === 0) throw new RangeError(`workingPoint: no signal events among ${scores.length}`);
  if (B === 0) throw new RangeError(`workingPoint: no background events among ${scores.length}`);
  sig.sort((a, b) => b - a);
  // The smallest count k with k/S >= target, compared in floating point exactly as roc_curve's tpr is.
  let need = Math.min(S, Math.max(1, Math.ceil(target * S - 1e-9)));
  while (need < S && need / S < target) need++;
  while (need > 1 && (need - 1) / S >= target) need--;
  const threshold = sig[need - 1]!;
  return measure(scores, isSignal, threshold, { signal, target });
}

/** What a fixed cut (score >= threshold) selects of a labelled sample: the same numbers on new data. */
export function measure(scores: ArrayLike<number>, isSignal: ArrayLike<boolean>, threshold: number, at: { signal: number; target: number }): WorkingPoint {
  let S = 0;
  let B = 0;
  let s = 0;
  let b = 0;
  for (let i = 0; i < scores.length; i++) {
    const pass = scores[i]! >= threshold;
    if (isSignal[i]) {
      S++;
      if (pass) s++;
    } else {
      B++;
      if (pass) b++;
    }
  }
  return fromCounts({ ...at, threshold, signalEvents: S, backgroundEvents: B, selectedSignal: s, selectedBackground: b });
}

/** The rates and their uncertainties from the four counts. */
export function fromCounts(c: Pick<WorkingPoint, 'signal' | 'target' | 'threshold' | 'signalEvents' | 'backgroundEvents' | 'selectedSignal' | 'selectedBackground'>): WorkingPoint {
  const efficiency = c.signalEvents ? c.selectedSignal / c.signalEvents : Number.NaN;
  const fpr = c.backgroundEvents ? c.selectedBackground / c.backgroundEvents : Number.NaN;
  const fprError = binomialError(fpr, c.backgroundEvents);
  return {
    ...c,
    efficiency,
    efficiencyError: binomialError(efficiency, c.signalEvents),
    fpr,
    fprError,
    rejection: fpr > 0 ? 1 / fpr : null,
    rejectionError: fpr > 0 ? fprError / (fpr * fpr) : null,
    rejectionLowerLimit: fpr === 0 ? c.backgroundEvents / 3 : null,
  };
}

const binomialError = (p: number, n: number) => (n > 0 ? Math.sqrt((p * (1 - p)) / n) : Number.NaN);

/** "48.3 ± 2.1", or "> 1,234 (95 % CL)" when no background passed. */
export function formatRejection(wp: WorkingPoint): string {
  if (wp.rejection === null) return `> ${Math.floor(wp.rejectionLowerLimit ?? 0)} (95 % CL, no background passed)`;
  return `${sig3(wp.rejection)} ± ${sig3(wp.rejectionError ?? 0)}`;
}

const sig3 = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
