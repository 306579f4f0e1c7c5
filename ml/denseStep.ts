/**
 * A training step for a plain stack of dense layers (the HLF classifier),
 * forward and backward written out: one fused matMul + bias + activation per
 * layer forward, the softmax and loss in JavaScript, five ops per layer
 * back. tfjs's gradient tape costs about six forward passes for such a net
 * (3.4 ms of a 4.6 ms step at batch 128 on wasm, measured), far more than
 * its arithmetic; without it a step is about three times faster. The loss
 * and its gradient are those of the tape path (Keras' categorical
 * cross-entropy on probabilities clipped to [ε, 1 − ε]),
 * so the result agrees with it within float tolerance (tested).
 */
import { tf } from './tf.js';
import type { Adam } from './adam.js';
import type { Batch } from './data.js';
import type { LayerSpec, ModelSpec } from './modelSpec.js';
import { CLASSES, HLF_FEATURES } from '../hep/layout.js';

type Hidden = 'relu' | 'tanh' | 'sigmoid' | 'linear';

/** The hidden layers' activations when the model is dense layers only on the HLF ending in a 3-way softmax; otherwise null. */
export function denseChain(spec: ModelSpec): Hidden[] | null {
  if (process.env.TOPOFLOW_DENSE_STEP === '0') return null;
  if (!('input' in spec) || spec.input !== 'hlf') return null;
  const layers: LayerSpec[] = spec.layers;
  if (!layers.every((l) => 'dense' in l)) return null;
  const dense = layers;
  const last = dense[dense.length - 1];
  if (!last || last.activation !== 'softmax' || last.dense !== CLASSES) return null;
  const hidden = dense.slice(0, -1).map((l) => l.activation);
  return hidden.every((a): a is Hidden => a !== 'softmax') ? hidden : null;
}

/** Keras clips probabilities to [ε, 1 − ε] before the log. */
export const PROB_CLIP = 1e-7;

/**
 * One step on `vars` (kernel, bias per layer, as the model's trainable
 * weights) with `adam`; returns the batch's mean loss and correct count.
 */
export function denseTrainStep(hidden: Hidden[], vars: tf.Variable[], adam: Adam, batch: Batch): { loss: number; correct: number } {
  return tf.tidy(() => {
    const { grads, loss, correct } = denseGradients(hidden, vars, batch);
    adam.apply(grads);
    return { loss, correct };
  });
}

/**
 * The gradients of the batch's mean loss w.r.t. `vars`, with that loss and
 * the correct count; call inside tf.tidy (the gradients are tracked by it).
 */
export function denseGradients(hidden: Hidden[], vars: tf.Variable[], batch: Batch): { grads: tf.Tensor[]; loss: number; correct: number } {
  const n = batch.size;
  const x = tf.tensor2d(batch.hlf!, [n, HLF_FEATURES]);
  // Forward, keeping each layer's input and output.
  const acts: tf.Tensor2D[] = [x];
  hidden.forEach((activation, l) => {
    // tfjs fuses relu and sigmoid into the matMul, not tanh.
    const z = tf.fused.matMul({ a: acts[l]!, b: vars[2 * l]!, bias: vars[2 * l + 1]!, activation: activation === 'tanh' ? 'linear' : activation }) as tf.Tensor2D;
    acts.push(activation === 'tanh' ? tf.tanh<tf.Tensor2D>(z) : z);
  });
  const L = hidden.length;
  const logits = tf.fused.matMul({ a: acts[L]!, b: vars[2 * L]!, bias: vars[2 * L + 1]! });
  const head = softmaxCrossEntropy(logits.dataSync() as Float32Array, batch.labels);
  let dz = tf.tensor2d(head.dLogits, [n, CLASSES]);
  const grads: tf.Tensor[] = new Array<tf.Tensor>(vars.length);
  for (let l = L; l >= 0; l--) {
    const input = acts[l]!;
    grads[2 * l] = tf.matMul(input, dz, true, false);
    grads[2 * l + 1] = dz.sum(0);
    if (l === 0) break;
    const da = tf.matMul<tf.Tensor2D>(dz, vars[2 * l]!, false, true);
    dz = backThrough(hidden[l - 1]!, da, input) as tf.Tensor2D;
  }
  return { grads, loss: head.loss, correct: head.correct };
}

/**
 * The softmax and Keras' categorical cross-entropy of a batch's logits
 * ([n, CLASSES] row-major), in double precision: the mean loss, the count of
 * rows whose largest probability (the first, on ties) is the label's, and
 * d(mean loss)/d(logits). The loss reads probabilities clipped to
 * [ε, 1 − ε] (the upper bound as float32 rounds it, as in tfjs), and the
 * gradient is zero through a clipped probability. A few hundred numbers: in
 * JavaScript this costs less than the ~20 tfjs ops it replaces.
 */
export function softmaxCrossEntropy(logits: Float32Array, labels: ArrayLike<number>): { loss: number; correct: number; dLogits: Float32Array } {
  const n = labels.length;
  if (logits.length !== n * CLASSES) throw new Error(`softmaxCrossEntropy: ${logits.length} logits for ${n} rows of ${CLASSES}`);
  const hi = Math.fround(1 - PROB_CLIP);
  const dLogits = new Float32Array(n * CLASSES);
  const p = new Float64Array(CLASSES);
  let loss = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = i * CLASSES;
    let max = -Infinity;
    for (let j = 0; j < CLASSES; j++) max = Math.max(max, logits[row + j]!);
    let sum = 0;
    for (let j = 0; j < CLASSES; j++) sum += p[j] = Math.exp(logits[row + j]! - max);
    let best = 0;
    for (let j = 0; j < CLASSES; j++) {
      p[j]! /= sum;
      if (p[j]! > p[best]!) best = j;
    }
    const label = labels[i]!;
    if (best === label) correct++;
    const pl = p[label]!;
    const clipped = Math.min(hi, Math.max(PROB_CLIP, pl));
    loss -= Math.log(clipped);
    // dL/dp is -1/(n·p) at the label (0 where clipped); through the softmax, dz_j = p_j·(g_j − g_label·p_label).
    const g = pl >= PROB_CLIP && pl <= hi ? -1 / (n * clipped) : 0;
    for (let j = 0; j < CLASSES; j++) dLogits[row + j] = p[j]! * ((j === label ? g : 0) - g * pl);
  }
  return { loss: loss / n, correct, dLogits };
}

/** d(loss)/d(pre-activation) from d(loss)/d(output) and the output `a` of the activation. */
function backThrough(activation: Hidden, da: tf.Tensor2D, a: tf.Tensor2D): tf.Tensor {
  switch (activation) {
    case 'relu':
      return da.mul(tf.step(a)); // 1 where the relu passed its input (one op; greater + cast is ten times slower on wasm)
    case 'tanh':
      return da.mul(tf.scalar(1).sub(a.square()));
    case 'sigmoid':
      return da.mul(a.mul(tf.scalar(1).sub(a)));
    case 'linear':
      return da;
  }
}
