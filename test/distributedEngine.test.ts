/**
 * Data-parallel training on the engine (issue 13): a real Temporal dev
 * server, a CPU worker, two `train` workers. `workers: 2` trains in rounds
 * over both; kill -9 of a train worker mid-round leaves one worker, which
 * finishes the run alone; kill -9 of the worker running a reduce re-runs the
 * reduce elsewhere. Both end with the uninterrupted run's weights, bit for bit.
 * The server's history limits are lowered, so the round loop continues as new
 * every few rounds throughout.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStorage } from '../storage/index.js';
import type { PipelineRunInput } from '../protocol/protocol.js';
import type { StorageSpec } from '../storage/spec.js';
import { Harness, type WorkerProc } from './support/harness.js';
import type { MinioServer } from '../infra/minio.js';
import { startMinioForWorkers } from './support/minioEnv.js';
import { manifestOf, outputSha, type TestManifest } from './support/manifests.js';

const h = new Harness();
let minio: MinioServer;
let workers: WorkerProc[] = [];

const pipeline: Exclude<PipelineRunInput['pipeline'], string> = {
  name: 'dp',
  stages: {
    gen: { uses: 'generate', with: { eventsPerSample: 2000, eventsPerFile: 1000, seed: 13 } },
    ingest: { uses: 'ingest', needs: ['gen'], with: { maxTracks: 60, maxPhotons: 20, maxNeutrals: 20 } },
    features: { uses: 'features', needs: ['ingest'], with: { seed: 3 } },
    train: {
      uses: 'train',
      needs: ['features'],
      heartbeatTimeout: '4s',
      retry: { maxAttempts: 5, initialInterval: '200ms' },
      with: {
        model: { name: 'inclusive', branches: { particles: [{ masking: 0 }, { gru: 8 }, { dropout: 0.2 }], hlf: [{ dropout: 0.2 }] }, layers: [{ dense: 10, activation: 'relu' }, { dense: 3, activation: 'softmax' }] },
        workers: 2,
        syncEvery: 4,
        epochs: 2,
        batchSize: 32,
        // Small validation batches make the reduce at an epoch's end last long enough for the kill test to catch it.
        evalBatchSize: 2,
        seed: 9,
        backend: 'wasm',
      },
    },
    evaluate: { uses: 'evaluate', needs: ['train'], with: { png: false } },
  },
};

const trainWorker = () => h.startWorker(['--queues', 'train', '--slots', '1']);

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 240_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    assert.ok(Date.now() < deadline, `timed out waiting for ${what}`);
    await sleep(20);
  }
}

let reference: TestManifest;

/** Temporal suggests continuing as new past this many events (default 10,240): a round adds about 20. */
const SUGGEST_AT = 60;

/** Events per execution of a workflow id, oldest first (continue-as-new makes several). */
async function historyLengths(workflowId: string): Promise<number[]> {
  const runs: Array<{ runId: string; start: number }> = [];
  for await (const ex of h.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ runId: ex.runId, start: ex.startTime.getTime() });
  runs.sort((a, b) => a.start - b.start);
  return Promise.all(runs.map(async (r) => (await h.client.workflow.getHandle(workflowId, r.runId).fetchHistory()).events?.length ?? 0));
}

