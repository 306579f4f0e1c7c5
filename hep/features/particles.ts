/**
 * The per-event particle transform of stage 2 (seed-pipeline.md §3 step 3,
 * the `transform(particles)` UDF): sort the rows by descending ΔR from the
 * lepton, then standardise each of the 19 columns over the event.
 *
 * - `faithful`: as published. All n rows take part, padding included: the
 *   all-zero padding rows have (η, φ) = (0, 0), so they sort as one block at
 *   ΔR(lepton, (0, 0)) and come out as −mean/std, not 0.
 * - `masked`: only the real rows (the first nReal; stage 1 packs them first)
 *   are sorted and standardised; the padding rows stay exactly 0 at the end,
 *   so a Masking(0) layer masks them. With a single real row every column has
 *   zero variance, so that row becomes all 0 too (and would be masked): the
 *   simple rule is kept on purpose.
 *
 * Both modes: the sort is stable (ties keep their input order, as Python's
 * `sorted(..., reverse=True)`); Δφ is wrapped into [−π, π]; the std is the
 * population std (ddof 0); a constant column (every value equal) becomes all
 * 0, like StandardScaler's zero-variance rule. Constancy is tested exactly
 * (min == max), not by var == 0, because a float64 mean of equal values can
 * be an ulp off and would turn rounding noise into ±1. Arithmetic is float64,
 * the output float32.
 */
import { wrapDeltaPhi } from '../ingest/kinematics.js';
import { COL } from '../ingest/layout.js';
import { PARTICLE_FEATURES } from '../layout.js';

export type ParticleMode = 'faithful' | 'masked';

/**
 * A fixed standardisation (particleScaler.ts: fit over a whole dataset): per
 * column, the mean and the std, 0 marking a constant column (which becomes 0).
 */
export interface ParticleScale {
  mean: Float64Array;
  std: Float64Array;
}

const W = PARTICLE_FEATURES;

/** True when all 19 values of row `row` are exactly 0 (−0 included): a padding row. */
export function isPaddingRow(src: Float32Array, row: number): boolean {
  const base = row * W;
  for (let c = 0; c < W; c++) if (src[base + c] !== 0) return false;
  return true;
}

/** Number of leading rows, of the n in `src`, that are not padding (all-zero). */
export function countRealRows(src: Float32Array, n: number): number {
  checkRows(src, n);
  let r = 0;
  while (r < n && !isPaddingRow(src, r)) r++;
  return r;
}

function checkRows(src: Float32Array, n: number): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`n must be a non-negative integer, got ${n}`);
  if (src.length < n * W) throw new RangeError(`particle array has ${src.length} values, fewer than ${n} rows × ${W}`);
}

// Scratch space, grown on demand and reused (the transform is synchronous, so nothing else can use it meanwhile).
let keys = new Float64Array(0);
let real = new Int32Array(0);
const mean = new Float64Array(W);
const std = new Float64Array(W);
const lo = new Float64Array(W);
const hi = new Float64Array(W);
const padValue = new Float64Array(W);

function scratch(n: number): void {
  if (keys.length >= n) return;
  const size = Math.max(n, keys.length * 2);
  keys = new Float64Array(size);
  real = new Int32Array(size);
}

/** Descending key, then ascending row: the order of a stable descending sort. */
const byDescendingKey = (a: number, b: number): number => (keys[b] as number) - (keys[a] as number) || a - b;

/**
 * Transforms one event. `src` and `out` hold n × 19 values (row-major, row 0
 * the lepton; n = src.length / 19) and must not overlap. `nReal` is the
 * number of real rows: in `masked` mode null means {@link countRealRows}, and
 * every row from nReal on must be all-zero (else a RangeError); in `faithful`
 * mode it is not needed (padding is recognised row by row wherever it is)
 * and is only checked when given. Returns the number of real rows.
 * Throws a RangeError naming row and column for a NaN or ±Inf value.
 * With `scale`, the columns are standardised with it instead of over the
 * event (the sort and the padding rules stay the same).
 */
