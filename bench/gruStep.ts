/**
 * FastGRU alone on the active back end: one forward pass, and one forward
 * and backward pass (gradients w.r.t. its weights), over 801 time steps with
 * every step real, at a few batch sizes. At batch 1 the arithmetic is
 * negligible, so that column is the fixed cost of the loop's op calls.
 *
 *   npm run build
 *   node dist/bench/gruStep.js [--backend tensorflow] [--batches 1,64,128] [--steps 801] [--repeat 3]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { tf } from '../ml/tf.js';
import { useBackend } from '../ml/backend.js';
import { BackendChoice } from '../ml/backendChoice.js';
import { gruBlockLastState, hasGruBlock } from '../ml/gruBlock.js';
import { gruLastState } from '../ml/gru.js';

const { values: o } = parseArgs({ options: { backend: { type: 'string', default: 'tensorflow' }, batches: { type: 'string', default: '1,64,128' }, steps: { type: 'string', default: '801' }, repeat: { type: 'string', default: '3' } } });
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

console.log(`FastGRU(${units}), ${time} steps, ${inDim} inputs, on ${backend.name} (${hasGruBlock() ? 'GRUBlockCell' : 'tfjs ops'}); load ${loadavg()[0]!.toFixed(2)}`);
console.log('| batch | forward, ms | forward + backward, ms |');
console.log('|---:|---:|---:|');
for (const batch of o.batches.split(',').map(Number)) {
  const x = tf.randomNormal([batch, time, inDim], 0, 1, 'float32', 3);
  const mask = tf.ones([batch, time]);
  const forward = ms(() => tf.tidy(() => void gru(x, k, r, b, mask).dataSync()));
  const both = ms(() =>
    tf.tidy(() => {
      const { grads } = tf.variableGrads(() => tf.sum(gru(x, k, r, b, mask)), [k, r, b]);
      for (const g of Object.values(grads)) g.dataSync();
    }),
  );
  console.log(`| ${batch} | ${forward.toFixed(1)} | ${both.toFixed(1)} |`);
  tf.dispose([x, mask]);
}
