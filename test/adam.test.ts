/**
 * Adam on wasm updates in place on the heap (ml/adam.ts): the same updates
 * as its tfjs-op path within float rounding, whichever way the gradients are
 * split into tensors, and moments that a checkpoint reads and restores.
 * (Seeds start at 1: tfjs takes a seed of 0 as none.)
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../ml/tf.js';
import { useBackend } from '../ml/backend.js';
import { Adam, KERAS_ADAM } from '../ml/adam.js';
import { buildModel } from '../ml/build.js';
import { ModelSpec } from '../ml/modelSpec.js';
import { trainStep } from '../ml/trainer.js';

const SHAPES = [[5, 3], [3], [3, 2], [2]];

before(async () => {
  await useBackend('wasm');
});
after(() => {
  delete process.env.TOPOFLOW_WASM_ADAM;
});

/** `steps` updates of fresh variables with seeded gradients; `flat`: each step's gradients as one tensor. */
function run(inPlace: boolean, flat: boolean, steps = 40) {
  process.env.TOPOFLOW_WASM_ADAM = inPlace ? '1' : '0';
  const vars = SHAPES.map((s, i) => tf.variable(tf.randomNormal(s, 0, 1, 'float32', 10 + i)));
  const adam = new Adam(vars, { ...KERAS_ADAM, learningRate: 0.01 });
  for (let t = 0; t < steps; t++) {
    adam.lrFactor = t < 20 ? 1 : 0.4;
    tf.tidy(() => {
      const grads = SHAPES.map((s, i) => tf.randomNormal(s, 0, t % 3 === 0 ? 1e-3 : 1, 'float32', 1 + 1000 * t + i));
      if (flat) adam.applyFlat(tf.concat(grads.map((g) => g.reshape([-1]))));
      else adam.apply(grads);
    });
  }
  const out = { weights: vars.map((v) => Array.from(v.dataSync())), moments: adam.moments(), step: adam.step };
  adam.dispose();
  tf.dispose(vars);
  return out;
}

const maxDiff = (a: number[][], b: number[][]) => Math.max(...a.flatMap((x, i) => x.map((v, k) => Math.abs(v - b[i]![k]!))));

test('in place on the wasm heap: the updates of the op path within float rounding', () => {
  const ops = run(false, false);
  const heap = run(true, false);
  assert.equal(heap.step, 40);
  assert.ok(maxDiff(heap.weights, ops.weights) < 1e-5, `weights differ by ${maxDiff(heap.weights, ops.weights)}`);
  for (const k of ['m', 'v'] as const) {
    const d = maxDiff(heap.moments[k].map((x) => Array.from(x)), ops.moments[k].map((x) => Array.from(x)));
    assert.ok(d < 1e-5, `${k} differs by ${d}`);
  }
  assert.ok(maxDiff(heap.weights, run(true, false, 0).weights) > 0.05, 'the weights moved');
});

test('in place: the same bits whether the gradients come per variable or as one flat tensor', () => {
  assert.deepEqual(run(true, true), run(true, false));
});

test('in place: restored moments continue as if never stopped', () => {
  process.env.TOPOFLOW_WASM_ADAM = '1';
  const make = () => SHAPES.map((s, i) => tf.variable(tf.randomNormal(s, 0, 1, 'float32', 10 + i)));
  const grads = (t: number) => SHAPES.map((s, i) => tf.randomNormal(s, 0, 1, 'float32', 1 + 77 * t + i));
  const a = make();
  const adam = new Adam(a, KERAS_ADAM);
  for (let t = 0; t < 6; t++) tf.tidy(() => adam.apply(grads(t)));
  const b = make();
  const resumed = new Adam(b, KERAS_ADAM);
  for (let t = 0; t < 3; t++) tf.tidy(() => resumed.apply(grads(t)));
  const { m, v } = resumed.moments();
  const weights = b.map((x) => x.dataSync().slice());
  const c = make();
  c.forEach((x, i) => x.assign(tf.tensor(weights[i]!, x.shape)));
  const again = new Adam(c, KERAS_ADAM);
  again.setMoments(m, v);
  again.step = 3;
  for (let t = 3; t < 6; t++) tf.tidy(() => again.apply(grads(t)));
  assert.deepEqual(c.map((x) => Array.from(x.dataSync())), a.map((x) => Array.from(x.dataSync())));
  for (const o of [adam, resumed, again]) o.dispose();
  tf.dispose([...a, ...b, ...c]);
});

test('in place: a model trains as with the op path (its matMuls see every new weight)', () => {
  const spec = ModelSpec.parse({ name: 'hlf', input: 'hlf', layers: [{ dense: 6, activation: 'relu' }, { dense: 3, activation: 'softmax' }] });
  const batch = { size: 16, hlf: Float32Array.from({ length: 16 * 14 }, (_, i) => Math.sin(i * 0.7)), particles: undefined, steps: 0, labels: Int8Array.from({ length: 16 }, (_, i) => i % 3) };
  const losses = (inPlace: boolean) => {
    process.env.TOPOFLOW_WASM_ADAM = inPlace ? '1' : '0';
    const built = buildModel(spec, 5);
    const vars = built.model.trainableWeights.map((w) => w.read() as tf.Variable);
    const adam = new Adam(vars, { ...KERAS_ADAM, learningRate: 0.02 });
    const out = Array.from({ length: 12 }, () => trainStep(built, adam, vars, batch).loss);
    adam.dispose();
    built.model.dispose();
    return out;
  };
  const ops = losses(false);
  const heap = losses(true);
  assert.ok(ops[11]! < ops[0]! - 0.05, `the loss falls: ${ops.join(', ')}`);
  heap.forEach((l, i) => assert.ok(Math.abs(l - ops[i]!) < 1e-4, `step ${i + 1}: loss ${l} in place, ${ops[i]} as ops`));
});
