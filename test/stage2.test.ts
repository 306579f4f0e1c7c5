/**
 * Stage-2 feature preparation (hep/stage2) against hand-computed
 * expectations: the HLF min-max scaler, the per-event particle transform in
 * both modes, the seeded sampling decisions and the label encoding
 * (seed-pipeline.md §3).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { COL } from '../hep/ingest/layout.js';
import { PARTICLE_FEATURES } from '../hep/layout.js';
import { collectBytes } from '../parquet/index.js';
import { IngestParquetWriter, readIngestParquet, readIngestRowGroups } from '../hep/ingest/index.js';
import {
  MinMaxStats,
  NonFiniteFeatureError,
  ParticleStats,
  type ParticleStatsJSON,
  compareShuffle,
  countRealRows,
  encodeLabel,
  isTrain,
  keepForBalance,
  rowUniform,
  scaleHlf,
  transformParticles,
  type ShuffleKey,
} from '../hep/features/index.js';

const W = PARTICLE_FEATURES;

/** float32 closeness: `actual` (a stored float32) within 1e-6 relative of the float64 `expected`. */
function near(actual: number | undefined, expected: number, what: string): void {
  assert.ok(actual !== undefined && Math.abs(actual - expected) <= 1e-6 * Math.max(1, Math.abs(expected)), `${what}: ${actual} ≉ ${expected}`);
}

function column(out: Float32Array, c: number): number[] {
  return Array.from({ length: out.length / W }, (_, r) => out[r * W + c] as number);
}

// ---- HLF scaler ----------------------------------------------------------

/** rows × 14, row-major, from per-row arrays. */
const hlfRows = (...rows: number[][]): Float64Array => Float64Array.from(rows.flat());
const ramp = (f: (i: number) => number): number[] => Array.from({ length: 14 }, (_, i) => f(i));

