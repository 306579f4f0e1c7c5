/**
 * Evaluation metrics for the classifier: ROC curves and AUC (binary and
 * one-vs-rest), accuracy, confusion matrix, and curve downsampling for storage.
 * Plain arrays only, no TensorFlow.js, so they run anywhere (tests, reports).
 *
 * ROC conventions follow scikit-learn's `roc_curve(..., drop_intermediate=False)`:
 * points are swept from the highest score down, samples with equal scores form
 * one point, the curve starts at (0, 0) with threshold +Infinity, and the last
 * point is (1, 1).
 */

/** Which samples are the positive class: one flag per sample, or a predicate on the sample index. */
export type Positives = ArrayLike<boolean> | ((index: number) => boolean);

export interface RocCurve {
  fpr: number[];
  tpr: number[];
  /** Score thresholds, decreasing; point i counts samples with score >= thresholds[i]. The first is +Infinity. */
  thresholds: number[];
}

export interface RocOptions {
  /** Drop points on straight segments of the curve, like scikit-learn's default `drop_intermediate=True`. Default false. */
  dropIntermediate?: boolean;
}

/**
 * Cumulative counts at each distinct score, highest first: after group g
 * (all samples with score >= thresholds[g]) there are tps[g] true and fps[g]
 * false positives. `positives`/`negatives` are the class totals.
 */
interface SweepCounts {
  thresholds: number[];
  tps: number[];
  fps: number[];
  positives: number;
  negatives: number;
}

function sweep(scores: ArrayLike<number>, positives: Positives): SweepCounts {
  const n = scores.length;
  if (typeof positives !== 'function' && positives.length !== n) {
    throw new RangeError(`roc: ${n} scores but ${positives.length} positive/negative flags`);
  }
  const isPositive = typeof positives === 'function' ? positives : (i: number) => positives[i] === true;
  // Positive and negative scores sorted apart (native numeric typed-array sort,
  // much faster than sorting indices with a comparator), then merged from the top.
  const pos = new Float64Array(n);
  const neg = new Float64Array(n);
  let totalPositives = 0;
  let totalNegatives = 0;
  for (let i = 0; i < n; i++) {
    const v = scores[i]!;
    // NaN has no place in a ranking, and an infinite score would collide with the curve's +Infinity start.
    if (!Number.isFinite(v)) throw new RangeError(`roc: score at index ${i} is ${v}; scores must be finite numbers`);
    if (isPositive(i)) pos[totalPositives++] = v;
    else neg[totalNegatives++] = v;
  }
  if (totalPositives === 0) throw new RangeError(`roc: no positive samples among ${n}; the true positive rate is undefined`);
  if (totalNegatives === 0) throw new RangeError(`roc: no negative samples among ${n}; the false positive rate is undefined`);
  const p = pos.subarray(0, totalPositives).sort();
  const q = neg.subarray(0, totalNegatives).sort();

  const thresholds: number[] = [];
  const tps: number[] = [];
  const fps: number[] = [];
  let i = p.length - 1;
  let j = q.length - 1;
  // Each step takes every sample at the next lower score from both lists: tied scores are one point.
  while (i >= 0 || j >= 0) {
    const v = i < 0 ? q[j]! : j < 0 ? p[i]! : Math.max(p[i]!, q[j]!);
    while (i >= 0 && p[i] === v) i--;
    while (j >= 0 && q[j] === v) j--;
    thresholds.push(v);
    tps.push(p.length - 1 - i);
    fps.push(q.length - 1 - j);
  }
  return { thresholds, tps, fps, positives: totalPositives, negatives: totalNegatives };
}

/** Indices of the points that are corners of the curve (plus both ends), as scikit-learn's drop_intermediate keeps. */
function cornerIndices(tps: number[], fps: number[]): number[] {
  const keep = [0];
  for (let g = 1; g < tps.length - 1; g++) {
    const bendsTp = tps[g + 1]! - 2 * tps[g]! + tps[g - 1]! !== 0;
    const bendsFp = fps[g + 1]! - 2 * fps[g]! + fps[g - 1]! !== 0;
    if (bendsTp || bendsFp) keep.push(g);
  }
  if (tps.length > 1) keep.push(tps.length - 1);
  return keep;
}

/** ROC curve of `scores` (higher = more positive-like). Throws RangeError on mismatched lengths, non-finite scores, or a missing class. */
export function rocCurve(scores: ArrayLike<number>, positives: Positives, options: RocOptions = {}): RocCurve {
  return curveFromCounts(sweep(scores, positives), options);
}

