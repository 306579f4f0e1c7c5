/**
 * Dataset-wide standardisation of the particle columns (a deliberate
 * deviation from the seed, chosen with `particleScaling: dataset`): one mean
 * and one population std per column over every real (not all-zero) particle
 * row of the whole stage-1 dataset, fit like the HLF scaler (all selected
 * events, before balancing and the split). Unlike the seed's per-event
 * standardisation it keeps absolute scales: an event whose momenta are all
 * twice as large reads differently (docs/generator.md says why that matters).
 *
 * The statistics are mergeable (count, mean and sum of squared deviations per
 * column, combined by Chan et al.'s formula), so parts are fit separately.
 */
import { PARTICLE_FEATURES } from '../layout.js';
import { isPaddingRow, type ParticleScale } from './particles.js';

const W = PARTICLE_FEATURES;

/** Serialised {@link ParticleStats}. */
export interface ParticleStatsJSON {
  rows: number;
  mean: number[];
  m2: number[];
  min: number[];
  max: number[];
}

export class ParticleStats {
  rows = 0;
  readonly mean = new Float64Array(W);
  /** Sum of squared deviations from the mean. */
  readonly m2 = new Float64Array(W);
  readonly min = new Float64Array(W).fill(Infinity);
  readonly max = new Float64Array(W).fill(-Infinity);

  /** Adds the real rows of `events` events of n × 19 values each (`lfeatures` as stage 1 writes it). */
  observe(lfeatures: Float32Array, events: number): this {
    if (events === 0) return this;
    if (lfeatures.length % (events * W) !== 0) throw new RangeError(`lfeatures has ${lfeatures.length} values, not a multiple of ${events} events × ${W}`);
    const rows = lfeatures.length / W;
    const part = new ParticleStats();
    const sum = new Float64Array(W);
    for (let r = 0; r < rows; r++) {
      if (isPaddingRow(lfeatures, r)) continue;
      part.rows++;
      const base = r * W;
      for (let c = 0; c < W; c++) {
        const x = lfeatures[base + c] as number;
        if (!Number.isFinite(x)) throw new RangeError(`particle row ${r % (rows / events)} of event ${Math.floor(r / (rows / events))}, column ${c}, is ${x}: stage 2 needs finite values`);
        sum[c] = (sum[c] as number) + x;
        if (x < (part.min[c] as number)) part.min[c] = x;
        if (x > (part.max[c] as number)) part.max[c] = x;
      }
    }
    if (part.rows === 0) return this;
    for (let c = 0; c < W; c++) part.mean[c] = (sum[c] as number) / part.rows;
    for (let r = 0; r < rows; r++) {
      if (isPaddingRow(lfeatures, r)) continue;
      const base = r * W;
      for (let c = 0; c < W; c++) {
        const d = (lfeatures[base + c] as number) - (part.mean[c] as number);
        part.m2[c] = (part.m2[c] as number) + d * d;
      }
    }
    return this.merge(part);
  }

  /** Folds `other` into this (Chan et al.): equal to one pass over both, up to rounding. */
  merge(other: ParticleStats): this {
    if (other.rows === 0) return this;
    const n = this.rows + other.rows;
    for (let c = 0; c < W; c++) {
      const delta = (other.mean[c] as number) - (this.mean[c] as number);
      this.mean[c] = (this.mean[c] as number) + (delta * other.rows) / n;
      this.m2[c] = (this.m2[c] as number) + (other.m2[c] as number) + (delta * delta * this.rows * other.rows) / n;
      this.min[c] = Math.min(this.min[c] as number, other.min[c] as number);
      this.max[c] = Math.max(this.max[c] as number, other.max[c] as number);
    }
    this.rows = n;
    return this;
  }

  /** The scale to apply: population std; a constant column (min == max, tested exactly) gets std 0. */
  scale(): ParticleScale {
    if (this.rows === 0) throw new RangeError('cannot standardise particles with statistics that have seen no particle');
    const std = new Float64Array(W);
    for (let c = 0; c < W; c++) std[c] = this.min[c] === this.max[c] ? 0 : Math.sqrt((this.m2[c] as number) / this.rows);
    return { mean: Float64Array.from(this.mean), std };
  }

  toJSON(): ParticleStatsJSON {
    return { rows: this.rows, mean: Array.from(this.mean), m2: Array.from(this.m2), min: Array.from(this.min, finiteOrZero), max: Array.from(this.max, finiteOrZero) };
  }

  static fromJSON(json: ParticleStatsJSON): ParticleStats {
    const stats = new ParticleStats();
    if (json.rows === 0) return stats;
    for (const key of ['mean', 'm2', 'min', 'max'] as const) {
      if (json[key].length !== W || !json[key].every(Number.isFinite)) throw new TypeError(`invalid ParticleStats JSON: ${key} is not ${W} finite numbers`);
      stats[key].set(json[key]);
    }
    stats.rows = json.rows;
    return stats;
  }
}

/** JSON has no ±Infinity: the bounds of empty statistics are written as 0 (rows 0 says they are unset). */
const finiteOrZero = (x: number): number => (Number.isFinite(x) ? x : 0);
