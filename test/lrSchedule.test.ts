/**
 * The learning-rate schedule of `train` (`lrSchedule`, the seed's distributed
 * runs' LearningRateScheduler): which factor applies in which epoch, that Adam
 * scales its step by it exactly, that a schedule whose steps lie beyond the
 * last epoch (or no schedule) trains the same bits as before, that a step
 * changes training from its epoch on and not before, and that a run
 * interrupted after the step resumes to the uninterrupted run's weights.
 * HLF model on wasm: the schedule does not depend on the model or back end.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage, type Storage } from '../storage/index.js';
import type { StageManifest } from '../protocol/manifest.js';
import { makeFeaturesDataset } from './support/stage2Data.js';
import { train as trainKind } from '../stages/builtin/train.js';
import { useBackend } from '../ml/backend.js';
import { tf } from '../ml/tf.js';
import { Adam, KERAS_ADAM } from '../ml/adam.js';
import { lrFactorAt, train, type LrStep, type TrainConfig, type TrainState } from '../ml/trainer.js';
import { CheckpointStore } from '../ml/checkpoint.js';
import { storedData } from '../ml/trainingData.js';
import type { PartRef } from '../ml/data.js';
import { ModelSpec } from '../ml/modelSpec.js';

const HLF = ModelSpec.parse({ name: 'hlf', input: 'hlf', layers: [{ dense: 20, activation: 'relu' }, { dense: 3, activation: 'softmax' }] });
const SEED_SCHEDULE: LrStep[] = [{ fromEpoch: 4, factor: 0.4 }, { fromEpoch: 6, factor: 0.2 }];

let storage: Storage;
let data: StageManifest;
const parts = (prefix: string): PartRef[] => data.outputs.filter((o) => o.name.startsWith(prefix)).map((o) => ({ key: o.key, rows: o.rows!, bytes: o.bytes, sha256: o.sha256 }));

before(async () => {
  await useBackend('wasm');
  storage = new LocalStorage(mkdtempSync(join(tmpdir(), 'topoflow-lrschedule-')));
  data = await makeFeaturesDataset(storage, { eventsPerSample: 3000, filesPerSample: 2 });
});

test('lrFactorAt: 1 before the first step, then the factor of the last step reached (steps in any order)', () => {
  const seed = SEED_SCHEDULE;
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 12].map((e) => lrFactorAt(e, seed)), [1, 1, 1, 0.4, 0.4, 0.2, 0.2, 0.2]);
  assert.deepEqual([1, 4, 6].map((e) => lrFactorAt(e, [...seed].reverse())), [1, 0.4, 0.2], 'order of the list does not matter');
  assert.equal(lrFactorAt(3, undefined), 1);
  assert.equal(lrFactorAt(1, [{ fromEpoch: 1, factor: 0.5 }]), 0.5, 'a step at epoch 1 applies from the start');
});

test('train: lrSchedule is optional with no default, so stages without it keep their cache keys', () => {
  const without = trainKind.withSchema.parse({ model: HLF });
  assert.equal('lrSchedule' in without, false);
  const withIt = trainKind.withSchema.parse({ model: HLF, lrSchedule: SEED_SCHEDULE });
  assert.deepEqual(withIt.lrSchedule, SEED_SCHEDULE);
  assert.throws(() => trainKind.withSchema.parse({ model: HLF, lrSchedule: [] }));
  assert.throws(() => trainKind.withSchema.parse({ model: HLF, lrSchedule: [{ fromEpoch: 0, factor: 0.5 }] }));
  assert.throws(() => trainKind.withSchema.parse({ model: HLF, lrSchedule: [{ fromEpoch: 2, factor: 0 }] }));
  assert.throws(() => trainKind.withSchema.parse({ model: HLF, lrSchedule: [{ fromEpoch: 2, factor: 0.5, extra: 1 }] }));
  assert.ok(trainKind.withSchema.parse({ model: HLF, lrSchedule: SEED_SCHEDULE, workers: 2 }).lrSchedule, 'data-parallel rounds apply it too (distributed.test.ts)');
  assert.throws(() => trainKind.withSchema.parse({ model: HLF, lrSchedule: SEED_SCHEDULE, backend: 'torch' }), /lrSchedule/, 'not (yet) on the torch kernel');
});

test('Adam: lrFactor f takes the same steps as learning rate lr·f', () => {
  const run = (learningRate: number, factor: number) => {
    const x = tf.variable(tf.tensor1d([0.5, -1, 2]));
    const adam = new Adam([x], { ...KERAS_ADAM, learningRate });
    adam.lrFactor = factor;
    for (let i = 0; i < 5; i++) adam.apply([tf.tensor1d([0.3 * i - 0.2, 1, -0.7])]);
    const out = Array.from(x.dataSync());
    adam.dispose();
    x.dispose();
    return out;
  };
  assert.deepEqual(run(0.004, 0.25), run(0.001, 1));
  assert.notDeepEqual(run(0.001, 0.5), run(0.001, 1));
});

const base: TrainConfig = { epochs: 2, batchSize: 64, learningRate: 3e-3, seed: 5, shuffleBuffer: 256, evalBatchSize: 256, checkpointSteps: 7, checkpointSeconds: 3600, trim: true };

async function run(cfg: TrainConfig, folder: string, stopAfter?: number) {
  const abort = new AbortController();
  const logs: string[] = [];
  const r = await train(HLF, cfg, {
    data: storedData(storage, parts('train-'), parts('test-')),
    checkpoints: new CheckpointStore<TrainState>(storage, folder),
    signal: abort.signal,
    log: (m) => logs.push(m),
    progress: (p) => {
      if (stopAfter !== undefined && p.done >= stopAfter) abort.abort();
    },
  });
  const weights = r.built.model.getWeights().map((w) => Array.from(w.dataSync()));
  r.built.model.dispose();
  return { r, weights, logs, losses: r.history.map((h) => [h.loss, h.valLoss]) };
}

test('a step after the last epoch trains the same bits as no schedule; a step at epoch 2 changes epoch 2 only, at lr × factor', async () => {
  const plain = await run(base, 'plain');
  const late = await run({ ...base, lrSchedule: [{ fromEpoch: 3, factor: 0.1 }] }, 'late');
  assert.deepEqual(late.weights, plain.weights);
  const stepped = await run({ ...base, lrSchedule: [{ fromEpoch: 2, factor: 0.1 }] }, 'stepped');
  assert.deepEqual(stepped.losses[0], plain.losses[0], 'epoch 1 is untouched');
  assert.notDeepEqual(stepped.weights, plain.weights);
  assert.notDeepEqual(stepped.losses[1], plain.losses[1]);
  assert.ok(stepped.logs.some((l) => l === 'epoch 1/2: learning rate 0.003'), stepped.logs.join('\n'));
  assert.ok(stepped.logs.some((l) => /^epoch 2\/2: learning rate 0\.0003\d*$/.test(l)), stepped.logs.join('\n'));
});

test('interrupted in an epoch after a step and resumed from the checkpoint = the uninterrupted run, bit for bit', async () => {
  const cfg = { ...base, epochs: 3, lrSchedule: [{ fromEpoch: 2, factor: 0.4 }, { fromEpoch: 3, factor: 0.2 }] };
  const clean = await run(cfg, 'resume/clean');
  const stopAt = Math.floor(clean.r.steps * 0.8); // in the third epoch
  await assert.rejects(run(cfg, 'resume/cut', stopAt), /training cancelled/);
  const resumed = await run(cfg, 'resume/cut');
  assert.ok(resumed.r.resumedFromStep !== null && resumed.r.resumedFromStep > (2 * clean.r.steps) / 3, `resumed from step ${resumed.r.resumedFromStep}`);
  assert.deepEqual(resumed.weights, clean.weights);
  assert.deepEqual(resumed.losses, clean.losses);
});
