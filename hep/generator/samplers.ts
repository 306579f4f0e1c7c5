/** Distributions the event models draw from, all by inversion where possible (one uniform each). */
import type { Rng } from '../../common/rng.js';

export function uniformIn(rng: Rng, lo: number, hi: number): number {
  return lo + (hi - lo) * rng.uniform();
}

export function gaussian(rng: Rng, mean: number, sigma: number): number {
  return mean + sigma * rng.normal();
}

export function exponential(rng: Rng, mean: number): number {
  return mean * rng.exponential();
}

/**
 * Poisson by inversion (one uniform, a sequential search from 0): exact up to
 * mean 200; a rounded normal above (only the bulk matters there).
 */
export function poisson(rng: Rng, mean: number): number {
  if (mean <= 0) return 0;
  if (mean > 200) return Math.max(0, Math.round(mean + Math.sqrt(mean) * rng.normal()));
  const u = rng.uniform();
  let p = Math.exp(-mean);
  let cdf = p;
  let k = 0;
  const last = mean + 20 * Math.sqrt(mean) + 20; // guards the far tail against rounding
  while (u > cdf && k < last) {
    k++;
    p *= mean / k;
    cdf += p;
  }
  return k;
}

/** Number of extra objects with P(n) ∝ ratio^n: jet multiplicities (Berends scaling). */
export function geometric(rng: Rng, ratio: number): number {
  return Math.floor(Math.log(rng.uniform()) / Math.log(ratio));
}

/** Density ∝ x^-index above xMin (index > 1): falling pT spectra. */
export function powerLaw(rng: Rng, xMin: number, index: number): number {
  return xMin * Math.pow(rng.uniform(), -1 / (index - 1));
}

/** Gamma with integer shape 2 (sum of two exponentials): a spectrum that rises then falls. */
export function gamma2(rng: Rng, scale: number): number {
  return -scale * Math.log(rng.uniform() * rng.uniform());
}

/** Kumaraswamy(a, b) on (0, 1): a Beta-like shape with a closed-form inverse. */
export function kumaraswamy(rng: Rng, a: number, b: number): number {
  return Math.pow(1 - Math.pow(rng.uniform(), 1 / b), 1 / a);
}

/** Non-relativistic Breit–Wigner (Cauchy) truncated to [lo, hi], by inversion. */
export function breitWigner(rng: Rng, mass: number, width: number, lo: number, hi: number): number {
  const half = width / 2;
  const a = Math.atan((lo - mass) / half);
  const b = Math.atan((hi - mass) / half);
  return mass + half * Math.tan(a + (b - a) * rng.uniform());
}

/** Index drawn from cumulative probabilities (last entry 1). */
export function pickCumulative(rng: Rng, cumulative: readonly number[]): number {
  const u = rng.uniform();
  let i = 0;
  while (i < cumulative.length - 1 && u >= cumulative[i]!) i++;
  return i;
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
