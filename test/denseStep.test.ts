/**
 * The dense-stack training step (ml/denseStep.ts) against the gradient tape
 * it replaces: which models take it, and the same losses and weights within
 * float tolerance after many Adam steps, for each hidden activation.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { useBackend } from '../ml/backend.js';
import { buildModel } from '../ml/build.js';
import { Adam, KERAS_ADAM } from '../ml/adam.js';
import { trainStep } from '../ml/trainer.js';
import { denseChain, PROB_CLIP, softmaxCrossEntropy } from '../ml/denseStep.js';
import { tf } from '../ml/tf.js';
import { ModelSpec } from '../ml/modelSpec.js';
import { BackendChoice } from '../ml/backendChoice.js';
import { Rng } from '../common/rng.js';
import type { Batch } from '../ml/data.js';

const BACKEND = BackendChoice.parse(process.env.TOPOFLOW_TEST_BACKEND ?? 'wasm');
const dense = (hidden: string[]) => ModelSpec.parse({ name: 'm', input: 'hlf', layers: [...hidden.map((activation, i) => ({ dense: 12 + 4 * i, activation })), { dense: 3, activation: 'softmax' }] });

function batchOf(seed: number, size = 64): Batch {
  const rng = new Rng(seed, 0, 1);
  const labels = Int8Array.from({ length: size }, () => Math.floor(rng.uniform() * 3));
  // Features that depend on the label, so training has something to learn.
  const hlf = Float32Array.from({ length: size * 14 }, (_, i) => 2 * rng.uniform() - 1 + (labels[Math.floor(i / 14)]! === i % 3 ? 1.5 : 0));
  return { size, hlf, particles: undefined, steps: 0, labels };
}

before(async () => {
  await useBackend(BACKEND);
});

describe('dense training step', () => {
  test('taken by dense stacks on the HLF (every model ends in a 3-way softmax), and by nothing else', () => {
    assert.deepEqual(denseChain(dense(['relu', 'relu', 'relu'])), ['relu', 'relu', 'relu']);
    assert.deepEqual(denseChain(dense([])), []);
    assert.equal(denseChain(ModelSpec.parse({ name: 'd', input: 'hlf', layers: [{ dropout: 0.2 }, { dense: 3, activation: 'softmax' }] })), null, 'dropout: the tape');
    assert.equal(denseChain(ModelSpec.parse({ name: 'p', input: 'particles', layers: [{ masking: 0 }, { gru: 4 }, { dense: 3, activation: 'softmax' }] })), null);
  });

  test('softmax and cross-entropy in JavaScript: the loss, gradient and correct count of tfjs ops, saturated rows included', () => {
    const n = 40;
    const rng = new Rng(5, 0, 1);
    // Ordinary rows, and rows so confident that the clip at ε and 1 − ε applies.
    const logits = Float32Array.from({ length: n * 3 }, (_, i) => (Math.floor(i / 3) % 4 === 0 ? 40 : 3) * (2 * rng.uniform() - 1));
    const labels = Int8Array.from({ length: n }, (_, i) => i % 3);
    const ours = softmaxCrossEntropy(logits, labels);
    const y = tf.oneHot(tf.tensor1d(Int32Array.from(labels), 'int32'), 3).cast('float32');
    const lossOf = (z: tf.Tensor) => tf.neg(tf.mean(tf.sum(y.mul(tf.log(tf.clipByValue(tf.softmax(z), PROB_CLIP, 1 - PROB_CLIP))), 1))) as tf.Scalar;
    const z = tf.tensor2d(logits, [n, 3]);
    const { value, grad } = tf.valueAndGrad(lossOf)(z);
    assert.ok(Math.abs(ours.loss - value.dataSync()[0]!) < 1e-5, `loss ${ours.loss} against ${value.dataSync()[0]}`);
    const want = grad.dataSync();
    ours.dLogits.forEach((g, i) => assert.ok(Math.abs(g - want[i]!) < 1e-6, `dLogits[${i}]: ${g} against ${want[i]}`));
    assert.ok(ours.dLogits.some((g) => g !== 0) && want.some((g, i) => g === 0 && i % 12 < 3), 'both clipped and ordinary rows');
    const expectedCorrect = tf.softmax(z).argMax(1).equal(tf.tensor1d(Int32Array.from(labels), 'int32')).sum().dataSync()[0];
    assert.equal(ours.correct, expectedCorrect);
    assert.throws(() => softmaxCrossEntropy(logits.subarray(1), labels), /119 logits for 40 rows of 3/);
    tf.dispose([y, z, value, grad]);
  });

  for (const hidden of [['relu', 'relu', 'relu'], ['tanh', 'sigmoid'], ['linear'], []]) {
    test(`hidden ${hidden.join(', ') || 'none'}: the same losses and weights as the gradient tape after 200 Adam steps (within float tolerance)`, () => {
      const spec = dense(hidden);
      const run = (tape: boolean) => {
        const built = buildModel(spec, 3);
        assert.ok(built.dense, 'the model takes the dense step');
        if (tape) built.dense = null;
        const vars = built.model.trainableWeights.map((w) => w.read() as never);
        const adam = new Adam(vars, { ...KERAS_ADAM, learningRate: 0.01 });
        const losses: number[] = [];
        const correct: number[] = [];
        for (let i = 0; i < 200; i++) {
          const r = trainStep(built, adam, vars, batchOf(i % 7));
          losses.push(r.loss);
          correct.push(r.correct);
        }
        const weights = built.model.getWeights().map((w) => Array.from(w.dataSync()));
        adam.dispose();
        built.model.dispose();
        return { losses, correct, weights };
      };
      const tape = run(true);
      const fast = run(false);
      assert.ok(tape.losses[199]! < tape.losses[0]! - 0.2, `it learns (${tape.losses[0]!.toFixed(3)} → ${tape.losses[199]!.toFixed(3)})`);
      fast.losses.forEach((l, i) => assert.ok(Math.abs(l - tape.losses[i]!) < 1e-4, `step ${i}: loss ${l} against ${tape.losses[i]}`));
      let worst = 0;
      fast.weights.forEach((w, i) => w.forEach((x, j) => (worst = Math.max(worst, Math.abs(x - tape.weights[i]![j]!)))));
      assert.ok(worst < 1e-4, `max |Δw| ${worst}`);
      assert.ok(fast.correct.reduce((a, b) => a + b) >= tape.correct.reduce((a, b) => a + b) - 5, 'the same accuracy, give or take a tie');
    });
  }
});