describe('MinMaxStats and scaleHlf', () => {
  // Feature i spans [i, i + 10], except feature 5, which is 4 in both rows (constant).
  const rowA = ramp((i) => (i === 5 ? 4 : i));
  const rowB = ramp((i) => (i === 5 ? 4 : i + 10));

  test('per-feature min/max and class counts', () => {
    const stats = new MinMaxStats().observe(hlfRows(rowA, rowB), 2, Int32Array.of(0, 2));
    assert.deepEqual(Array.from(stats.min), rowA);
    assert.deepEqual(Array.from(stats.max), rowB);
    assert.deepEqual(stats.counts, [1, 0, 1]);
    assert.equal(stats.rows, 2);
  });

  test('(x − min)/(max − min), a constant feature gives 0.5, no clamping', () => {
    const stats = new MinMaxStats().observe(hlfRows(rowA, rowB), 2, [1, 1]);
    const out = scaleHlf(stats, Float64Array.from(ramp((i) => i + 2.5)), new Float32Array(14));
    assert.deepEqual(Array.from(out), ramp((i) => (i === 5 ? 0.5 : 0.25)));
    // Outside the fitted range: 12 below the min of feature 0 is −1.2 (Spark does not clamp); the constant feature stays 0.5 for any value.
    const outside = scaleHlf(stats, Float64Array.from(ramp((i) => (i === 0 ? -12 : i === 5 ? 99 : i + 10))), new Float32Array(14));
    assert.equal(outside[0], Math.fround(-1.2));
    assert.equal(outside[5], 0.5);
    assert.equal(outside[13], 1);
  });

  test('merging partitions equals one pass', () => {
    const rows = [ramp((i) => i * 1.5 - 3), ramp((i) => -i), ramp((i) => (i % 3) * 7.25), ramp((i) => 100 - i * i), ramp(() => 0.125)];
    const labels = [0, 1, 2, 1, 1];
    const single = new MinMaxStats().observe(hlfRows(...rows), 5, labels);
    const a = new MinMaxStats().observe(hlfRows(...rows.slice(0, 2)), 2, labels.slice(0, 2));
    const b = new MinMaxStats().observe(hlfRows(...rows.slice(2)), 3, labels.slice(2));
    const merged = a.merge(new MinMaxStats()).merge(b);
    assert.deepEqual(merged.toJSON(), single.toJSON());
    assert.deepEqual(single.counts, [1, 3, 1]);
    // Hand check of two features: feature 0 over rows = (−3, 0, 0, 100, 0.125); feature 13 = (16.5, −13, 7.25, −69, 0.125).
    assert.equal(single.min[0], -3);
    assert.equal(single.max[0], 100);
    assert.equal(single.min[13], -69);
    assert.equal(single.max[13], 16.5);
  });

  test('toJSON / fromJSON round trip, empty stats included', () => {
    const stats = new MinMaxStats().observe(hlfRows(rowA, rowB), 2, [0, 1]);
    const back = MinMaxStats.fromJSON(JSON.parse(JSON.stringify(stats)));
    assert.deepEqual(back.toJSON(), stats.toJSON());
    assert.deepEqual(Array.from(back.max), rowB);
    const empty = MinMaxStats.fromJSON(JSON.parse(JSON.stringify(new MinMaxStats())));
    assert.equal(empty.rows, 0);
    assert.equal(empty.min[0], Infinity);
    assert.throws(() => MinMaxStats.fromJSON({ ...stats.toJSON(), counts: [5, 0, 0] }), /counts do not add up/);
    assert.throws(() => MinMaxStats.fromJSON({ ...stats.toJSON(), min: [1] }), /min is not an array of 14/);
    assert.throws(() => scaleHlf(new MinMaxStats(), new Float64Array(14), new Float32Array(14)), /seen no rows/);
  });

  test('NaN and ±Inf are rejected with the feature index; the stats stay unchanged', () => {
    const stats = new MinMaxStats().observe(hlfRows(rowA), 1, [0]);
    const bad = hlfRows(rowB, ramp((i) => (i === 3 ? NaN : i)));
    assert.throws(
      () => stats.observe(bad, 2, [0, 0]),
      (e: unknown) => e instanceof NonFiniteFeatureError && e.feature === 3 && e.row === 1 && /hfeatures\[3\] is NaN/.test(e.message),
    );
    assert.deepEqual(stats.toJSON(), new MinMaxStats().observe(hlfRows(rowA), 1, [0]).toJSON());
    assert.throws(() => stats.observe(hlfRows(ramp((i) => (i === 11 ? -Infinity : 0))), 1, [0]), /hfeatures\[11\] is -Infinity/);
    assert.throws(() => scaleHlf(stats, Float64Array.from(ramp((i) => (i === 7 ? Infinity : 0))), new Float32Array(14)), /hfeatures\[7\] is Infinity/);
    assert.throws(() => stats.observe(hlfRows(rowA), 1, [3]), /label 3 is not a class/);
  });
});

// ---- particle transform -----------------------------------------------------

/** An n-row event; each spec sets some columns of one row, the rest stay 0. */
function event(...rows: Partial<Record<keyof typeof COL, number>>[]): Float32Array {
  const ev = new Float32Array(rows.length * W);
  rows.forEach((spec, r) => {
    for (const [name, value] of Object.entries(spec)) ev[r * W + COL[name as keyof typeof COL]] = value;
  });
  return ev;
}

/**
 * Five rows: the lepton at (η, φ) = (0.5, 3.0); a row at (0.5, −3.0) whose Δφ
 * = −6 wraps to 2π − 6 ≈ 0.283 (6 unwrapped, which would sort it first); two
 * rows tied at ΔR = 1 exactly ((1.5, 3) and (−0.5, 3)); one padding row at
 * ΔR = √(0.5² + 3²) ≈ 3.04. E = 8, 2, 6, 4, 0 tells the rows apart.
 */