before(async () => {
  minio = await startMinioForWorkers(join(h.tmp, 'minio'), ['models']);
  // History limits far below a long training's: the round loop must continue as new, and the run stay bounded.
  await h.start(undefined, ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${SUGGEST_AT}`, '--dynamic-config-value', 'limit.historyCount.error=2000']);
  await h.startWorker(['--queues', 'topoflow']);
  workers = [await trainWorker(), await trainWorker()];
});
after(async () => {
  await h.stop();
  await minio?.stop();
});

describe('data-parallel training on two train workers', () => {
  test('workers: 2 trains in rounds on both workers, shows its rounds live, and writes what evaluate reads', async () => {
    const local: StorageSpec = { root: pathToFileURL(join(h.tmp, 'store-reference')).href };
    const runId = await h.run({ pipeline, storage: local });
    // What the Web UI and `status` show while it trains.
    const seen = new Set<string>();
    for (let p = await h.progress(runId); p && p.status !== 'completed' && p.status !== 'failed'; p = await h.progress(runId)) {
      const message = p.stages.train?.progress?.message;
      if (message) seen.add(message);
      await sleep(100);
    }
    assert.ok([...seen].some((m) => /round \d+\/\d+ · epoch \d\/2 · [\d,]+ samples\/s across 2 workers/.test(m)), `live round progress (seen: ${[...seen].join(' | ')})`);
    const result = await h.result(runId);
    assert.equal(result.status, 'completed', JSON.stringify(result.stages));
    reference = await manifestOf(result, 'train', local);
    assert.equal(reference.counts.workers, 2);
    const store = openStorage(local);
    const shardManifests = (await store.list(`cache/train/${reference.key}/shards/`)).filter((o) => o.key.endsWith('/manifest.json'));
    assert.equal(shardManifests.length, 2 * reference.counts.rounds!, 'two parts per round');
    const ran = new Set<string>();
    for (const o of shardManifests) ran.add((JSON.parse(Buffer.from(await store.get(o.key)).toString('utf8')) as { worker: string }).worker);
    assert.equal(ran.size, 2, `parts ran on both train workers (${[...ran].join(', ')})`);
    for (const w of workers) assert.match(w.output(), /data-parallel on the wasm back end/);
    const loop = await historyLengths(`${runId}/train/0`);
    assert.ok(loop.length >= 3, `the round loop continued as new (events per execution: ${loop.join(', ')})`);
    assert.ok(loop.every((n) => n <= SUGGEST_AT + 40), `each execution stayed near the suggestion (${loop.join(', ')})`);
    const run = await historyLengths(runId);
    assert.ok(run.every((n) => n <= 400), `the run's own history stayed small (${run.join(', ')})`);
    const evaluation = await manifestOf(result, 'evaluate', local);
    assert.ok(evaluation.outputs.some((o) => o.name === 'report.md'), 'evaluate read the outputs');
    assert.equal((await store.list('checkpoints/')).length, 0, 'round checkpoints and parts are dropped once the stage commits');
  });

  test('kill -9 of a train worker mid-round: its part re-runs on the other, which finishes alone; same weights', async () => {
    const s3: StorageSpec = { root: 's3://models/dp', endpoint: minio.endpoint, forcePathStyle: true };
    const store = openStorage(s3);
    const runId = await h.run({ pipeline, storage: s3 });
    // Round 3's parts are being written: the workers are mid-training.
    await until('round 3', async () => ((await store.list('checkpoints/train/')).some((o) => /\/parts\/round-000002\//.test(o.key)) ? true : undefined));
    const [victim, survivor] = workers;
    await victim!.kill9();
    const result = await h.result(runId);
    assert.equal(result.status, 'completed', JSON.stringify(result.stages));
    const train = await manifestOf(result, 'train', s3);
    assert.equal(outputSha(train, 'weights.bin'), outputSha(reference, 'weights.bin'), 'same final weights as the uninterrupted run');
    assert.equal(outputSha(train, 'predictions.bin'), outputSha(reference, 'predictions.bin'));
    assert.equal(train.contentHash, reference.contentHash);
    assert.ok(train.counts.rounds! > 3, 'killed before the last round');
    assert.match(survivor!.output(), /validating epoch 2\/2/, 'the survivor trained and reduced to the end');
    workers = [survivor!, await trainWorker()];
  });

  test('kill -9 of the worker running a reduce: the reduce re-runs on the other worker; same weights', async () => {
    const local: StorageSpec = { root: pathToFileURL(join(h.tmp, 'store-reduce-kill')).href };
    // Only what the workers print from now on (they trained the runs before).
    const from = new Map(workers.map((w) => [w, w.output().length]));
    const since = (w: WorkerProc) => w.output().slice(from.get(w));
    const runId = await h.run({ pipeline, storage: local });
    // The reduce at the end of epoch 1 validates on the test set: long enough to be caught.
    const reducer = await until('a reduce validating', () => workers.find((w) => since(w).includes('validating epoch 1/2')));
    await reducer.kill9();
    assert.doesNotMatch(since(reducer), /epoch 1\/2 \(2 workers\): loss/, 'killed before the reduce finished');
    const result = await h.result(runId);
    assert.equal(result.status, 'completed', JSON.stringify(result.stages));
    const train = await manifestOf(result, 'train', local);
    assert.equal(outputSha(train, 'weights.bin'), outputSha(reference, 'weights.bin'), 'same final weights as the uninterrupted run');
    const other = workers.find((w) => w !== reducer)!;
    assert.match(since(other), /epoch 1\/2 \(2 workers\): loss/, 'the other worker re-ran the reduce');
  });
});
