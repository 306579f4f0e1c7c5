/**
 * The HLF min-max scaler of stage 2 (seed-pipeline.md §3 step 2): Spark's
 * MinMaxScaler fit on the whole stage-1 dataset, before undersampling and the
 * split. The statistics are mergeable so that a pass over partitions can fit
 * it piecewise; they also count rows per class, which the undersampling needs.
 */
import { CLASSES, HLF_FEATURES } from '../layout.js';

/** Number of classes: 0 QCD, 1 tt̄, 2 W+jets. */

/** A NaN or ±Inf high-level feature. `row` is the row within the batch given to the function; callers add file and row. */
export class NonFiniteFeatureError extends RangeError {
  constructor(
    readonly feature: number,
    readonly value: number,
    readonly row: number | null,
  ) {
    super(`hfeatures[${feature}] is ${value}${row === null ? '' : ` (row ${row} of the batch)`}: stage 2 needs finite high-level features`);
    this.name = 'NonFiniteFeatureError';
  }
}

/** Serialised {@link MinMaxStats}; min/max are null while no row has been seen (JSON has no ±Infinity). */
export interface MinMaxStatsJSON {
  version: 1;
  rows: number;
  /** Rows per class 0/1/2. */
  counts: [number, number, number];
  min: number[] | null;
  max: number[] | null;
}

/** Checks a label is 0, 1 or 2 and returns it. */
export function checkLabel(label: number): 0 | 1 | 2 {
  if (label !== 0 && label !== 1 && label !== 2) throw new RangeError(`label ${label} is not a class (0 QCD, 1 ttbar, 2 W+jets)`);
  return label;
}

/** Per-feature min/max over rows, and rows per class. */
export class MinMaxStats {
  readonly min = new Float64Array(HLF_FEATURES).fill(Infinity);
  readonly max = new Float64Array(HLF_FEATURES).fill(-Infinity);
  /** Rows per class 0/1/2. */
  readonly counts: [number, number, number] = [0, 0, 0];
  rows = 0;

  /**
   * Adds `rows` rows: `hfeatures` is rows × 14 (row-major, as the stage-1
   * reader gives it) and `labels` holds each row's class. Validates the whole
   * batch before changing anything, so a rejected batch leaves the stats as they were.
   */
  observe(hfeatures: Float64Array, rows: number, labels: ArrayLike<number>): this {
    if (!Number.isInteger(rows) || rows < 0) throw new RangeError(`rows must be a non-negative integer, got ${rows}`);
    if (hfeatures.length < rows * HLF_FEATURES) throw new RangeError(`hfeatures has ${hfeatures.length} values, fewer than ${rows} rows × ${HLF_FEATURES}`);
    if (labels.length < rows) throw new RangeError(`labels has ${labels.length} values, fewer than ${rows} rows`);
    const min = Float64Array.from(this.min);
    const max = Float64Array.from(this.max);
    const counts: [number, number, number] = [...this.counts];
    for (let r = 0; r < rows; r++) {
      counts[checkLabel(labels[r] as number)]++;
      const base = r * HLF_FEATURES;
      for (let f = 0; f < HLF_FEATURES; f++) {
        const x = hfeatures[base + f] as number;
        if (!Number.isFinite(x)) throw new NonFiniteFeatureError(f, x, r);
        if (x < (min[f] as number)) min[f] = x;
        if (x > (max[f] as number)) max[f] = x;
      }
    }
    this.min.set(min);
    this.max.set(max);
    for (let c = 0; c < CLASSES; c++) this.counts[c] = counts[c] as number;
    this.rows += rows;
    return this;
  }

  /** Folds `other` into this; the result equals one pass over both inputs. */
  merge(other: MinMaxStats): this {
    for (let f = 0; f < HLF_FEATURES; f++) {
      this.min[f] = Math.min(this.min[f] as number, other.min[f] as number);
      this.max[f] = Math.max(this.max[f] as number, other.max[f] as number);
    }
    for (let c = 0; c < CLASSES; c++) this.counts[c] = (this.counts[c] as number) + (other.counts[c] as number);
    this.rows += other.rows;
    return this;
  }

  toJSON(): MinMaxStatsJSON {
    const seen = this.rows > 0;
    return {
      version: 1,
      rows: this.rows,
      counts: [...this.counts],
      min: seen ? Array.from(this.min) : null,
      max: seen ? Array.from(this.max) : null,
    };
  }

  static fromJSON(json: unknown): MinMaxStats {
    const bad = (why: string): never => {
      throw new TypeError(`invalid MinMaxStats JSON: ${why}`);
    };
    if (typeof json !== 'object' || json === null) return bad('not an object');
    const j = json as Partial<Record<keyof MinMaxStatsJSON, unknown>>;
    if (j.version !== 1) bad(`version ${String(j.version)} is not 1`);
    const count = (x: unknown, what: string): number => (Number.isSafeInteger(x) && (x as number) >= 0 ? (x as number) : bad(`${what} is not a non-negative integer`));
    const rows = count(j.rows, 'rows');
    if (!Array.isArray(j.counts) || j.counts.length !== CLASSES) return bad(`counts is not an array of ${CLASSES}`);
    const counts = j.counts.map((c, i) => count(c, `counts[${i}]`));
    if (counts.reduce((a, b) => a + b, 0) !== rows) bad('counts do not add up to rows');
    const stats = new MinMaxStats();
    stats.rows = rows;
    counts.forEach((c, i) => (stats.counts[i] = c));
    if (rows === 0) {
      if (j.min !== null || j.max !== null) bad('min/max must be null when rows is 0');
      return stats;
    }
    const vector = (x: unknown, what: string): number[] => {
      if (!Array.isArray(x) || x.length !== HLF_FEATURES) return bad(`${what} is not an array of ${HLF_FEATURES}`);
      return x.map((v, f) => (typeof v === 'number' && Number.isFinite(v) ? v : bad(`${what}[${f}] is not a finite number`)));
    };
    const min = vector(j.min, 'min');
    const max = vector(j.max, 'max');
    for (let f = 0; f < HLF_FEATURES; f++) if ((min[f] as number) > (max[f] as number)) bad(`min[${f}] > max[${f}]`);
    stats.min.set(min);
    stats.max.set(max);
    return stats;
  }
}

/**
 * Writes the scaled 14 features of one event: (x − min)/(max − min), in
 * float64, stored as float32; a constant feature (max == min) gives 0.5, as
 * Spark's MinMaxScaler does. Like Spark, values outside [min, max] are not clamped.
 */
export function scaleHlf(stats: MinMaxStats, hf: Float64Array, out: Float32Array): Float32Array {
  if (stats.rows === 0) throw new RangeError('cannot scale with MinMaxStats that have seen no rows');
  if (hf.length < HLF_FEATURES || out.length < HLF_FEATURES) throw new RangeError(`hf and out need ${HLF_FEATURES} values`);
  for (let f = 0; f < HLF_FEATURES; f++) {
    const x = hf[f] as number;
    if (!Number.isFinite(x)) throw new NonFiniteFeatureError(f, x, null);
    const lo = stats.min[f] as number;
    const range = (stats.max[f] as number) - lo;
    out[f] = range !== 0 ? (x - lo) / range : 0.5;
  }
  return out;
}