const LEPTON = { E: 8, ETA: 0.5, PHI: 3, IS_MU: 1, CHARGE: -1 };
const WRAPPED = { E: 2, ETA: 0.5, PHI: -3, IS_CH_HAD: 1, CHARGE: -1 };
const TIE_FIRST = { E: 6, ETA: 1.5, PHI: 3, IS_CH_HAD: 1, CHARGE: -1 };
const TIE_SECOND = { E: 4, ETA: -0.5, PHI: 3, IS_GAMMA: 1 };
const tiny = (): Float32Array => event(LEPTON, WRAPPED, TIE_FIRST, TIE_SECOND, {});

describe('transformParticles, faithful', () => {
  test('descending ΔR over all rows (padding included), φ wrapped, ties stable, lepton last', () => {
    const out = new Float32Array(5 * W);
    assert.equal(transformParticles(tiny(), null, 'faithful', out), 4);
    // Order: padding (3.04), TIE_FIRST (1), TIE_SECOND (1), WRAPPED (0.283), LEPTON (0).
    // E = 0, 6, 4, 2, 8: mean 4, squared deviations 16 + 4 + 0 + 4 + 16 = 40, var 8, std 2√2.
    const s = Math.SQRT2;
    const e = column(out, COL.E);
    [-s, 1 / s, 0, -1 / s, s].forEach((v, i) => near(e[i], v, `E row ${i}`));
    // isMu: a single 1 among n = 5 rows: √(n−1) = 2 and −1/√(n−1) = −0.5, both exact.
    assert.deepEqual(column(out, COL.IS_MU), [-0.5, -0.5, -0.5, -0.5, 2]);
    // Never-set columns are constant (all 0) and stay 0.
    assert.deepEqual(column(out, COL.VTX_Z), [0, 0, 0, 0, 0]);
    // Charge = 0, −1, 0, −1, −1: mean −0.6, var 0.24.
    const q = column(out, COL.CHARGE);
    [0.6, -0.4, 0.6, -0.4, -0.4].forEach((d, i) => near(q[i], d / Math.sqrt(0.24), `charge row ${i}`));
    // The padding row is not 0 after standardisation (seed-pipeline.md §3): it is −mean/std, here in η: mean 0.4, var 0.44.
    near(out[COL.ETA], -0.4 / Math.sqrt(0.44), 'padding η');
  });

  test('every non-constant column ends with mean 0 and population std 1', () => {
    const out = new Float32Array(5 * W);
    transformParticles(tiny(), null, 'faithful', out);
    for (let c = 0; c < W; c++) {
      const v = column(out, c);
      if (v.every((x) => x === 0)) continue;
      const m = v.reduce((a, b) => a + b, 0) / v.length;
      const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
      near(m, 0, `mean of column ${c}`);
      near(sd, 1, `std of column ${c}`);
    }
  });

  test('a real row tied with the padding block keeps its input order, wherever the padding is', () => {
    // Lepton at (3, 0); padding and the row at (η, φ) = (0, 0) both have ΔR = 3. Inputs: lepton, real, pad / lepton, pad, real.
    const lepton = { E: 3, ETA: 3 };
    const atOrigin = { E: 1 };
    // E over (3, 1, 0): mean 4/3, var 14/9.
    const sd = Math.sqrt(14 / 9);
    const packed = new Float32Array(3 * W);
    transformParticles(event(lepton, atOrigin, {}), null, 'faithful', packed);
    [1 - 4 / 3, 0 - 4 / 3, 3 - 4 / 3].forEach((d, i) => near(packed[i * W + COL.E], d / sd, `packed row ${i}`));
    const unpacked = new Float32Array(3 * W);
    transformParticles(event(lepton, {}, atOrigin), null, 'faithful', unpacked);
    [0 - 4 / 3, 1 - 4 / 3, 3 - 4 / 3].forEach((d, i) => near(unpacked[i * W + COL.E], d / sd, `unpacked row ${i}`));
  });

  test('no padding and a lone lepton', () => {
    const one = new Float32Array(W);
    transformParticles(event(LEPTON), null, 'faithful', one);
    assert.deepEqual(Array.from(one), new Array<number>(W).fill(0));
  });
});

