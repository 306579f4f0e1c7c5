/**
 * The declarative models: the seed's architectures build with the expected
 * layers, shapes and parameter counts; forward passes have the right shapes;
 * bad definitions get errors that name the key; back-end selection says what
 * it picked and why.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tf } from '../ml/tf.js';
import { buildModel } from '../ml/build.js';
import { FastGRU } from '../ml/gru.js';
import { decodeModel, encodeModel } from '../ml/modelFile.js';
import { ModelSpec } from '../ml/modelSpec.js';
import { fasterBackendHint, useBackend } from '../ml/backend.js';
import { nativeAddonProblem } from '../ml/nativeAddon.js';
import { backendChoice } from '../ml/backendChoice.js';
import { loadPipelinesFile, parsePipelinesText } from '../config/load.js';
import { ConfigError } from '../config/errors.js';
import { builtinKinds } from '../stages/index.js';
import { configVocabulary } from '../stages/configVocabulary.js';
import { KindRegistry } from '../stages/registry.js';
import { projectRoot } from '../infra/tools.js';

const vocabulary = configVocabulary(new KindRegistry(builtinKinds));
const file = loadPipelinesFile(join(projectRoot, 'pipelines.yaml'), vocabulary);
const models = file.pipelines.demo!.models!;
const spec = (name: string) => ModelSpec.parse({ name, ...models[name] });

/** tfjs GRU (no reset_after): 3·(in·u + u·u + u); Keras' default adds another 3·u recurrent bias. */
const gruParams = (inputs: number, units: number) => 3 * (inputs * units + units * units + units);

before(async () => {
  await useBackend('wasm');
});

