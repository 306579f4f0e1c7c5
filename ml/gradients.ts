/**
 * One batch's forward and backward pass, without the update: the gradients
 * of its mean loss, that loss and the correct count. The trainer applies
 * them at once; replicas (replicas.ts) compute them for shards of a batch
 * and the trainer combines those first.
 */
import { tf } from './tf.js';
import type { BuiltModel } from './build.js';
import type { Batch } from './rows.js';
import { denseGradients, PROB_CLIP } from './denseStep.js';
import { CLASSES, HLF_FEATURES, PARTICLE_FEATURES } from '../hep/layout.js';

export { PROB_CLIP };

export interface BatchGradients {
  /** In the order of the variables asked for; tracked by the enclosing tf.tidy. */
  grads: tf.Tensor[];
  /** The batch's mean loss. */
  loss: number;
  correct: number;
}

/**
 * The gradients of the batch's mean loss w.r.t. `vars` (in their order), with
 * that loss and the correct count; call inside tf.tidy. Dropout masks follow
 * `built.clock`.
 */
export function batchGradients(built: BuiltModel, vars: tf.Variable[], batch: Batch): BatchGradients {
  if (built.dense) return denseGradients(built.dense, vars, batch);
  const xs = inputsOf(built, batch);
  const labels = tf.tensor1d(Int32Array.from(batch.labels), 'int32');
  const y = tf.oneHot(labels, CLASSES).cast('float32');
  let probs: tf.Tensor2D | undefined;
  const { value, grads } = tf.variableGrads(() => {
    probs = tf.keep(built.model.apply(xs, { training: true }) as tf.Tensor2D);
    return crossEntropy(probs, y);
  }, vars);
  const correct = probs!.argMax(1).equal(labels).sum().dataSync()[0]!;
  probs!.dispose();
  return { grads: vars.map((v) => grads[v.name]!), loss: value.dataSync()[0]!, correct };
}

/** Keras' categorical cross-entropy on probabilities: clipped away from 0 and 1. */
function crossEntropy(probs: tf.Tensor2D, y: tf.Tensor): tf.Scalar {
  return tf.neg(tf.mean(tf.sum(y.mul(tf.log(tf.clipByValue(probs, PROB_CLIP, 1 - PROB_CLIP))), 1))) as tf.Scalar;
}

/** The batch as the tensors the model takes, in its input order. */
export function inputsOf(built: BuiltModel, batch: Batch): tf.Tensor[] {
  return built.inputs.map((name) =>
    name === 'hlf' ? tf.tensor2d(batch.hlf!, [batch.size, HLF_FEATURES]) : tf.tensor3d(batch.particles!, [batch.size, batch.steps, PARTICLE_FEATURES]),
  );
}
