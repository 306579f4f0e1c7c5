/**
 * Stage 3 on the engine: a real Temporal dev server, a CPU worker and a
 * `train`-queue worker. A small grid end to end with `tuned:` feeding train;
 * the train worker killed with SIGKILL mid-sweep (the sweep completes, no
 * trial is committed twice, the result equals the uninterrupted sweep's, and
 * the resumed sweep runs only the trials not done); an extended grid reuses
 * the earlier trials; `--force tune` reruns them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStorage } from '../storage/index.js';
import type { PipelineRunInput, RunResult } from '../protocol/protocol.js';
import type { StorageSpec } from '../storage/spec.js';
import { Harness, type WorkerProc } from './support/harness.js';
import { python } from './support/python.js';

const h = new Harness();
let trainWorker: WorkerProc;

type Spec = Exclude<PipelineRunInput['pipeline'], string>;

function pipeline(nh1: number[]): Spec {
  return {
    name: 'stage3',
    models: {
      hlf_search: { input: 'hlf', layers: [{ dense: '${hp.nh1}', activation: 'relu' }, { dense: '${hp.nh2}', activation: 'relu' }, { dense: 3, activation: 'softmax' }] },
    },
    stages: {
      gen: { uses: 'generate', with: { eventsPerSample: 1500, eventsPerFile: 1500, seed: 11 } },
      ingest: { uses: 'ingest', needs: ['gen'], with: { maxTracks: 20, maxPhotons: 5, maxNeutrals: 5 } },
      features: { uses: 'features', needs: ['ingest'], with: { seed: 3 } },
      tune: {
        uses: 'tune',
        needs: ['features'],
        heartbeatTimeout: '4s',
        retry: { maxAttempts: 5, initialInterval: '200ms' },
        with: { model: 'hlf_search', space: { nh1, nh2: [4, 8] }, folds: 2, sample: 0.5, window: 1, seed: 5, train: { epochs: 3, batchSize: 32 } },
      },
      'train-hlf': { uses: 'train', needs: ['features', 'tune'], with: { tuned: 'tune', epochs: 2 } },
    },
  };
}

interface Manifest {
  key: string;
  outputs: Array<{ name: string; key: string; sha256: string }>;
  contentHash: string;
  counts: Record<string, number>;
  report?: string;
}

async function manifestOf(result: RunResult, stage: string, storage: StorageSpec): Promise<Manifest> {
  const key = result.stages[stage]!.manifestUri!.slice(storage.root.length + 1);
  return JSON.parse(Buffer.from(await openStorage(storage).get(key)).toString('utf8')) as Manifest;
}

async function output(storage: StorageSpec, m: Manifest, name: string): Promise<Uint8Array> {
  return openStorage(storage).get(m.outputs.find((o) => o.name === name)!.key);
}

const json = async <T>(storage: StorageSpec, m: Manifest, name: string) => JSON.parse(Buffer.from(await output(storage, m, name)).toString('utf8')) as T;

/** Trial ids whose `running` line a worker printed. */
const ran = (w: WorkerProc) => [...w.output().matchAll(/trial (\d+) \(rung \d+[^)]*\): running/g)].map((m) => Number(m[1]));

const localStore = (name: string): StorageSpec => ({ root: pathToFileURL(join(h.tmp, name)).href });

before(async () => {
  await h.start();
  await h.startWorker(['--queues', 'topoflow']);
  trainWorker = await h.startWorker(['--queues', 'train', '--slots', '1']);
});
after(async () => {
  await h.stop();
});

