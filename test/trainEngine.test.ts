/**
 * Stage 4 on the engine: a real Temporal dev server, workflow and CPU stages
 * on one worker process, training on a separate `train`-queue worker, data
 * and checkpoints in MinIO. The train worker is killed with SIGKILL
 * mid-epoch; the retried activity resumes from the newest checkpoint and the
 * final weights equal those of an uninterrupted run, bit for bit.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { openStorage } from '../storage/index.js';
import type { PipelineRunInput } from '../protocol/protocol.js';
import type { StorageSpec } from '../storage/spec.js';
import { Harness, type WorkerProc } from './support/harness.js';
import type { MinioServer } from '../infra/minio.js';
import { startMinioForWorkers } from './support/minioEnv.js';
import { firstCheckpoint, manifestOf } from './support/manifests.js';
import { nativeAddonProblem } from '../ml/nativeAddon.js';

const h = new Harness();
let minio: MinioServer;
let trainWorker: WorkerProc;

const pipeline: Exclude<PipelineRunInput['pipeline'], string> = {
  name: 'stage4',
  stages: {
    gen: { uses: 'generate', with: { eventsPerSample: 3000, eventsPerFile: 3000, seed: 11 } },
    ingest: { uses: 'ingest', needs: ['gen'], with: { maxTracks: 150, maxPhotons: 50, maxNeutrals: 50 } },
    features: { uses: 'features', needs: ['ingest'], with: { seed: 3 } },
    train: {
      uses: 'train',
      needs: ['features'],
      heartbeatTimeout: '4s',
      retry: { maxAttempts: 5, initialInterval: '200ms' },
      with: {
        model: { name: 'inclusive', branches: { particles: [{ masking: 0 }, { gru: 50 }, { dropout: 0.2 }], hlf: [{ dropout: 0.2 }] }, layers: [{ dense: 25, activation: 'relu' }, { dense: 3, activation: 'softmax' }] },
        epochs: 2,
        batchSize: 32,
        checkpointSteps: 10,
        seed: 9,
      },
    },
    evaluate: { uses: 'evaluate', needs: ['train'], with: { png: false } },
  },
};

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

describe('train and evaluate on the engine', () => {
  test('kill -9 of the train worker mid-epoch: the run resumes from the checkpoint and ends with the uninterrupted weights', async () => {
    // The uninterrupted reference, on local storage.
    const local: StorageSpec = { root: pathToFileURL(join(h.tmp, 'store-reference')).href };
    const reference = await h.result(await h.run({ pipeline, storage: local }));
    assert.equal(reference.status, 'completed', JSON.stringify(reference.stages));
    const refTrain = await manifestOf(reference, 'train', local);
    if (nativeAddonProblem('@tensorflow/tfjs-node')) {
      assert.match(trainWorker.output(), /training "inclusive" on the wasm back end: WebAssembly .*tensorflow: @tensorflow\/tfjs-node [^;]*\(bash infra\/tfjs-node\.sh builds it\)/, 'without tfjs-node it trains on wasm and says so');
    } else {
      assert.match(trainWorker.output(), /training "inclusive" on the tensorflow back end: native TensorFlow \(@tensorflow\/tfjs-node, \d+ intra-op threads?\)/, 'with tfjs-node built, auto trains the GRU model on it');
    }
    const evaluation = await manifestOf(reference, 'evaluate', local);
    assert.match(evaluation.report ?? '', /\| inclusive \| 12203 \| 0\.\d{4} \| 0\.\d{4} \| 0\.\d{4} \|/);

    // The same run on S3; the train worker dies once a mid-training checkpoint is committed.
    const s3: StorageSpec = { root: 's3://models/run', endpoint: minio.endpoint, forcePathStyle: true };
    const store = openStorage(s3);
    const runId = await h.run({ pipeline, storage: s3 });
    const steps = refTrain.counts.steps!;
    const checkpointed = await firstCheckpoint(store);
    await trainWorker.kill9();
    const step = Number(/step-(\d+)/.exec(checkpointed)![1]);
    assert.ok(step > 0 && step < steps, `killed mid-training (checkpoint at step ${step} of ${steps})`);
    assert.equal((await store.list('cache/train/')).filter((o) => o.key.endsWith('manifest.json')).length, 0, 'the stage had not committed');

    const second = await h.startWorker(['--queues', 'train', '--slots', '1']);
    const result = await h.result(runId);
    assert.equal(result.status, 'completed');
    assert.match(second.output(), /resuming from the checkpoint at step \d+/);
    const train = await manifestOf(result, 'train', s3);
    const sha = (m: typeof train, name: string) => m.outputs.find((o) => o.name === name)!.sha256;
    assert.equal(sha(train, 'weights.bin'), sha(refTrain, 'weights.bin'), 'same final weights');
    assert.equal(sha(train, 'predictions.bin'), sha(refTrain, 'predictions.bin'), 'same test-set predictions');
    assert.equal(train.counts.steps, steps);
    assert.equal(train.contentHash, refTrain.contentHash, 'same content hash (timings are volatile), so what follows stays cached');
    const timing = JSON.parse(Buffer.from(await store.get(train.outputs.find((o) => o.name === 'timing.json')!.key)).toString('utf8')) as { resumedFromStep: number | null };
    assert.ok(Number(timing.resumedFromStep) > 0, `timing.json records the resume (${timing.resumedFromStep})`);
    assert.equal(train.report, `resumed from step ${timing.resumedFromStep} (its newest checkpoint) after an attempt was lost, e.g. to a dead worker`, 'the report the run summary and status print says so');
    assert.equal((await store.list('checkpoints/')).length, 0, 'checkpoints are dropped once the stage commits');
  });
});