describe('transformParticles, masked', () => {
  test('sorts and standardises the real rows only; padding stays exactly 0 at the end', () => {
    const out = new Float32Array(5 * W).fill(7); // stale values must be overwritten
    assert.equal(transformParticles(tiny(), null, 'masked', out), 4);
    // Order: TIE_FIRST, TIE_SECOND, WRAPPED, LEPTON. E = 6, 4, 2, 8: mean 5, var (1 + 1 + 9 + 9)/4 = 5.
    const e = column(out, COL.E);
    [1, -1, -3, 3].forEach((d, i) => near(e[i], d / Math.sqrt(5), `E row ${i}`));
    // A single 1 among the 4 real rows: √3 and −1/√3.
    const mu = column(out, COL.IS_MU);
    [-1 / Math.sqrt(3), -1 / Math.sqrt(3), -1 / Math.sqrt(3), Math.sqrt(3)].forEach((v, i) => near(mu[i], v, `isMu row ${i}`));
    // Charge = −1, 0, −1, −1 over the real rows: mean −0.75, var 0.1875.
    const q = column(out, COL.CHARGE);
    [-0.25, 0.75, -0.25, -0.25].forEach((d, i) => near(q[i], d / Math.sqrt(0.1875), `charge row ${i}`));
    assert.ok(out.subarray(4 * W).every((x) => Object.is(x, 0)), 'padding row is exactly +0');
    // The same with nReal given.
    const given = new Float32Array(5 * W);
    transformParticles(tiny(), 4, 'masked', given);
    assert.deepEqual(given, out);
  });

  test('a constant column over the real rows becomes 0 even though padding differs', () => {
    // Charge is −1 on both real rows: constant there, so 0 (in faithful mode the padding would make it vary).
    const out = new Float32Array(3 * W);
    transformParticles(event({ E: 5, ETA: 1, PHI: 1, CHARGE: -1 }, { E: 3, ETA: 2, PHI: 1, CHARGE: -1 }, {}), null, 'masked', out);
    assert.deepEqual(column(out, COL.CHARGE), [0, 0, 0]);
    // E = 3, 5 after the sort (ΔR 1, then the lepton): ±1.
    assert.deepEqual(column(out, COL.E), [-1, 1, 0]);
  });

  test('a single real row becomes all 0 (documented consequence); no real row gives all 0', () => {
    const out = new Float32Array(3 * W).fill(1);
    assert.equal(transformParticles(event(LEPTON, {}, {}), null, 'masked', out), 1);
    assert.ok(out.every((x) => x === 0));
    out.fill(1);
    assert.equal(transformParticles(new Float32Array(3 * W), null, 'masked', out), 0);
    assert.ok(out.every((x) => x === 0));
  });

  test('real rows after padding, or beyond nReal, are rejected', () => {
    const out = new Float32Array(5 * W);
    assert.throws(() => transformParticles(event(LEPTON, {}, WRAPPED), null, 'masked', new Float32Array(3 * W)), /row 2 is not all-zero/);
    assert.throws(() => transformParticles(tiny(), 2, 'masked', out), /row 2 is not all-zero/);
    assert.throws(() => transformParticles(tiny(), 6, 'masked', out), /nReal 6/);
  });
});

