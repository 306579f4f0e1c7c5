/**
 * Compiles a ModelSpec to a tfjs LayersModel. Every initializer is seeded from
 * (model seed, layer index), so the same spec and seed give the same weights
 * on any machine; dropout masks follow the trainer's step clock. Every layer
 * is named after where it sits in the spec (`particles_1_gru`, `layers_0_dense`):
 * left unnamed, tfjs numbers layers with process-wide counters, and those
 * numbers would reach model.json's weight names and so the stage's content hash.
 */
import { tf } from './tf.js';
import { SeededDropout, StepClock } from './layers.js';
import { fastGru } from './gru.js';
import { fastLstm } from './lstm.js';
import { denseChain } from './denseStep.js';
import { branchesOf, layerKind, type LayerSpec, type ModelInput, type ModelSpec } from './modelSpec.js';
import { HLF_FEATURES, PARTICLE_FEATURES } from '../hep/layout.js';

export interface BuiltModel {
  model: tf.LayersModel;
  /** The model's inputs in the order `model.apply` takes them. */
  inputs: ModelInput[];
  clock: StepClock;
  /** For a plain dense stack on the HLF: its hidden activations, so training can skip the gradient tape (denseStep.ts). */
  dense: ReturnType<typeof denseChain>;
}

export function buildModel(spec: ModelSpec, seed: number): BuiltModel {
  const clock = new StepClock();
  let layerIndex = 0;
  const make = (l: LayerSpec, list: string, index: number, afterWeights: boolean) => makeLayer(l, layerName(list, index, l), mixSeed(seed, layerIndex++), clock, afterWeights);

  const inputs: tf.SymbolicTensor[] = [];
  const names: ModelInput[] = [];
  const outputs: tf.SymbolicTensor[] = [];
  for (const [name, layers] of branchesOf(spec)) {
    const input = tf.input({ name, shape: name === 'hlf' ? [HLF_FEATURES] : [null, PARTICLE_FEATURES] });
    inputs.push(input);
    names.push(name);
    outputs.push(layers.reduce((x, l, i) => make(l, name, i, layers.slice(0, i).some(hasWeights)).apply(x) as tf.SymbolicTensor, input));
  }
  let x = outputs.length === 1 ? outputs[0]! : (tf.layers.concatenate({ name: 'concatenate' }).apply(outputs) as tf.SymbolicTensor);
  const branchWeights = branchesOf(spec).some(([, layers]) => layers.some(hasWeights));
  spec.layers.forEach((l, i) => (x = make(l, 'layers', i, branchWeights || spec.layers.slice(0, i).some(hasWeights)).apply(x) as tf.SymbolicTensor));
  return { model: tf.model({ name: 'classifier', inputs, outputs: x }), inputs: names, clock, dense: denseChain(spec) };
}

/** `<branch or "layers">_<index>_<type>`: the layer's place in the spec, the same in every process. */
function layerName(list: string, index: number, l: LayerSpec): string {
  return `${list}_${index}_${layerKind(l)}`;
}

/** Whether the layer has trainable weights (so the gradient must reach its input). */
function hasWeights(l: LayerSpec): boolean {
  return 'dense' in l || 'gru' in l || 'lstm' in l;
}

/** `afterWeights`: a layer with weights comes before this one (its input's gradient is wanted). */
function makeLayer(l: LayerSpec, name: string, seed: number, clock: StepClock, afterWeights: boolean): tf.layers.Layer {
  if ('dense' in l) {
    return tf.layers.dense({ name, units: l.dense, activation: l.activation, kernelInitializer: tf.initializers.glorotUniform({ seed }), biasInitializer: 'zeros' });
  }
  if ('dropout' in l) return new SeededDropout({ name, rate: l.dropout, seed, clock });
  if ('masking' in l) return tf.layers.masking({ name, maskValue: l.masking });
  if ('gru' in l) {
    if (l.impl === 'fast' && l.recurrentActivation === 'sigmoid') return fastGru({ name, units: l.gru, recurrentActivation: l.recurrentActivation, seed, packing: clock, inputGradient: afterWeights });
    return tf.layers.gru({
      name,
      units: l.gru,
      activation: l.activation,
      recurrentActivation: l.recurrentActivation,
      kernelInitializer: tf.initializers.glorotUniform({ seed }),
      recurrentInitializer: tf.initializers.orthogonal({ seed: seed + 1 }),
      biasInitializer: 'zeros',
    });
  }
  if (l.impl === 'fast') return fastLstm({ name, units: l.lstm, seed });
  return tf.layers.lstm({
    name,
    units: l.lstm,
    activation: l.activation,
    recurrentActivation: 'sigmoid',
    unitForgetBias: true,
    kernelInitializer: tf.initializers.glorotUniform({ seed }),
    recurrentInitializer: tf.initializers.orthogonal({ seed: seed + 1 }),
    biasInitializer: 'zeros',
  });
}

/** A 31-bit seed per layer from the model seed (tfjs seeds are small integers). */
function mixSeed(seed: number, index: number): number {
  let h = Math.imul((seed >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(index + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  return (h ^ (h >>> 15)) & 0x7fffffff;
}