describe('tune on the engine', () => {
  const reference = localStore('store-reference');
  let refTune: Manifest;

  test('a small grid end to end: best.json is the best mean, trials.parquet reads in pyarrow, train takes the best trial with its own overrides', async () => {
    const result = await h.result(await h.run({ pipeline: pipeline([4, 8, 16]), storage: reference }));
    assert.equal(result.status, 'completed', JSON.stringify(result.stages));
    refTune = await manifestOf(result, 'tune', reference);
    assert.deepEqual(refTune.counts, { candidates: 6, trials: 6, pruned: 0 });
    const best = await json<{ best: { point: Record<string, number>; mean: number }; train: { epochs: number; batchSize: number } }>(reference, refTune, 'best.json');

    // An independent read of trials.parquet: mean AUC over folds per candidate, the best one.
    const script = `
import sys, json, pyarrow.parquet as pq
t = pq.read_table(sys.argv[1]).to_pylist()
means = {}
for r in t: means.setdefault((r['hp_nh1'], r['hp_nh2']), []).append(r['auc'])
best = max(means, key=lambda k: sum(means[k]) / len(means[k]))
print(json.dumps({'rows': len(t), 'best': best, 'mean': sum(means[best]) / len(means[best]), 'folds': sorted(set(r['fold'] for r in t))}))`;
    const parquetPath = new URL(`${reference.root}/${refTune.outputs.find((o) => o.name === 'trials.parquet')!.key}`);
    const py = JSON.parse(execFileSync(python(), ['-c', script, parquetPath.pathname], { encoding: 'utf8' })) as { rows: number; best: number[]; mean: number; folds: number[] };
    assert.equal(py.rows, 12, 'one row per trial and fold');
    assert.deepEqual(py.folds, [0, 1]);
    assert.deepEqual([best.best.point.nh1, best.best.point.nh2], py.best);
    assert.ok(Math.abs(best.best.mean - py.mean) < 1e-12);
    assert.match(refTune.report ?? '', /grid search: 6 candidate\(s\), 6 trial\(s\) of 2 folds \(0 reused/);
    assert.equal((refTune.report ?? '').split('\n').filter((l) => /^\| [1-5] \|/.test(l)).length, 5, 'the top 5');
    for (const f of ['tune-nh1.svg', 'tune-nh2.svg', 'tune-heatmap.svg', 'report.md']) assert.ok(refTune.outputs.some((o) => o.name === f), f);

    const train = await manifestOf(result, 'train-hlf', reference);
    const model = await json<{ spec: { layers: Array<{ dense?: number }> } }>(reference, train, 'model.json');
    assert.deepEqual(model.spec.layers.map((l) => l.dense), [best.best.point.nh1, best.best.point.nh2, 3], 'the best trial’s model');
    const history = await json<{ epochs: unknown[] }>(reference, train, 'history.json');
    assert.equal(history.epochs.length, 2, 'the stage’s own epochs override the trial’s 3');
    assert.equal(best.train.batchSize, 32);
  });

  test('kill -9 of the train worker mid-sweep: the sweep completes with the same result; finished trials are not rerun, none committed twice', async () => {
    const storage = localStore('store-killed');
    const store = openStorage(storage);
    const runId = await h.run({ pipeline: pipeline([4, 8, 16]), storage });
    const deadline = Date.now() + 180_000;
    while ((await store.list('content/tune-trials/')).length < 2) {
      assert.ok(Date.now() < deadline, 'trials were committed');
      await sleep(25);
    }
    await trainWorker.kill9();
    const committed = (await store.list('cache/tune/')).filter((o) => /shards\/\d+\/manifest\.json$/.test(o.key)).map((o) => Number(/shards\/(\d+)\//.exec(o.key)![1]));
    assert.ok(committed.length >= 1 && committed.length < 6, `killed mid-sweep (${committed.length} of 6 trials committed)`);
    // A trial whose result was stored but whose shard had not committed is reused, not rerun.
    const stored = (await store.list('content/tune-trials/')).length;

    trainWorker = await h.startWorker(['--queues', 'train', '--slots', '1']);
    const result = await h.result(runId);
    assert.equal(result.status, 'completed', JSON.stringify(result.stages));
    const rerun = ran(trainWorker);
    for (const id of committed) assert.ok(!rerun.includes(id), `trial ${id} was committed before the kill and did not run again (ran: ${rerun.join(', ')})`);
    assert.equal(rerun.length, 6 - stored, `each trial without a stored result ran once (ran: ${rerun.join(', ')}; ${stored} stored at the kill)`);
    assert.equal(new Set(rerun).size, rerun.length);
    assert.equal((await store.list('content/tune-trials/')).length, 6, 'one stored result per trial');
    const tune = await manifestOf(result, 'tune', storage);
    const sha = (m: Manifest, name: string) => m.outputs.find((o) => o.name === name)!.sha256;
    assert.deepEqual(await json(storage, tune, 'best.json'), await json(reference, refTune, 'best.json'), 'the same best.json as the uninterrupted sweep (on other storage)');
    assert.equal(sha(tune, 'best.json'), sha(refTune, 'best.json'));
    assert.equal(tune.contentHash, refTune.contentHash);
  });

  test('an extended grid reuses the earlier trials and runs only the new points; --force tune reruns them all', async () => {
    const before = ran(trainWorker).length;
    const extended = await h.result(await h.run({ pipeline: pipeline([4, 8, 16, 32]), storage: reference }));
    assert.equal(extended.status, 'completed', JSON.stringify(extended.stages));
    const tune = await manifestOf(extended, 'tune', reference);
    assert.match(tune.report ?? '', /grid search: 8 candidate\(s\), 8 trial\(s\) of 2 folds \(6 reused from earlier sweeps/);
    const fresh = ran(trainWorker).slice(before);
    assert.equal(fresh.length, 2, `only the two nh1=32 points ran (ran: ${fresh.join(', ')})`);
    assert.match(trainWorker.output(), /nh1=32 nh2=4\): running/);

    const forced = await h.result(await h.run({ pipeline: pipeline([4, 8, 16, 32]), storage: reference, force: ['tune'] }));
    assert.equal(forced.status, 'completed');
    assert.match((await manifestOf(forced, 'tune', reference)).report ?? '', /\(0 reused from earlier sweeps/);
    assert.equal(ran(trainWorker).length - before, 10, 'all eight reran');
  });
});