export function transformParticles(src: Float32Array, nReal: number | null, mode: ParticleMode, out: Float32Array, scale?: ParticleScale): number {
  if (src.length % W !== 0) throw new RangeError(`particle array length ${src.length} is not a multiple of ${W}`);
  if (out.length !== src.length) throw new RangeError(`out has ${out.length} values, src ${src.length}`);
  if (out.buffer === src.buffer && out.byteOffset < src.byteOffset + src.byteLength && src.byteOffset < out.byteOffset + out.byteLength) {
    throw new RangeError('out must not overlap src');
  }
  if (mode !== 'faithful' && mode !== 'masked') throw new RangeError(`unknown particle mode ${String(mode)}`);
  const n = src.length / W;
  if (nReal !== null && (!Number.isInteger(nReal) || nReal < 0 || nReal > n)) throw new RangeError(`nReal ${nReal} is not an integer in [0, ${n}]`);
  const leading = nReal ?? (mode === 'masked' ? countRealRows(src, n) : null);
  if (leading !== null) {
    for (let r = leading; r < n; r++) if (!isPaddingRow(src, r)) throw new RangeError(`row ${r} is not all-zero but follows the ${leading} real rows: real rows must come first`);
  }
  if (n === 0) return 0;
  scratch(n);
  const lepEta = src[COL.ETA] as number;
  const lepPhi = src[COL.PHI] as number;
  const keyOf = (eta: number, phi: number): number => {
    const deta = eta - lepEta;
    const dphi = wrapDeltaPhi(phi - lepPhi);
    return Math.sqrt(deta * deta + dphi * dphi);
  };

  // The real rows and their keys; faithful mode recognises padding row by row, masked mode takes the first nReal.
  let m = 0;
  if (mode === 'masked') {
    m = leading ?? 0;
    for (let r = 0; r < m; r++) real[r] = r;
  } else {
    for (let r = 0; r < n; r++) if (!isPaddingRow(src, r)) real[m++] = r;
  }
  const total = mode === 'masked' ? m : n; // rows the statistics run over
  const pads = total - m; // all-zero rows among them (faithful only)
  if (total === 0) {
    out.fill(0);
    return 0;
  }

  for (let i = 0; i < m; i++) {
    const r = real[i] as number;
    keys[r] = keyOf(src[r * W + COL.ETA] as number, src[r * W + COL.PHI] as number);
  }
  if (scale) useScale(src, real, m, scale);
  else eventScale(src, real, m, total, pads);
  for (let c = 0; c < W; c++) padValue[c] = std[c] === 0 ? 0 : (0 - (mean[c] as number)) / (std[c] as number);

  const order = real.subarray(0, m).sort(byDescendingKey);

  // Write the rows in sorted order; faithful mode merges the padding block in at its key, by row index on ties.
  const padKey = keyOf(0, 0);
  let pendingPads = pads;
  let nextPad = 0; // the lowest padding-row index not yet placed
  let pos = 0;
  const writePad = (): void => {
    out.set(padValue, pos * W);
    pos++;
    pendingPads--;
    nextPad = pendingPads > 0 ? nextPaddingRow(src, nextPad + 1, n) : n;
  };
  if (pendingPads > 0) nextPad = nextPaddingRow(src, 0, n);
  for (let i = 0; i < m; i++) {
    const r = order[i] as number;
    const k = keys[r] as number;
    while (pendingPads > 0 && (padKey > k || (padKey === k && nextPad < r))) writePad();
    const base = r * W;
    const o = pos * W;
    for (let c = 0; c < W; c++) {
      const s = std[c] as number;
      out[o + c] = s === 0 ? 0 : ((src[base + c] as number) - (mean[c] as number)) / s;
    }
    pos++;
  }
  while (pendingPads > 0) writePad();
  if (pos < n) out.fill(0, pos * W);
  return m;
}

/** Mean and std of each column over the event's `total` rows: its m real rows, and zeros for the padding rows among them. */
function eventScale(src: Float32Array, rows: Int32Array, m: number, total: number, pads: number): void {
  mean.fill(0);
  lo.fill(pads > 0 ? 0 : Infinity);
  hi.fill(pads > 0 ? 0 : -Infinity);
  for (let i = 0; i < m; i++) {
    const base = (rows[i] as number) * W;
    for (let c = 0; c < W; c++) {
      const x = src[base + c] as number;
      mean[c] = (mean[c] as number) + x;
      if (x < (lo[c] as number)) lo[c] = x;
      if (x > (hi[c] as number)) hi[c] = x;
    }
  }
  for (let c = 0; c < W; c++) {
    if (!Number.isFinite(mean[c])) throw nonFinite(src, rows, m, c);
    mean[c] = (mean[c] as number) / total;
    std[c] = pads * (mean[c] as number) * (mean[c] as number); // the padding rows' (0 − mean)²
  }
  for (let i = 0; i < m; i++) {
    const base = (rows[i] as number) * W;
    for (let c = 0; c < W; c++) {
      const d = (src[base + c] as number) - (mean[c] as number);
      std[c] = (std[c] as number) + d * d;
    }
  }
  for (let c = 0; c < W; c++) std[c] = lo[c] === hi[c] ? 0 : Math.sqrt((std[c] as number) / total); // 0 marks a constant column
}

/** A fixed scale; the event's values are only checked to be finite. */
function useScale(src: Float32Array, rows: Int32Array, m: number, scale: ParticleScale): void {
  if (scale.mean.length !== W || scale.std.length !== W) throw new RangeError(`a particle scale needs ${W} means and stds`);
  for (let c = 0; c < W; c++) {
    for (let i = 0; i < m; i++) if (!Number.isFinite(src[(rows[i] as number) * W + c])) throw nonFinite(src, rows, m, c);
    mean[c] = scale.mean[c] as number;
    std[c] = scale.std[c] as number;
  }
}

function nextPaddingRow(src: Float32Array, from: number, n: number): number {
  for (let r = from; r < n; r++) if (isPaddingRow(src, r)) return r;
  return n;
}

function nonFinite(src: Float32Array, rows: Int32Array, m: number, c: number): RangeError {
  for (let i = 0; i < m; i++) {
    const r = rows[i] as number;
    const x = src[r * W + c] as number;
    if (!Number.isFinite(x)) return new RangeError(`particle row ${r} column ${c} is ${x}: stage 2 needs finite values`);
  }
  return new RangeError(`particle column ${c} sums to a non-finite value`);
}
