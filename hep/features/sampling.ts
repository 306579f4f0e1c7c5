/**
 * Seeded, partition-independent sampling decisions of stage 2 (seed-pipeline.md
 * §3 steps 4–5). The published run used Spark's Bernoulli `sample` (no seed),
 * `randomSplit([0.8, 0.2], seed=42)` and `orderBy(rand())`, whose outcomes
 * depend on partitioning. Here every decision is a pure function of
 * (seed, purpose, source file, entry), so each partition decides locally and
 * any re-run reproduces it.
 */
import { createHash } from 'node:crypto';
import { checkLabel } from './scaler.js';

export type SamplingPurpose = 'balance' | 'split' | 'shuffle';

/** Fraction of rows that go to the training set. */
export const TRAIN_FRACTION = 0.8;

const TWO_POW_53 = 2 ** 53;

/**
 * A uniform in [0, 1): SHA-256 of the UTF-8 string
 * `${seed}|${purpose}|${sourceFile}|${entry}`, its first 8 bytes read as a
 * big-endian unsigned 64-bit integer, shifted right by 11 (53 bits left) and
 * divided by 2^53.
 */
export function rowUniform(seed: number, purpose: SamplingPurpose, sourceFile: string, entry: number): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, got ${seed}`);
  if (!Number.isSafeInteger(entry) || entry < 0) throw new RangeError(`entry must be a non-negative safe integer, got ${entry}`);
  const digest = createHash('sha256').update(`${seed}|${purpose}|${sourceFile}|${entry}`, 'utf8').digest();
  return Number(digest.readBigUInt64BE(0) >> 11n) / TWO_POW_53;
}

/**
 * The undersampling rule: QCD (label 0) is always kept; class c is kept iff
 * u < counts[0] / counts[c] (always when that ratio is ≥ 1). `counts` are the
 * per-class row counts of the whole stage-1 dataset (MinMaxStats.counts) and
 * `u` is rowUniform(seed, 'balance', ...).
 */
export function keepForBalance(label: number, u: number, counts: readonly [number, number, number]): boolean {
  const c = checkLabel(label);
  if (c === 0) return true;
  const ratio = counts[0] / counts[c];
  return ratio >= 1 || u < ratio;
}

/** The 80/20 split: `u` is rowUniform(seed, 'split', ...). */
export function isTrain(u: number): boolean {
  return u < TRAIN_FRACTION;
}

/** A training row's place in the shuffled order. */
export interface ShuffleKey {
  /** rowUniform(seed, 'shuffle', sourceFile, entry) */
  u: number;
  sourceFile: string;
  entry: number;
}

/** Order of the training set: by the 'shuffle' uniform, ties by source file (code-unit order) then entry. The test set keeps input order. */
export function compareShuffle(a: ShuffleKey, b: ShuffleKey): number {
  if (a.u !== b.u) return a.u < b.u ? -1 : 1;
  if (a.sourceFile !== b.sourceFile) return a.sourceFile < b.sourceFile ? -1 : 1;
  return a.entry - b.entry;
}