describe('dataset-wide particle scaling (particleScaling: dataset)', () => {
  /** Two events of 3 rows; the second pads its last row. */
  const events = (): Float32Array => {
    const a = event({ E: 6, PT: 2, ETA: 1, PHI: 1, CHARGE: 1 }, { E: 2, PT: 1, ETA: 0.5, PHI: 1, CHARGE: 1 }, { E: 4, PT: 3, ETA: 2, PHI: 1, CHARGE: 1 });
    const b = event({ E: 8, PT: 6, ETA: -1, PHI: 0, CHARGE: 1 }, { E: 10, PT: 4, ETA: -1, PHI: 2, CHARGE: 1 }, {});
    const both = new Float32Array(6 * W);
    both.set(a);
    both.set(b, 3 * W);
    return both;
  };

  test('mean and population std over the real rows of every event; constant columns get std 0', () => {
    const scale = new ParticleStats().observe(events(), 2).scale();
    // E over the 5 real rows: 6, 2, 4, 8, 10: mean 6, variance (0 + 16 + 4 + 4 + 16) / 5 = 8.
    near(scale.mean[COL.E], 6, 'mean E');
    near(scale.std[COL.E], Math.sqrt(8), 'std E');
    assert.equal(scale.std[COL.CHARGE], 0, 'charge is 1 everywhere: constant');
    assert.equal(scale.std[COL.IS_MU], 0, 'never set: constant');
  });

  test('merging parts equals one pass; JSON round trip', () => {
    const all = events();
    const whole = new ParticleStats().observe(all, 2);
    const merged = new ParticleStats().observe(all.subarray(0, 3 * W), 1).merge(new ParticleStats().observe(all.subarray(3 * W), 1)).merge(new ParticleStats());
    assert.equal(merged.rows, 5);
    for (let c = 0; c < W; c++) {
      near(merged.mean[c], whole.mean[c]!, `mean ${c}`);
      near(merged.m2[c], whole.m2[c]!, `m2 ${c}`);
    }
    assert.deepEqual(ParticleStats.fromJSON(JSON.parse(JSON.stringify(whole.toJSON())) as ParticleStatsJSON).scale(), whole.scale());
    assert.throws(() => new ParticleStats().scale(), /seen no particle/);
  });

  test('the transform sorts as per event but standardises with the fitted scale; masked padding stays 0, faithful padding is −mean/std', () => {
    const scale = new ParticleStats().observe(events(), 2).scale();
    const ev = events().subarray(3 * W);
    const masked = new Float32Array(3 * W);
    assert.equal(transformParticles(ev, null, 'masked', masked, scale), 2);
    // Sorted by descending ΔR from the lepton (row 0): the other row (ΔR 2), then the lepton.
    assert.deepEqual(column(masked, COL.E).map((x) => Number(x.toFixed(5))), [10, 8, 0].map((e, r) => (r < 2 ? Number(((e - 6) / Math.sqrt(8)).toFixed(5)) : 0)));
    assert.ok(masked.subarray(2 * W).every((x) => Object.is(x, 0)), 'padding row is exactly 0');
    assert.ok(column(masked, COL.CHARGE).every((x) => x === 0), 'a constant column becomes 0');
    const faithful = new Float32Array(3 * W);
    transformParticles(ev, null, 'faithful', faithful, scale);
    assert.ok(column(faithful, COL.E).some((x) => Math.abs(x - -6 / Math.sqrt(8)) < 1e-6), 'faithful padding is (0 − mean)/std');
    // The per-event mode on the same event differs (it standardises over the event's own two rows: ±1).
    const perEvent = new Float32Array(3 * W);
    transformParticles(ev, null, 'masked', perEvent);
    assert.deepEqual(column(perEvent, COL.E), [1, -1, 0]);
  });

  test('NaN names row and column with a fitted scale too', () => {
    const scale = new ParticleStats().observe(events(), 2).scale();
    const ev = tiny();
    ev[2 * W + COL.PT] = NaN;
    assert.throws(() => transformParticles(ev, null, 'masked', new Float32Array(5 * W), scale), /row 2 column 4 is NaN/);
    assert.throws(() => new ParticleStats().observe(ev, 1), /column 4, is NaN/);
  });
});

