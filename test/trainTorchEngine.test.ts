/**
 * `backend: torch` on the engine: a real Temporal dev server, the torch
 * kernel started by a `train`-queue worker. Every model trains end to end and
 * `evaluate` reads the outputs unchanged (local storage); then the inclusive
 * model trains on S3 (MinIO, read and written by the kernel through pyarrow)
 * and the train worker is killed with SIGKILL mid-training: its kernel dies
 * with it, the retried activity resumes from the newest checkpoint and the
 * weights, predictions and content hash equal the uninterrupted run's.
 * Skipped, saying why, without a Python that has torch (infra/python-torch.sh).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStorage } from '../storage/index.js';
import type { PipelineRunInput } from '../protocol/protocol.js';
import type { StorageSpec } from '../storage/spec.js';
import { Harness, type WorkerProc } from './support/harness.js';
import type { MinioServer } from '../infra/minio.js';
import { startMinioForWorkers } from './support/minioEnv.js';
import { firstCheckpoint, manifestOf } from './support/manifests.js';
import { torchPython } from '../ml/torchKernel.js';

const found = torchPython();
if ('problem' in found && process.env.TOPOFLOW_REQUIRE_TORCH === '1') throw new Error(`TOPOFLOW_REQUIRE_TORCH=1 but ${found.problem}`);
const skip = 'problem' in found ? `the torch back end is not available: ${found.problem}` : false;

const h = new Harness();
let minio: MinioServer;
let trainWorker: WorkerProc;

const gru = (kind: 'gru' | 'lstm') => [{ masking: 0 }, { [kind]: 8 }, { dropout: 0.2 }];
const MODELS = {
  hlf: { name: 'hlf', input: 'hlf', layers: [{ dense: 50, activation: 'relu' }, { dense: 20, activation: 'relu' }, { dense: 10, activation: 'relu' }, { dense: 3, activation: 'softmax' }] },
  particle_sequence: { name: 'particle_sequence', input: 'particles', layers: [...gru('gru'), { dense: 3, activation: 'softmax' }] },
  inclusive: { name: 'inclusive', branches: { particles: gru('gru'), hlf: [{ dropout: 0.2 }] }, layers: [{ dense: 25, activation: 'relu' }, { dense: 3, activation: 'softmax' }] },
  inclusive_lstm: { name: 'inclusive_lstm', branches: { particles: gru('lstm'), hlf: [{ dropout: 0.2 }] }, layers: [{ dense: 25, activation: 'relu' }, { dense: 3, activation: 'softmax' }] },
};
const trainStage = (model: object) => ({
  uses: 'train',
  needs: ['features'],
  heartbeatTimeout: '5s',
  retry: { maxAttempts: 5, initialInterval: '200ms' },
  with: { model, backend: 'torch', device: 'cpu', epochs: 2, batchSize: 32, checkpointSteps: 5, seed: 9 },
});
const data = {
  gen: { uses: 'generate', with: { eventsPerSample: 1200, eventsPerFile: 600, seed: 11 } },
  ingest: { uses: 'ingest', needs: ['gen'], with: { maxTracks: 30, maxPhotons: 10, maxNeutrals: 10 } },
  features: { uses: 'features', needs: ['ingest'], with: { seed: 3 } },
};
const everyModel: Exclude<PipelineRunInput['pipeline'], string> = {
  name: 'torch-models',
  stages: {
    ...data,
    ...Object.fromEntries(Object.entries(MODELS).map(([name, model]) => [`train-${name}`, trainStage(model)])),
    evaluate: { uses: 'evaluate', needs: Object.keys(MODELS).map((m) => `train-${m}`), with: { png: false } },
  },
};
const inclusiveOnly: Exclude<PipelineRunInput['pipeline'], string> = { name: 'torch-resume', stages: { ...data, train: trainStage(MODELS.inclusive) } };

describe('the torch back end on the engine', { skip }, () => {
  before(async () => {
    minio = await startMinioForWorkers(join(h.tmp, 'minio'), ['models']);
    await h.start();
    await h.startWorker(['--queues', 'topoflow']);
    trainWorker = await h.startWorker(['--queues', 'train', '--slots', '1']);
  });
  after(async () => {
    await h.stop();
    await minio?.stop();
  });

  test('every model trains with backend: torch and evaluate reads their outputs', async () => {
    const local: StorageSpec = { root: pathToFileURL(join(h.tmp, 'store-models')).href };
    const result = await h.result(await h.run({ pipeline: everyModel, storage: local }));
    assert.equal(result.status, 'completed', JSON.stringify(result.stages));
    for (const name of Object.keys(MODELS)) {
      const m = await manifestOf(result, `train-${name}`, local);
      assert.deepEqual(m.outputs.map((o) => o.name).sort(), ['history.json', 'labels.bin', 'model.json', 'model.pt', 'predictions.bin', 'timing.json', 'weights.bin']);
    }
    assert.match(trainWorker.output(), /training "inclusive_lstm" on the torch back end: torch 2\.\d+\.\d+\S* on cpu \(1 threads\)/);
    const report = (await manifestOf(result, 'evaluate', local)).report ?? '';
    // torch's GRU and LSTM carry two bias vectors (Keras 2's counts): GRU(8) 696 and LSTM(8) 928 parameters.
    for (const row of ['hlf \\| 2013', 'particle_sequence \\| 723', 'inclusive \\| 1349', 'inclusive_lstm \\| 1581']) assert.match(report, new RegExp(`\\| ${row} \\| 0\\.\\d{4} \\| 0\\.\\d{4} \\| 0\\.\\d{4} \\|`));
  });

  test('kill -9 of the train worker mid-training: its kernel dies too, and the run resumes on S3 to the uninterrupted weights', async () => {
    const local: StorageSpec = { root: pathToFileURL(join(h.tmp, 'store-reference')).href };
    const reference = await h.result(await h.run({ pipeline: inclusiveOnly, storage: local }));
    assert.equal(reference.status, 'completed', JSON.stringify(reference.stages));
    const refTrain = await manifestOf(reference, 'train', local);

    const s3: StorageSpec = { root: 's3://models/torch', endpoint: minio.endpoint, forcePathStyle: true };
    const store = openStorage(s3);
    const runId = await h.run({ pipeline: inclusiveOnly, storage: s3 });
    const steps = refTrain.counts.steps!;
    const checkpointed = await firstCheckpoint(store);
    await trainWorker.kill9();
    const step = Number(/step-(\d+)/.exec(checkpointed)![1]);
    assert.ok(step > 0 && step < steps, `killed mid-training (checkpoint at step ${step} of ${steps})`);
    const pids = [...trainWorker.output().matchAll(/kernel pid (\d+)/g)].map((m) => Number(m[1]));
    const kernel = pids.at(-1)!;
    assert.ok(kernel > 0, 'the worker logged its kernel');
    const alive = () => {
      try {
        process.kill(kernel, 0);
        return !/^Z/.test(execFileSync('ps', ['-o', 'stat=', '-p', String(kernel)], { encoding: 'utf8' }).trim());
      } catch {
        return false;
      }
    };
    for (let i = 0; i < 40 && alive(); i++) await sleep(50);
    assert.equal(alive(), false, `the kernel (pid ${kernel}) does not outlive its worker`);

    const second = await h.startWorker(['--queues', 'train', '--slots', '1']);
    const result = await h.result(runId);
    assert.equal(result.status, 'completed', JSON.stringify(result.stages));
    assert.match(second.output(), /resuming from the checkpoint at step \d+/);
    const train = await manifestOf(result, 'train', s3);
    const sha = (m: typeof train, name: string) => m.outputs.find((o) => o.name === name)!.sha256;
    for (const name of ['weights.bin', 'predictions.bin', 'model.pt', 'history.json']) assert.equal(sha(train, name), sha(refTrain, name), `same ${name}`);
    assert.equal(train.contentHash, refTrain.contentHash, 'same content hash (timings are volatile)');
    assert.match(train.report ?? '', /^resumed from step \d+ \(its newest checkpoint\)/);
    assert.equal((await store.list('checkpoints/')).length, 0, 'checkpoints are dropped once the stage commits');
  });
});

if (skip) test('the torch back end on the engine', { skip }, () => {});
