/**
 * The hlf net's training step with and without the gradient tape
 * (ml/denseStep.ts), alternating in one process so that load from other
 * work hits both alike: samples/s per step (batch 128, fixed batch: the
 * step alone, no data stream), best of `--repeat` each.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/denseStep.js [--backend wasm|tensorflow] [--repeat 4] [--steps 1500]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { useBackend } from '../ml/backend.js';
import { buildModel } from '../ml/build.js';
import { Adam, KERAS_ADAM } from '../ml/adam.js';
import { trainStep } from '../ml/trainer.js';
import { ModelSpec } from '../ml/modelSpec.js';
import { BackendChoice } from '../ml/backendChoice.js';
import type { tf } from '../ml/tf.js';

const { values: o } = parseArgs({ options: { backend: { type: 'string', default: 'wasm' }, repeat: { type: 'string', default: '4' }, steps: { type: 'string', default: '1500' } } });
const backend = await useBackend(BackendChoice.parse(o.backend), { recurrent: false });
const spec = ModelSpec.parse({ name: 'hlf', input: 'hlf', layers: [{ dense: 50, activation: 'relu' }, { dense: 20, activation: 'relu' }, { dense: 10, activation: 'relu' }, { dense: 3, activation: 'softmax' }] });
const B = 128;
const batch = { size: B, hlf: Float32Array.from({ length: B * 14 }, (_, i) => Math.sin(i)), particles: undefined, steps: 0, labels: Int8Array.from({ length: B }, (_, i) => i % 3) };
const rates = { tape: [] as number[], dense: [] as number[] };
for (let rep = 0; rep < Number(o.repeat); rep++) {
  for (const mode of ['tape', 'dense'] as const) {
    const built = buildModel(spec, 1);
    if (mode === 'tape') built.dense = null;
    const vars = built.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const adam = new Adam(vars, KERAS_ADAM);
    for (let i = 0; i < 100; i++) trainStep(built, adam, vars, batch);
    const n = Number(o.steps);
    const started = performance.now();
    for (let i = 0; i < n; i++) trainStep(built, adam, vars, batch);
    rates[mode].push((B * n) / ((performance.now() - started) / 1000));
    adam.dispose();
    built.model.dispose();
  }
}
const best = (xs: number[]) => Math.max(...xs);
const ratios = rates.dense.map((d, i) => (d / rates.tape[i]!).toFixed(2)).join(', ');
console.log(`${backend.name}: gradient tape ${Math.round(best(rates.tape))} samples/s, dense step ${Math.round(best(rates.dense))} samples/s (${(best(rates.dense) / best(rates.tape)).toFixed(2)}×; per repetition ${ratios}); load ${loadavg()[0]!.toFixed(1)}`);