describe('transformParticles, input checks', () => {
  test('NaN names row and column; shapes and overlap are checked', () => {
    const ev = tiny();
    ev[2 * W + COL.PT] = NaN;
    assert.throws(() => transformParticles(ev, null, 'faithful', new Float32Array(5 * W)), /row 2 column 4 is NaN/);
    assert.throws(() => transformParticles(new Float32Array(20), null, 'faithful', new Float32Array(20)), /not a multiple of 19/);
    assert.throws(() => transformParticles(tiny(), null, 'faithful', new Float32Array(4 * W)), /out has/);
    const shared = new Float32Array(10 * W);
    assert.throws(() => transformParticles(shared.subarray(0, 5 * W), null, 'faithful', shared.subarray(4 * W, 9 * W)), /overlap/);
  });
});

describe('countRealRows', () => {
  test('counts the leading non-all-zero rows', () => {
    assert.equal(countRealRows(tiny(), 5), 4);
    assert.equal(countRealRows(event(LEPTON, {}, WRAPPED), 3), 1);
    assert.equal(countRealRows(event(LEPTON, WRAPPED), 2), 2);
    assert.equal(countRealRows(new Float32Array(3 * W), 3), 0);
    // A row with a single non-zero value in its last column is real; −0 counts as 0.
    const ev = event(LEPTON, { CHARGE: 1 }, {});
    ev[2 * W + COL.E] = -0;
    assert.equal(countRealRows(ev, 3), 2);
  });
});

// ---- sampling -------------------------------------------------------------------

describe('rowUniform', () => {
  test('a known value: SHA-256 of "seed|purpose|file|entry", first 8 bytes big-endian >> 11, / 2^53', () => {
    const text = '42|split|ttbar_lepFilter_13TeV_1.root|1234';
    // sha256sum of that string, computed outside the code under test.
    const hex = '294415865d8b91f065bf1fb0e66a5b52d49e7978f91c95497efecbc91ab84bbf';
    assert.equal(createHash('sha256').update(text, 'utf8').digest('hex'), hex);
    // 0x294415865d8b91f0 >> 11 = 0x52882b0cbb172, then / 2^53.
    const expected = Number(BigInt('0x294415865d8b91f0') >> 11n) / 2 ** 53;
    assert.equal(expected, 0.16119513063817537);
    assert.equal(rowUniform(42, 'split', 'ttbar_lepFilter_13TeV_1.root', 1234), expected);
  });

  test('range [0, 1), roughly uniform, and purposes, seeds and entries decorrelate', () => {
    const us = Array.from({ length: 2000 }, (_, i) => rowUniform(7, 'shuffle', 'f.root', i));
    assert.ok(us.every((u) => u >= 0 && u < 1));
    const mean = us.reduce((a, b) => a + b, 0) / us.length;
    assert.ok(Math.abs(mean - 0.5) < 0.03, `mean ${mean}`);
    assert.ok(us.filter((u) => u < 0.8).length > 1500 && us.filter((u) => u < 0.8).length < 1700);
    const base = rowUniform(7, 'balance', 'f.root', 3);
    assert.notEqual(rowUniform(7, 'split', 'f.root', 3), base);
    assert.notEqual(rowUniform(7, 'shuffle', 'f.root', 3), base);
    assert.notEqual(rowUniform(8, 'balance', 'f.root', 3), base);
    assert.notEqual(rowUniform(7, 'balance', 'g.root', 3), base);
    assert.notEqual(rowUniform(7, 'balance', 'f.root', 4), base);
    assert.equal(rowUniform(7, 'balance', 'f.root', 3), base);
  });
});