function curveFromCounts(c: SweepCounts, options: RocOptions): RocCurve {
  // scikit-learn only thins curves with more than two points.
  const groups = options.dropIntermediate === true && c.tps.length > 2 ? cornerIndices(c.tps, c.fps) : c.tps.map((_, g) => g);
  const fpr = [0];
  const tpr = [0];
  const thresholds = [Number.POSITIVE_INFINITY];
  for (const g of groups) {
    fpr.push(c.fps[g]! / c.negatives);
    tpr.push(c.tps[g]! / c.positives);
    thresholds.push(c.thresholds[g]!);
  }
  return { fpr, tpr, thresholds };
}

/**
 * Area under the ROC curve, computed from the integer counts rather than by
 * integrating rounded rates: each positive-negative pair ranked correctly
 * counts 1 and each tied pair exactly 1/2 (the Mann-Whitney U statistic over
 * P·N). Exact up to the final division while 2·P·N < 2^53.
 */
export function rocAuc(scores: ArrayLike<number>, positives: Positives): number {
  return aucFromCounts(sweep(scores, positives));
}

function aucFromCounts(c: SweepCounts): number {
  // Twice the area in units of pairs: a group with f negatives and t positives,
  // below T earlier positives, contributes f·T correct pairs and f·t ties at 1/2.
  let doubled = 0;
  let tpBefore = 0;
  let fpBefore = 0;
  for (let g = 0; g < c.tps.length; g++) {
    const t = c.tps[g]! - tpBefore;
    const f = c.fps[g]! - fpBefore;
    doubled += f * (2 * tpBefore + t);
    tpBefore = c.tps[g]!;
    fpBefore = c.fps[g]!;
  }
  return doubled / (2 * c.positives * c.negatives);
}

/** Trapezoid-rule area under a curve whose x values are monotonic (either direction), like scikit-learn's `auc`. */
export function auc(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new RangeError(`auc: ${x.length} x values but ${y.length} y values`);
  if (x.length < 2) throw new RangeError(`auc: need at least 2 points, got ${x.length}`);
  let rising = false;
  let falling = false;
  let area = 0;
  for (let i = 1; i < x.length; i++) {
    const dx = x[i]! - x[i - 1]!;
    if (Number.isNaN(dx) || Number.isNaN(y[i]! + y[i - 1]!)) throw new RangeError(`auc: NaN at point ${i - 1} or ${i}`);
    if (dx > 0) rising = true;
    if (dx < 0) falling = true;
    area += (dx * (y[i]! + y[i - 1]!)) / 2;
  }
  if (rising && falling) throw new RangeError('auc: x is neither non-decreasing nor non-increasing');
  return falling ? -area : area;
}

/**
 * Indices of a subset of the polyline (x[i], y[i]) of at most `maxPoints`
 * points (>= 3) that keeps both ends and the shape: walking along the curve, a
 * point is kept when it lies at least Δ (Euclidean) from the last kept one.
 * Every kept step spans at least Δ of arc length, so Δ = length / (maxPoints - 2)
 * bounds the count, and the dropped detail is smaller than Δ.
 */
export function downsampleIndices(x: ArrayLike<number>, y: ArrayLike<number>, maxPoints = 500): number[] {
  if (x.length !== y.length) throw new RangeError(`downsample: ${x.length} x values but ${y.length} y values`);
  if (!Number.isInteger(maxPoints) || maxPoints < 3) throw new RangeError(`downsample: maxPoints must be an integer >= 3, got ${maxPoints}`);
  const n = x.length;
  if (n <= maxPoints) return Array.from({ length: n }, (_, i) => i);
  let length = 0;
  for (let i = 1; i < n; i++) length += Math.hypot(x[i]! - x[i - 1]!, y[i]! - y[i - 1]!);
  const delta = length / (maxPoints - 2);
  const keep = [0];
  let lastX = x[0]!;
  let lastY = y[0]!;
  for (let i = 1; i < n - 1; i++) {
    if (Math.hypot(x[i]! - lastX, y[i]! - lastY) >= delta) {
      keep.push(i);
      lastX = x[i]!;
      lastY = y[i]!;
    }
  }
  keep.push(n - 1);
  return keep;
}

/** A ROC curve thinned to at most `maxPoints` points for storage and plotting (see downsampleIndices). */
export function downsampleRoc(roc: RocCurve, maxPoints = 500): RocCurve {
  const keep = downsampleIndices(roc.fpr, roc.tpr, maxPoints);
  return {
    fpr: keep.map((i) => roc.fpr[i]!),
    tpr: keep.map((i) => roc.tpr[i]!),
    thresholds: keep.map((i) => roc.thresholds[i]!),
  };
}