describe('seed architectures (seed-pipeline.md §5)', () => {
  test('hlf: Dense 50-20-10-3, 2,013 parameters, as Keras', () => {
    const { model, inputs } = buildModel(spec('hlf'), 1);
    assert.deepEqual(inputs, ['hlf']);
    assert.equal(model.countParams(), 2013);
    const dense = model.layers.filter((l) => l.getClassName() === 'Dense');
    assert.deepEqual(dense.map((l) => (l.outputShape as number[])[1]), [50, 20, 10, 3]);
    const out = model.predict(tf.zeros([5, 14])) as tf.Tensor;
    assert.deepEqual(out.shape, [5, 3]);
    const sums = out.sum(1).dataSync();
    for (const s of sums) assert.ok(Math.abs(s - 1) < 1e-5, 'softmax rows sum to 1');
  });

  test('particle_sequence: Masking → GRU(50) → Dropout → Dense 3; 10,653 parameters (Keras 10,803)', () => {
    const { model, inputs } = buildModel(spec('particle_sequence'), 1);
    assert.deepEqual(inputs, ['particles']);
    assert.equal(model.countParams(), gruParams(19, 50) + 50 * 3 + 3);
    assert.equal(model.countParams(), 10_803 - 150);
    assert.deepEqual(model.layers.map((l) => l.getClassName()), ['InputLayer', 'Masking', 'FastGRU', 'TopoflowSeededDropout', 'Dense']);
    for (const steps of [801, 37]) {
      const out = model.predict(tf.randomNormal([4, steps, 19])) as tf.Tensor;
      assert.deepEqual(out.shape, [4, 3], `forward pass with ${steps} steps`);
    }
  });

  test('inclusive: GRU branch ‖ Dropout(HLF) → concat 64 → Dense 25 → 3; 12,203 parameters (Keras 12,353)', () => {
    const { model, inputs } = buildModel(spec('inclusive'), 1);
    assert.deepEqual(inputs, ['particles', 'hlf'], 'the particle branch comes first, as in the seed');
    assert.equal(model.countParams(), 12_353 - 150);
    assert.equal(model.countParams(), gruParams(19, 50) + 64 * 25 + 25 + 25 * 3 + 3);
    const concat = model.layers.find((l) => l.getClassName() === 'Concatenate')!;
    assert.deepEqual(concat.outputShape, [null, 64]);
    const out = model.predict([tf.randomNormal([3, 801, 19]), tf.randomUniform([3, 14])]) as tf.Tensor;
    assert.deepEqual(out.shape, [3, 3]);
  });

  test('inclusive_lstm: 15,703 parameters, as Keras', () => {
    assert.equal(buildModel(spec('inclusive_lstm'), 1).model.countParams(), 15_703);
  });

  test('stock and fast GRU have the same parameters', () => {
    const stock = ModelSpec.parse({ ...models.particle_sequence, layers: [{ masking: 0 }, { gru: 50, impl: 'stock' }, { dropout: 0.2 }, { dense: 3, activation: 'softmax' }] });
    assert.equal(buildModel(stock, 1).model.countParams(), buildModel(spec('particle_sequence'), 1).model.countParams());
  });

  test('a recurrent layer skips its input gradient only when nothing trainable comes before it', () => {
    const flags = (m: ModelSpec) => buildModel(m, 1).model.layers.filter((l) => l instanceof FastGRU).map((l) => (l).inputGradient);
    assert.deepEqual(flags(spec('particle_sequence')), [false], 'masking only before it');
    assert.deepEqual(flags(spec('inclusive')), [false]);
    const stacked = ModelSpec.parse({ input: 'particles', layers: [{ masking: 0 }, { dense: 8, activation: 'relu' }, { gru: 4 }, { dense: 3, activation: 'softmax' }] });
    assert.deepEqual(flags(stacked), [true], 'a dense layer before it');
  });

  test('the same seed gives the same initial weights; another seed does not', () => {
    const a = buildModel(spec('inclusive'), 7).model.getWeights().map((w) => Array.from(w.dataSync()));
    const b = buildModel(spec('inclusive'), 7).model.getWeights().map((w) => Array.from(w.dataSync()));
    const c = buildModel(spec('inclusive'), 8).model.getWeights().map((w) => Array.from(w.dataSync()));
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  test('dropout is active only in training and follows the step clock', () => {
    const built = buildModel(ModelSpec.parse({ input: 'hlf', layers: [{ dropout: 0.5 }, { dense: 3, activation: 'softmax' }] }), 3);
    const x = tf.ones([64, 14]);
    const infer = (built.model.apply(x, { training: false }) as tf.Tensor).dataSync();
    const again = (built.model.apply(x, { training: false }) as tf.Tensor).dataSync();
    assert.deepEqual(infer, again);
    built.clock.step = 5;
    const t5 = (built.model.apply(x, { training: true }) as tf.Tensor).dataSync();
    const t5b = (built.model.apply(x, { training: true }) as tf.Tensor).dataSync();
    built.clock.step = 6;
    const t6 = (built.model.apply(x, { training: true }) as tf.Tensor).dataSync();
    assert.deepEqual(t5, t5b, 'same step, same mask');
    assert.notDeepEqual(t5, t6, 'next step, new mask');
    assert.notDeepEqual(t5, infer);
  });
});

describe('names that do not depend on the process', () => {
  const namesOf = (s: ModelSpec) => {
    const { model } = buildModel(s, 1);
    const names = { layers: model.layers.map((l) => l.name), weights: model.weights.map((w) => w.originalName) };
    model.dispose();
    return names;
  };

  test('layers are named after their place in the spec, however many models the process built before', () => {
    const first = namesOf(spec('inclusive'));
    for (const other of ['hlf', 'particle_sequence', 'inclusive_lstm', 'inclusive']) buildModel(spec(other), 3).model.dispose();
    assert.deepEqual(namesOf(spec('inclusive')), first);
    assert.deepEqual(first.layers, ['particles', 'particles_0_masking', 'particles_1_gru', 'hlf', 'particles_2_dropout', 'hlf_0_dropout', 'concatenate', 'layers_0_dense', 'layers_1_dense']);
    assert.deepEqual(first.weights, [
      'particles_1_gru/kernel', 'particles_1_gru/recurrent_kernel', 'particles_1_gru/bias',
      'layers_0_dense/kernel', 'layers_0_dense/bias', 'layers_1_dense/kernel', 'layers_1_dense/bias',
    ]);
  });

  test('stock recurrent layers are named the same way', () => {
    const stock = ModelSpec.parse({ input: 'particles', layers: [{ masking: 0 }, { lstm: 4, impl: 'stock' }, { dense: 3, activation: 'softmax' }] });
    assert.deepEqual(namesOf(stock).weights.slice(0, 3), ['layers_1_lstm/kernel', 'layers_1_lstm/recurrent_kernel', 'layers_1_lstm/bias']);
  });

  test('model.json is the same for every build in one process, and decodes onto a model built after others', () => {
    const encoded = () => {
      const { model } = buildModel(spec('inclusive'), 4);
      const out = encodeModel(model, spec('inclusive'), { seed: 4, backend: 'wasm' });
      model.dispose();
      return out;
    };
    const a = encoded();
    const b = encoded();
    assert.equal(a.json, b.json);
    assert.deepEqual(a.weights, b.weights);
    const decoded = decodeModel(a.json, a.weights);
    const again = encodeModel(decoded.model, spec('inclusive'), { seed: 4, backend: 'wasm' });
    decoded.model.dispose();
    assert.equal(again.json, a.json);
    assert.deepEqual(again.weights, a.weights);
  });
});

describe('model definitions in pipelines.yaml', () => {
  const yaml = (modelsYaml: string, model = 'm') => `
models:
${modelsYaml}
pipelines:
  p:
    stages:
      t: { uses: train, with: { model: ${model} } }
`;
  const issues = (text: string) => {
    try {
      parsePipelinesText(text, 'test.yaml', '/tmp', vocabulary);
    } catch (err) {
      if (err instanceof ConfigError) return err.issues.map((i) => `${i.line ?? '?'}: ${i.path.join('.')}: ${i.message}`);
      throw err;
    }
    return [];
  };

  test('a stage names a model; the spec carries the definition with its name', () => {
    const f = parsePipelinesText(yaml('  m: { input: hlf, layers: [{ dense: 3, activation: softmax }] }'), 'test.yaml', '/tmp', vocabulary);
    assert.deepEqual(f.pipelines.p!.models, { m: { input: 'hlf', layers: [{ dense: 3, activation: 'softmax' }] } });
  });

  test('an unknown model name is an error at the stage, listing the known ones', () => {
    const found = issues(yaml('  m: { input: hlf, layers: [{ dense: 3, activation: softmax }] }', 'nope'));
    assert.equal(found.length, 1);
    assert.match(found[0]!, /^7: pipelines\.p\.stages\.t\.with\.model: unknown model "nope"; .*m/);
  });

  test('a named model with a problem is reported once, under models.<name>, not again (or as unknown) at the stage', () => {
    const found = issues(yaml('  m: { input: hlf, layers: [{ dense: 4, activation: softmax }] }'));
    assert.deepEqual(found, ['3: models.m.layers.0: the last layer must be { dense: 3, activation: softmax } (one probability per class: QCD, ttbar, W+jets)']);
  });

  test('bad definitions are reported under models.<name> with the line', () => {
    const found = issues(yaml(`  m:
    input: hlf
    layers:
      - { dense: 10, activation: relu }
      - { dense: 2, activation: softmax }
  seq:
    input: particles
    layers: [{ dense: 3, activation: softmax }]
  both:
    input: hlf
    branches: { hlf: [] }
    layers: [{ gru: 5 }, { dense: 3, activation: softmax }]
  typo:
    input: hlf
    layers: [{ dense: 3, activation: softmax, units: 4 }]`));
    const text = found.join('\n');
    assert.match(text, /7: models\.m\.layers\.1: the last layer must be \{ dense: 3, activation: softmax \}/);
    assert.match(text, /models\.seq\.layers: the particle sequence needs exactly one recurrent layer/);
    assert.match(text, /models\.both: give exactly one of `input`/);
    assert.match(text, /models\.both\.layers: recurrent layers \(gru, lstm\) need the particle sequence/);
    assert.match(text, /models\.typo\.layers\.0: unknown key\(s\) "units" for a dense layer; expected: dense, activation/);
  });
});

describe('back ends', () => {
  // Whether infra/tfjs-node.sh built the native addon decides what auto picks.
  const nativeProblem = nativeAddonProblem('@tensorflow/tfjs-node');

  test('auto: native TensorFlow when its addon is built, else WebAssembly; it says why the others were passed over', async () => {
    const b = await useBackend('auto');
    assert.match(b.description, /tensorflow-gpu: (@tensorflow\/tfjs-node-gpu [^;]*\(bash infra\/tfjs-node\.sh --gpu builds it\)|no NVIDIA GPU driver here)/);
    if (nativeProblem) {
      assert.equal(b.name, 'wasm');
      assert.match(b.description, /WebAssembly/);
      assert.match(b.description, /tensorflow: @tensorflow\/tfjs-node [^;]*\(bash infra\/tfjs-node\.sh builds it\)/);
    } else {
      assert.equal(b.name, 'tensorflow');
      assert.match(b.description, /native TensorFlow \(@tensorflow\/tfjs-node, \d+ intra-op threads?\)/);
    }
  });

  test('auto for a model without a recurrent layer: wasm before native CPU TensorFlow, saying so', async () => {
    const b = await useBackend('auto', { recurrent: false });
    assert.equal(b.name, 'wasm');
    if (!nativeProblem) assert.match(b.description, /tensorflow: not tried first, wasm is faster for a model without a recurrent layer/);
    if (!nativeProblem) assert.equal((await useBackend('auto', { recurrent: true })).name, 'tensorflow');
  });

  test('a recurrent model that auto trains on wasm or cpu only because native TensorFlow is not built gets a hint; no other case does', async () => {
    const missing = '@tensorflow/tfjs-node is not installed (bash infra/tfjs-node.sh builds it)';
    const recurrent = { recurrent: true };
    assert.match(fasterBackendHint('wasm', recurrent, missing) ?? '', /native TensorFlow is not built here: `npm run native` \(once: about 20 s and 552 MB\) builds it/);
    assert.notEqual(fasterBackendHint('cpu', recurrent, missing), null);
    assert.equal(fasterBackendHint('wasm', { recurrent: false }, missing), null, 'wasm is the faster back end for hlf');
    assert.equal(fasterBackendHint('wasm', undefined, missing), null);
    assert.equal(fasterBackendHint('tensorflow', recurrent, missing), null);
    assert.equal(fasterBackendHint('wasm', recurrent, null), null, 'built but not loaded: the worker log says why');
    // On this machine: the hint follows whether infra/tfjs-node.sh built the addon; an explicit choice never gets one.
    assert.equal((await useBackend('auto', recurrent)).hint !== undefined, nativeProblem !== null);
    assert.equal((await useBackend('wasm', recurrent)).hint, undefined);
  });

  test('an explicit back end that cannot load is an error naming the package', async () => {
    if (nativeAddonProblem('@tensorflow/tfjs-node-gpu')) {
      await assert.rejects(useBackend('tensorflow-gpu'), /back end "tensorflow-gpu" is not available: @tensorflow\/tfjs-node-gpu [^;]*\(bash infra\/tfjs-node\.sh --gpu builds it\)/);
    }
    if (nativeProblem) await assert.rejects(useBackend('tensorflow'), /back end "tensorflow" is not available: @tensorflow\/tfjs-node [^;]*\(bash infra\/tfjs-node\.sh builds it\)/);
  });

  test('cpu can be chosen explicitly; TOPOFLOW_BACKEND applies when the stage says auto', async () => {
    assert.equal((await useBackend('cpu')).name, 'cpu');
    assert.equal(backendChoice('auto', { TOPOFLOW_BACKEND: 'cpu' }), 'cpu');
    assert.equal(backendChoice('wasm', { TOPOFLOW_BACKEND: 'cpu' }), 'wasm', 'the stage wins');
    assert.throws(() => backendChoice(undefined, { TOPOFLOW_BACKEND: 'gpu' }), /TOPOFLOW_BACKEND="gpu" is not a back end; expected one of: auto, tensorflow-gpu, tensorflow, wasm, cpu/);
    await useBackend('wasm');
  });
});
