/**
 * FastGRU alone on the active back end: one forward pass, and one forward
 * and backward pass (gradients w.r.t. its weights), over 801 time steps with
 * every step real, at a few batch sizes. At batch 1 the arithmetic is
 * negligible, so that column is the fixed cost of the loop's op calls.
 *
 * `--ragged`: rows of the demo data's lengths instead (log-normal, median 55
 * real steps, as particle counts at the demo caps; seeded), zero-padded to the
 * batch's longest, masked, and timed both packed (rowPlan.ts) and with every
 * row at every step. `--steps` then caps the lengths.
 *
 *   npm run build
 *   node dist/bench/gruStep.js [--backend tensorflow] [--batches 1,64,128] [--steps 801] [--repeat 3] [--ragged]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { tf } from '../ml/tf.js';
import { useBackend } from '../ml/backend.js';
import { BackendChoice } from '../ml/backendChoice.js';
import { gruBlockLastState, hasGruBlock } from '../ml/gruBlock.js';
import { gruLastState } from '../ml/gru.js';
import { Rng } from '../common/rng.js';

const { values: o } = parseArgs({ options: { backend: { type: 'string', default: 'tensorflow' }, batches: { type: 'string', default: '1,64,128' }, steps: { type: 'string', default: '801' }, repeat: { type: 'string', default: '3' }, ragged: { type: 'boolean', default: false } } });
const backend = await useBackend(BackendChoice.parse(o.backend), { recurrent: true });
const gru = hasGruBlock() ? gruBlockLastState : gruLastState;
const [time, inDim, units] = [Number(o.steps), 19, 50];
const k = tf.variable(tf.randomNormal([inDim, 3 * units], 0, 0.1, 'float32', 1));
const r = tf.variable(tf.randomNormal([units, 3 * units], 0, 0.1, 'float32', 2));
const b = tf.variable(tf.zeros([3 * units]));

/** Mean milliseconds of `f` over `--repeat` runs after one warm-up run. */
function ms(f: () => void): number {
  f();
  const n = Number(o.repeat);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) f();
  return (performance.now() - t0) / n;
}

/** Row lengths like the demo data's particle counts (seeded), capped at `time`. */
function raggedLengths(batch: number): number[] {
  const rng = new Rng(batch, 0, 1);
  return Array.from({ length: batch }, () => Math.max(1, Math.min(time, Math.round(Math.exp(Math.log(55) + 0.35 * rng.normal())))));
}

/** Forward, and forward + backward, milliseconds over `x` with `mask`. */
function timings(x: tf.Tensor, mask: tf.Tensor, packed: boolean): [number, number] {
  const forward = ms(() => tf.tidy(() => void gru(x, k, r, b, mask, { packed, inputGradient: false }).dataSync()));
  const both = ms(() =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(gru(x, k, r, b, mask, { packed, inputGradient: false })), [k, r, b]);
      for (const g of Object.values(grads)) g.dataSync();
    }),
  );
  return [forward, both];
}

const ragged = o.ragged === true;
console.log(`FastGRU(${units}), ${ragged ? `rows of demo-like lengths (at most ${time})` : `${time} steps`}, ${inDim} inputs, on ${backend.name} (${hasGruBlock() ? 'GRUBlockCell' : 'tfjs ops'}); load ${loadavg()[0]!.toFixed(2)}`);
console.log(ragged ? '| batch | steps (longest row) | real steps / all | forward, packed / every row, ms | forward + backward, packed / every row, ms |' : '| batch | forward, ms | forward + backward, ms |');
console.log(ragged ? '|---:|---:|---:|---:|---:|' : '|---:|---:|---:|');
for (const batch of o.batches.split(',').map(Number)) {
  const lengths = ragged ? raggedLengths(batch) : new Array<number>(batch).fill(time);
  const steps = Math.max(...lengths);
  const real = tf.tensor2d(lengths.flatMap((n) => Array.from({ length: steps }, (_, t) => (t < n ? 1 : 0))), [batch, steps]);
  const x = tf.tidy(() => tf.mul(tf.randomNormal([batch, steps, inDim], 0, 1, 'float32', 3), tf.expandDims(real, 2)));
  const mask = tf.tidy(() => tf.cast(real, 'bool'));
  if (ragged) {
    const [fp, bp] = timings(x, mask, true);
    const [ff, bf] = timings(x, mask, false);
    const share = lengths.reduce((a, c) => a + c, 0) / (batch * steps);
    console.log(`| ${batch} | ${steps} | ${share.toFixed(2)} | ${fp.toFixed(1)} / ${ff.toFixed(1)} | ${bp.toFixed(1)} / ${bf.toFixed(1)} |`);
  } else {
    const [forward, both] = timings(x, mask, true);
    console.log(`| ${batch} | ${forward.toFixed(1)} | ${both.toFixed(1)} |`);
  }
  tf.dispose([x, mask, real]);
}