export interface ClassRoc {
  /** The positive class of this one-vs-rest split. */
  classIndex: number;
  /** AUC of the full curve, even when `roc` is downsampled. */
  auc: number;
  roc: RocCurve;
}

export interface OneVsRestOptions {
  /** Downsample each stored curve to at most this many points (>= 3); omit to keep full curves. */
  maxPoints?: number;
}

function checkLabels(labels: ArrayLike<number>, k: number, who: string): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`${who}: the number of classes must be a positive integer, got ${k}`);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (!Number.isInteger(l) || l < 0 || l >= k) throw new RangeError(`${who}: label at index ${i} is ${l}, not a class in 0..${k - 1}`);
  }
}

/**
 * One-vs-rest ROC for each of `k` classes: class c's scores are column c of
 * `probs` (n × k, row-major) and its positives the samples labelled c.
 */
export function oneVsRest(probs: ArrayLike<number>, labels: ArrayLike<number>, k: number, options: OneVsRestOptions = {}): ClassRoc[] {
  checkLabels(labels, k, 'oneVsRest');
  const n = labels.length;
  if (probs.length !== n * k) throw new RangeError(`oneVsRest: ${probs.length} scores is not ${n} samples × ${k} classes`);
  const result: ClassRoc[] = [];
  for (let c = 0; c < k; c++) {
    const column = new Float64Array(n);
    for (let i = 0; i < n; i++) column[i] = probs[i * k + c]!;
    const counts = sweep(column, (i) => labels[i] === c);
    const full = curveFromCounts(counts, {});
    result.push({
      classIndex: c,
      auc: aucFromCounts(counts),
      roc: options.maxPoints === undefined ? full : downsampleRoc(full, options.maxPoints),
    });
  }
  return result;
}

/** Row-wise argmax of an n × k row-major matrix; the first maximum wins ties, as in numpy. */
export function argmaxRows(probs: ArrayLike<number>, k: number): Int32Array {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`argmaxRows: k must be a positive integer, got ${k}`);
  if (probs.length % k !== 0) throw new RangeError(`argmaxRows: ${probs.length} values is not a whole number of rows of ${k}`);
  const out = new Int32Array(probs.length / k);
  for (let r = 0; r < out.length; r++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (probs[r * k + c]! > probs[r * k + best]!) best = c;
    out[r] = best;
  }
  return out;
}

/** Fraction of samples whose predicted class equals the true one (argument order as scikit-learn: truth first). */
export function accuracy(trueLabels: ArrayLike<number>, predicted: ArrayLike<number>): number {
  if (trueLabels.length !== predicted.length) throw new RangeError(`accuracy: ${trueLabels.length} labels but ${predicted.length} predictions`);
  if (trueLabels.length === 0) throw new RangeError('accuracy: no samples');
  let right = 0;
  for (let i = 0; i < trueLabels.length; i++) if (trueLabels[i] === predicted[i]) right++;
  return right / trueLabels.length;
}

/** k × k counts: rows are the true class, columns the predicted class. */
export function confusionMatrix(trueLabels: ArrayLike<number>, predicted: ArrayLike<number>, k: number): number[][] {
  if (trueLabels.length !== predicted.length) throw new RangeError(`confusionMatrix: ${trueLabels.length} labels but ${predicted.length} predictions`);
  checkLabels(trueLabels, k, 'confusionMatrix');
  checkLabels(predicted, k, 'confusionMatrix (predicted)');
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < trueLabels.length; i++) m[trueLabels[i]!]![predicted[i]!]!++;
  return m;
}

export interface PrecisionRecall {
  /** Per predicted class: correct / predicted as that class; 0 when the class was never predicted (scikit-learn's zero_division default). */
  precision: number[];
  /** Per true class: correct / members of that class; 0 for an empty class. */
  recall: number[];
}

/** Per-class precision and recall read off a confusion matrix (rows true, columns predicted). */
export function precisionRecall(matrix: number[][]): PrecisionRecall {
  const k = matrix.length;
  if (!matrix.every((row) => row.length === k)) throw new RangeError(`precisionRecall: the matrix must be square (${k} rows)`);
  const precision: number[] = [];
  const recall: number[] = [];
  for (let c = 0; c < k; c++) {
    let predictedAsC = 0;
    let inC = 0;
    for (let j = 0; j < k; j++) {
      predictedAsC += matrix[j]![c]!;
      inC += matrix[c]![j]!;
    }
    const hit = matrix[c]![c]!;
    precision.push(predictedAsC === 0 ? 0 : hit / predictedAsC);
    recall.push(inC === 0 ? 0 : hit / inC);
  }
  return { precision, recall };
}
