/**
 * Native TensorFlow (@tensorflow/tfjs-node, built by infra/tfjs-node.sh):
 * the same seed trains to the same weights as wasm within float tolerance,
 * then every trainer test of train.test.ts and the data-parallel rounds of
 * distributed.test.ts again on this back end. Without
 * the addon the tests are skipped, saying why (TOPOFLOW_REQUIRE_NATIVE=1
 * makes that a failure instead).
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nativeAddonProblem } from '../ml/nativeAddon.js';
import { useBackend } from '../ml/backend.js';
import { LocalStorage, type Storage } from '../storage/index.js';
import type { StageManifest } from '../protocol/manifest.js';
import { makeFeaturesDataset } from './support/stage2Data.js';
import { CheckpointStore } from '../ml/checkpoint.js';
import { train, type TrainState } from '../ml/trainer.js';
import { storedData } from '../ml/trainingData.js';
import { ModelSpec } from '../ml/modelSpec.js';
import type { PartRef } from '../ml/data.js';

const problem = nativeAddonProblem('@tensorflow/tfjs-node');
if (problem && process.env.TOPOFLOW_REQUIRE_NATIVE === '1') throw new Error(`TOPOFLOW_REQUIRE_NATIVE=1 but ${problem}`);
const skip = problem ? `native TensorFlow is not available: ${problem}` : false;

const SPECS = {
  hlf: ModelSpec.parse({ name: 'hlf', input: 'hlf', layers: [{ dense: 50, activation: 'relu' }, { dense: 20, activation: 'relu' }, { dense: 10, activation: 'relu' }, { dense: 3, activation: 'softmax' }] }),
  inclusive: ModelSpec.parse({
    name: 'inclusive',
    branches: { particles: [{ masking: 0 }, { gru: 16 }, { dropout: 0.2 }], hlf: [{ dropout: 0.2 }] },
    layers: [{ dense: 25, activation: 'relu' }, { dense: 3, activation: 'softmax' }],
  }),
  inclusive_lstm: ModelSpec.parse({
    name: 'inclusive_lstm',
    branches: { particles: [{ masking: 0 }, { lstm: 16 }, { dropout: 0.2 }], hlf: [{ dropout: 0.2 }] },
    layers: [{ dense: 25, activation: 'relu' }, { dense: 3, activation: 'softmax' }],
  }),
};

describe('native TensorFlow against wasm', { skip }, () => {
  let storage: Storage;
  let data: StageManifest;
  const parts = (prefix: string): PartRef[] => data.outputs.filter((o) => o.name.startsWith(prefix)).map((o) => ({ key: o.key, rows: o.rows!, bytes: o.bytes, sha256: o.sha256 }));

  before(async () => {
    storage = new LocalStorage(mkdtempSync(join(tmpdir(), 'topoflow-native-')));
    data = await makeFeaturesDataset(storage, { eventsPerSample: 1500, filesPerSample: 1 });
  });
  // train.test.ts's trainer tests follow, on the back end its own set-up chose.
  after(async () => {
    await useBackend('tensorflow');
  });

  const trainOn = async (backend: 'wasm' | 'tensorflow', spec: ModelSpec, folder: string) => {
    assert.equal((await useBackend(backend)).name, backend);
    const cfg = { epochs: 1, batchSize: 16, learningRate: 1e-3, seed: 11, shuffleBuffer: 256, evalBatchSize: 256, checkpointSteps: 1000, checkpointSeconds: 3600, trim: true };
    const r = await train(spec, cfg, {
      data: storedData(storage, parts('train-'), parts('test-')), checkpoints: new CheckpointStore<TrainState>(storage, folder),
      signal: new AbortController().signal, log: () => {}, progress: () => {},
    });
    const weights = r.built.model.getWeights().map((w) => w.dataSync().slice());
    r.built.model.dispose();
    return { steps: r.steps, weights, predictions: r.predictions, loss: r.history[0]!.loss };
  };

  for (const [name, spec] of Object.entries(SPECS)) {
    test(`${name}: the same seed gives the same weights after an epoch of Adam steps (within 2e-5) and the same predictions`, async () => {
      const wasm = await trainOn('wasm', spec, `${name}/wasm`);
      const native = await trainOn('tensorflow', spec, `${name}/tensorflow`);
      assert.ok(wasm.steps >= 40, `${wasm.steps} steps`);
      assert.equal(native.weights.length, wasm.weights.length);
      let worst = 0;
      let moved = 0;
      for (const [i, w] of wasm.weights.entries()) {
        for (let j = 0; j < w.length; j++) worst = Math.max(worst, Math.abs(w[j]! - native.weights[i]![j]!));
        moved += w.length;
      }
      assert.ok(worst <= 2e-5, `largest weight difference ${worst} over ${moved} weights after ${wasm.steps} steps`);
      let worstP = 0;
      for (let j = 0; j < wasm.predictions.length; j++) worstP = Math.max(worstP, Math.abs(wasm.predictions[j]! - native.predictions[j]!));
      assert.ok(worstP <= 1e-4, `largest prediction difference ${worstP}`);
      assert.ok(Math.abs(wasm.loss - native.loss) <= 1e-5, `epoch loss ${wasm.loss} vs ${native.loss}`);
    });
  }
});

if (skip) {
  test('the trainer tests on native TensorFlow (train.test.ts, distributed.test.ts)', { skip }, () => {});
} else {
  process.env.TOPOFLOW_TEST_BACKEND = 'tensorflow';
  await import('./train.test.js');
  await import('./distributed.test.js');
}
