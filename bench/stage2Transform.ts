/**
 * Micro-benchmark of the stage-2 particle transform (hep/stage2) alone:
 * synthetic 801 × 19 events with 1 lepton, ~150 tracks, ~100 photons and ~60
 * neutral hadrons packed first (the rest padding), transformed in each mode.
 * Prints events/s per mode (one core).
 *
 *   node dist/bench/stage2Transform.js [--seconds 3] [--real 311]
 */
import { parseArgs } from 'node:util';
import { COL } from '../hep/ingest/layout.js';
import { PARTICLE_FEATURES } from '../hep/layout.js';
import { transformParticles, type ParticleMode } from '../hep/features/index.js';

const ROWS = 801;
const DISTINCT_EVENTS = 64;

/** mulberry32: a small seeded PRNG, so every run times the same events. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One event with `real` non-zero rows (row 0 a muon, then tracks, photons, neutral hadrons), padded to 801 rows. */
function syntheticEvent(random: () => number, real: number): Float32Array {
  const uniform = (lo: number, hi: number): number => lo + (hi - lo) * random();
  const ev = new Float32Array(ROWS * PARTICLE_FEATURES);
  for (let r = 0; r < real; r++) {
    const kind = r === 0 ? 'mu' : r < real * 0.5 ? 'track' : r < real * 0.8 ? 'photon' : 'neutral';
    const pt = r === 0 ? uniform(30, 90) : 0.5 - Math.log(1 - random()) * 3;
    const eta = uniform(-2.5, 2.5);
    const phi = uniform(-Math.PI, Math.PI);
    const o = r * PARTICLE_FEATURES;
    ev[o + COL.E] = pt * Math.cosh(eta);
    ev[o + COL.PX] = pt * Math.cos(phi);
    ev[o + COL.PY] = pt * Math.sin(phi);
    ev[o + COL.PZ] = pt * Math.sinh(eta);
    ev[o + COL.PT] = pt;
    ev[o + COL.ETA] = eta;
    ev[o + COL.PHI] = phi;
    if (kind === 'track') {
      ev[o + COL.VTX_X] = uniform(-0.1, 0.1);
      ev[o + COL.VTX_Y] = uniform(-0.1, 0.1);
      ev[o + COL.VTX_Z] = uniform(-50, 50);
    }
    ev[o + COL.CH_ISO] = uniform(-1, 2);
    ev[o + COL.GAMMA_ISO] = uniform(0, 2);
    ev[o + COL.NEU_ISO] = uniform(0, 2);
    if (kind === 'mu') ev[o + COL.IS_MU] = 1;
    if (kind === 'track') ev[o + COL.IS_CH_HAD] = 1;
    if (kind === 'photon') ev[o + COL.IS_GAMMA] = 1;
    if (kind === 'neutral') ev[o + COL.IS_NEU_HAD] = 1;
    ev[o + COL.CHARGE] = kind === 'track' || kind === 'mu' ? (random() < 0.5 ? -1 : 1) : 0;
  }
  return ev;
}

/** Transforms the events round-robin for about `seconds`; returns events/s. */
function measure(mode: ParticleMode, events: Float32Array[], seconds: number): number {
  const out = new Float32Array(ROWS * PARTICLE_FEATURES);
  for (let i = 0; i < 3; i++) for (const ev of events) transformParticles(ev, null, mode, out); // warm-up
  let done = 0;
  const start = process.hrtime.bigint();
  const budget = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  while (elapsed < budget) {
    for (const ev of events) transformParticles(ev, null, mode, out);
    done += events.length;
    elapsed = process.hrtime.bigint() - start;
  }
  return done / (Number(elapsed) / 1e9);
}

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '3' }, real: { type: 'string', default: '311' } } });
const seconds = Number(values.seconds);
const real = Number(values.real);
if (!(seconds > 0) || !Number.isInteger(real) || real < 1 || real > ROWS) throw new RangeError('--seconds must be > 0 and --real an integer in [1, 801]');
const random = prng(20190510);
const events = Array.from({ length: DISTINCT_EVENTS }, () => syntheticEvent(random, real));
console.log(`stage-2 particle transform, ${ROWS} rows × ${PARTICLE_FEATURES}, ${real} real rows per event, ${seconds} s per mode`);
for (const mode of ['faithful', 'masked'] as const) {
  console.log(`${mode.padEnd(8)} ${Math.round(measure(mode, events, seconds)).toLocaleString('en-US')} events/s`);
}