describe('keepForBalance, isTrain, compareShuffle', () => {
  test('QCD always kept; class c kept iff u < counts[0]/counts[c]; ratios ≥ 1 always kept', () => {
    const counts: [number, number, number] = [100, 400, 50];
    assert.equal(keepForBalance(0, 0.999999, counts), true);
    assert.equal(keepForBalance(1, 0.2499, counts), true); // ratio 0.25
    assert.equal(keepForBalance(1, 0.25, counts), false);
    assert.equal(keepForBalance(1, 0.9, counts), false);
    assert.equal(keepForBalance(2, 0.999999, counts), true); // ratio 2
    assert.throws(() => keepForBalance(-1, 0.5, counts), /label -1/);
  });

  test('train iff u < 0.8', () => {
    assert.equal(isTrain(0), true);
    assert.equal(isTrain(0.7999999), true);
    assert.equal(isTrain(0.8), false);
    assert.equal(isTrain(0.95), false);
  });

  test('shuffle order: u, then source file, then entry', () => {
    const keys: ShuffleKey[] = [
      { u: 0.5, sourceFile: 'b', entry: 1 },
      { u: 0.5, sourceFile: 'a', entry: 9 },
      { u: 0.1, sourceFile: 'z', entry: 0 },
      { u: 0.5, sourceFile: 'a', entry: 2 },
    ];
    assert.deepEqual(
      [...keys].sort(compareShuffle).map((k) => `${k.u}/${k.sourceFile}/${k.entry}`),
      ['0.1/z/0', '0.5/a/2', '0.5/a/9', '0.5/b/1'],
    );
  });
});

describe('encodeLabel', () => {
  test('one-hot, dropLast = false', () => {
    assert.deepEqual(Array.from(encodeLabel(0)), [1, 0, 0]);
    assert.deepEqual(Array.from(encodeLabel(1)), [0, 1, 0]);
    const out = Float32Array.of(5, 5, 5);
    assert.equal(encodeLabel(2, out), out);
    assert.deepEqual(Array.from(out), [0, 0, 1]);
    assert.throws(() => encodeLabel(1.5), /label 1.5/);
  });
});

// ---- on stage-1 Parquet --------------------------------------------------------

describe('on rows read back from stage-1 Parquet', () => {
  test('statistics per row group merge to the whole file; events transform from the flat lfeatures', async () => {
    const events = [tiny().subarray(0, 3 * W), event(LEPTON, TIE_FIRST, {}), event(WRAPPED, {}, {})];
    const writer = new IngestParquetWriter({ rowGroupSize: 2, particles: 3 });
    events.forEach((lfeatures, i) => writer.add({ hfeatures: ramp((f) => f * (i + 1)), lfeatures, label: i, sourceFile: 'f.root', entry: i }));
    const bytes = await collectBytes(writer.finish());

    const merged = new MinMaxStats();
    for await (const group of readIngestRowGroups(bytes, { columns: ['hfeatures', 'label'] })) {
      merged.merge(new MinMaxStats().observe(group.hfeatures ?? new Float64Array(0), group.rows, group.label ?? []));
    }
    const whole = await readIngestParquet(bytes);
    assert.deepEqual(merged.toJSON(), new MinMaxStats().observe(whole.hfeatures ?? new Float64Array(0), whole.rows, whole.label ?? []).toJSON());
    // Feature f spans [f, 3f]; feature 0 is constant 0.
    assert.deepEqual(merged.counts, [1, 1, 1]);
    assert.equal(merged.max[4], 12);
    assert.equal(scaleHlf(merged, Float64Array.from(ramp((f) => 2 * f)), new Float32Array(14))[4], 0.5);
    assert.equal(scaleHlf(merged, Float64Array.from(ramp((f) => 2 * f)), new Float32Array(14))[0], 0.5);

    const lfeatures = whole.lfeatures ?? new Float32Array(0);
    assert.equal(whole.particles, 3);
    const reals = events.map((_, i) => countRealRows(lfeatures.subarray(i * 3 * W, (i + 1) * 3 * W), 3));
    assert.deepEqual(reals, [3, 2, 1]);
    // Event 1, masked: TIE_FIRST (ΔR 1) then the lepton; E = 6, 8 → −1, +1; the padding row stays 0.
    const out = new Float32Array(3 * W);
    transformParticles(lfeatures.subarray(3 * W, 6 * W), null, 'masked', out);
    assert.deepEqual(column(out, COL.E), [-1, 1, 0]);
  });
});
