/**
 * The engine end to end on real servers: a Temporal dev server (SQLite) and
 * MinIO over loopback, worker processes spawned like production ones.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnSync } from 'node:child_process';
import { WorkflowFailedError } from '@temporalio/client';
import { startMinio, type MinioServer } from '../infra/minio.js';
import { openStorage } from '../storage/index.js';
import type { StorageSpec } from '../storage/spec.js';
import { NAMES, SA_RUN_KIND, type PipelineRunInput, type RunResult } from '../protocol/protocol.js';
import { StageManifest } from '../protocol/manifest.js';
import { innermostMessage } from '../protocol/errors.js';
import { shownStatus } from '../protocol/stageDisplay.js';
import { followRun, stageLine } from '../cli/follow.js';
import { renderDetails } from '../workflows/details.js';
import { Harness, cliEntry } from './support/harness.js';
import { projectRoot } from '../infra/tools.js';

const h = new Harness();
let minio: MinioServer;
let s3: StorageSpec;
let rootSeq = 0;
const freshRoot = (): StorageSpec => ({ root: pathToFileURL(join(h.tmp, `store-${++rootSeq}`)).href });

type Stages = Exclude<PipelineRunInput['pipeline'], string>['stages'];
const spec = (name: string, stages: Stages, params: Record<string, number | string | boolean> = {}) => ({ name, params, stages });
const diamond = (rowsB = 50) =>
  spec('diamond', {
    a: { uses: 'test-emit', with: { rows: 100, seed: 1 } },
    b: { uses: 'test-emit', with: { rows: '${params.rowsB}', seed: 2 } },
    sum: { uses: 'test-sum', needs: ['a', 'b'] },
  }, { rowsB });

before(async () => {
  minio = await startMinio({ dataDir: join(h.tmp, 'minio') });
  await minio.createBucket('topoflow-it');
  s3 = { root: 's3://topoflow-it/runs', endpoint: minio.endpoint, forcePathStyle: true, region: 'us-east-1' };
  process.env.AWS_ACCESS_KEY_ID = minio.accessKey;
  process.env.AWS_SECRET_ACCESS_KEY = minio.secretKey;
  await h.start();
  await h.startWorker();
});

after(async () => {
  await h.stop();
  await minio?.stop();
});

async function assertOutputsMatchManifests(result: RunResult, storage: StorageSpec): Promise<void> {
  const store = openStorage(storage);
  for (const [id, stage] of Object.entries(result.stages)) {
    assert.ok(stage.manifestUri?.startsWith(storage.root), `${id}: manifest ${stage.manifestUri} is under the root`);
    if (!stage.manifestUri) return;
    const key = stage.manifestUri.slice(storage.root.length + 1);
    const manifest = StageManifest.parse(JSON.parse(Buffer.from(await store.get(key)).toString('utf8')));
    assert.ok(manifest.outputs.length > 0, `${id} has outputs`);
    for (const out of manifest.outputs) {
      const bytes = await store.get(out.key);
      assert.equal(out.uri, store.uri(out.key));
      assert.equal(bytes.length, out.bytes, `${out.uri} size`);
      assert.equal(createHash('sha256').update(bytes).digest('hex'), out.sha256, `${out.uri} sha256`);
    }
  }
}

async function sumOf(result: RunResult, storage: StorageSpec): Promise<{ sum: number; rows: number }> {
  const out = result.stages.sum!.outputs.find((o) => o.name === 'sum.json')!;
  return JSON.parse(Buffer.from(await openStorage(storage).get(out.key)).toString('utf8')) as { sum: number; rows: number };
}

const statuses = (r: RunResult) => Object.fromEntries(Object.entries(r.stages).map(([id, s]) => [id, s.status]));

/** Every file under a local root, relative, sorted (partials included: they must not exist). */
function walk(dir: string, base = dir): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p, base) : [relative(base, p)];
  }).sort();
}

describe('pipelineRun on a real Temporal dev server', () => {
  test('a 3-stage DAG with a parallel branch completes on local storage; outputs are where the manifests say', async () => {
    const storage = freshRoot();
    const result = await h.result(await h.run({ pipeline: diamond(), storage }));
    assert.equal(result.status, 'completed');
    assert.deepEqual(statuses(result), { a: 'completed', b: 'completed', sum: 'completed' });
    await assertOutputsMatchManifests(result, storage);
    assert.equal((await sumOf(result, storage)).rows, 150);
  });

  test('the same DAG completes on S3 (MinIO over loopback)', async () => {
    const result = await h.result(await h.run({ pipeline: diamond(), storage: s3 }));
    assert.deepEqual(statuses(result), { a: 'completed', b: 'completed', sum: 'completed' });
    await assertOutputsMatchManifests(result, s3);
    const local = await h.result(await h.run({ pipeline: diamond(), storage: freshRoot() }));
    assert.deepEqual(await sumOf(result, s3), await sumOf(local, freshRootOf(local)));
  });

  test('rerun: every stage cached; changing one param re-runs exactly that stage and its downstream', async () => {
    const storage = freshRoot();
    const first = await h.result(await h.run({ pipeline: diamond(), storage }));
    assert.deepEqual(statuses(first), { a: 'completed', b: 'completed', sum: 'completed' });
    const again = await h.result(await h.run({ pipeline: diamond(), storage }));
    assert.deepEqual(statuses(again), { a: 'cached', b: 'cached', sum: 'cached' });
    assert.match(again.stages.a!.reason!, /^cached/);
    const changed = await h.result(await h.run({ pipeline: diamond(), params: { rowsB: 70 }, storage }));
    assert.deepEqual(statuses(changed), { a: 'cached', b: 'completed', sum: 'completed' });
    assert.match(changed.stages.b!.reason!, /with\.rows: 50 → 70/);
    assert.match(changed.stages.sum!.reason!, /input "b" changed/);
    assert.equal((await sumOf(changed, storage)).rows, 170);
  });

  test('--force re-runs a stage and everything downstream, nothing else', async () => {
    const storage = freshRoot();
    await h.result(await h.run({ pipeline: diamond(), storage }));
    const forced = await h.result(await h.run({ pipeline: diamond(), storage, force: ['b'] }));
    assert.deepEqual(statuses(forced), { a: 'cached', b: 'completed', sum: 'completed' });
    assert.match(forced.stages.b!.reason!, /forced/);
    // Same inputs, same bytes: the downstream stage re-ran only because b was forced.
    await assertOutputsMatchManifests(forced, storage);
  });

  test('bad input fails the run non-retryably with a readable message', async () => {
    const bad = spec('bad', { x: { uses: 'no-such-kind' }, y: { uses: 'noop', needs: ['x', 'zz'] } });
    await assert.rejects(h.result(await h.run({ pipeline: bad, storage: freshRoot() })), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      const msg = innermostMessage(err);
      assert.match(msg, /no-such-kind/);
      assert.match(msg, /expected one of: .*noop/);
      return true;
    });
    const handle = h.client.workflow.getHandle(await h.run({ pipeline: 'diamond', storage: freshRoot(), force: ['nope'] }));
    await assert.rejects(handle.result(), (err: unknown) => /unknown stage\(s\) nope/.test(innermostMessage(err)));
    // Garbage input, as someone could type it into the Web UI form.
    const raw = await h.client.workflow.start(NAMES.workflow, { taskQueue: 'topoflow', workflowId: `raw-${Date.now()}`, args: [{ pipelin: 'x' }] });
    await assert.rejects(raw.result(), (err: unknown) => /invalid pipelineRun input/.test(innermostMessage(err)));
  });

  test('a failing stage holds the run; a retry update with a fixed param completes it', async () => {
    const storage = freshRoot();
    const flaky = spec('flaky', {
      first: { uses: 'test-emit', with: { rows: 10 } },
      flaky: { uses: 'test-flaky', needs: ['first'], with: { succeed: '${params.ok}', message: 'set ok=true' }, retry: { maxAttempts: 2, initialInterval: '100ms' } },
      after: { uses: 'test-sum', needs: ['flaky'] },
    }, { ok: false });
    const runId = await h.run({ pipeline: flaky, storage });
    const held = await h.waitFor(runId, (p) => p.status === 'held', 'the run to hold');
    assert.equal(held.stages.flaky!.status, 'held');
    assert.match(held.stages.flaky!.error!, /told to fail: set ok=true/);
    assert.equal(held.stages.after!.status, 'pending');
    const handle = h.client.workflow.getHandle(runId);
    const meta = await handle.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    assert.match(meta.currentDetails ?? '', /\| flaky \| test-flaky \| ⏸ held \|.*told to fail/, 'the live details show the held stage and its error');
    await assert.rejects(handle.executeUpdate(NAMES.retryUpdate, { args: [{ params: { nope: 1 } }] }), (err: Error) => /unknown param\(s\) nope; params of "flaky": ok/.test(innermostMessage(err)));
    assert.equal(await handle.executeUpdate(NAMES.retryUpdate, { args: [{ params: { ok: true } }] }), 'retrying flaky');
    const result = await h.result(runId);
    assert.deepEqual(statuses(result), { first: 'completed', flaky: 'completed', after: 'completed' });
  });

  test('abort ends a held run cleanly: running work cancelled, downstream skipped, run failed as aborted', async () => {
    const holdAndSlow = spec('abortme', {
      bad: { uses: 'test-flaky', with: { succeed: false }, retry: { maxAttempts: 1 } },
      slow: { uses: 'test-emit', with: { rows: 10, delayMs: 60_000 }, heartbeatTimeout: '2s' },
      after: { uses: 'test-sum', needs: ['bad', 'slow'] },
    });
    const runId = await h.run({ pipeline: holdAndSlow, storage: freshRoot() });
    await h.waitFor(runId, (p) => p.stages.bad?.status === 'held' && p.stages.slow?.status === 'running', 'hold + running');
    const handle = h.client.workflow.getHandle(runId);
    await handle.executeUpdate(NAMES.abortUpdate, { args: [{ reason: 'operator said so' }] });
    await assert.rejects(handle.result(), (err: unknown) => /run aborted: operator said so/.test(innermostMessage(err)));
    const p = await h.progress(runId);
    assert.equal(p!.status, 'aborted');
    assert.deepEqual(Object.fromEntries(p!.order.map((id) => [id, p!.stages[id]!.status])), { bad: 'failed', slow: 'failed', after: 'skipped' });
    assert.equal((await handle.describe()).status.name, 'FAILED');
  });

  test('kill -9 of the worker mid-stage: a new worker completes the run; outputs identical, no partial or duplicate objects', async () => {
    const slow = spec('slow', {
      a: { uses: 'test-emit', with: { rows: 4000, seed: 3, delayMs: 4000, chunks: 8 }, heartbeatTimeout: '2s', retry: { maxAttempts: 5, initialInterval: '200ms' } },
      b: { uses: 'test-sum', needs: ['a'] },
    });
    const interrupted = freshRoot();
    const dir = new URL(interrupted.root).pathname;
    await h.stopWorkers();
    const w1 = await h.startWorker();
    const runId = await h.run({ pipeline: slow, storage: interrupted });
    // Kill once a half-written object exists: the worst moment for storage.
    const deadline = Date.now() + 30_000;
    while (!walk(dir).some((f) => f.includes('.partial-'))) {
      assert.ok(Date.now() < deadline, 'a partial object appeared');
      await sleep(50);
    }
    await w1.kill9();
    await h.startWorker();
    const result = await h.result(runId);
    assert.deepEqual(statuses(result), { a: 'completed', b: 'completed' });

    const clean = freshRoot();
    await h.result(await h.run({ pipeline: slow, storage: clean }));
    const cleanDir = new URL(clean.root).pathname;
    const files = walk(dir);
    assert.deepEqual(files, walk(cleanDir), 'same objects as an uninterrupted run');
    assert.ok(!files.some((f) => f.includes('.partial-')), 'no partial objects');
    for (const f of files.filter((f) => f.includes('/data/'))) {
      assert.ok(readFileSync(join(dir, f)).equals(readFileSync(join(cleanDir, f))), `${f} identical`);
    }
  });

  test('a restart of the Temporal server (same SQLite file) during a run: the run completes', async () => {
    const storage = freshRoot();
    const slow = spec('restart', {
      a: { uses: 'test-emit', with: { rows: 100, delayMs: 3000 }, heartbeatTimeout: '5s' },
      b: { uses: 'test-sum', needs: ['a'] },
    });
    const runId = await h.run({ pipeline: slow, storage });
    // Live progress reaches the run (activity → signal → progress query and UI details).
    const live = await h.waitFor(runId, (p) => p.stages.a?.status === 'running' && p.stages.a.progress?.unit === 'rows', 'stage a reporting progress');
    assert.equal(live.stages.a!.progress!.total, 100);
    await h.restartServer();
    const result = await h.result(runId);
    assert.deepEqual(statuses(result), { a: 'completed', b: 'completed' });
    await assertOutputsMatchManifests(result, storage);
  });

  test('the run follower rides out a 25 s server outage: it says it is reconnecting, then reports the real outcome', async () => {
    const storage = freshRoot();
    const runId = await h.run({ pipeline: spec('outage', { a: { uses: 'test-emit', with: { rows: 40, delayMs: 3000 }, heartbeatTimeout: '10s' } }), storage });
    const lines: string[] = [];
    const out = { isTTY: false, write: (text: string) => lines.push(text) > 0 } as unknown as NodeJS.WriteStream;
    const following = followRun(h.client, runId, { json: false, out, pollMs: 200 });
    await h.waitFor(runId, (p) => p.stages.a?.status === 'running', 'stage a running');
    await h.outage(25_000);
    const end = await following;
    assert.deepEqual([end.kind, end.kind === 'closed' ? end.status : null], ['closed', 'completed'], lines.join(''));
    assert.match(lines.join(''), /reconnecting to Temporal \(.*\); retrying in/);
    assert.match(lines.join(''), /reconnected to Temporal after \d+\.\d s/);
  });

  test('a stage waiting for a worker on its queue shows as queued, then running once one takes it', async () => {
    const storage = freshRoot();
    const runId = await h.run({ pipeline: spec('queued', { a: { uses: 'test-emit', with: { rows: 20, seed: 3, delayMs: 2000 }, queue: 'later' } }), storage });
    await h.waitFor(runId, (p) => p.stages.a?.status === 'running', 'stage a scheduled');
    await sleep(1500);
    const waiting = (await h.progress(runId))!;
    assert.equal(shownStatus(waiting.stages.a!), 'queued', 'no worker polls "later" yet');
    assert.match(stageLine('a', waiting.stages.a!, 5), /^… a +queued .*waiting for a worker$/);
    assert.match(renderDetails(waiting, Date.now()), /\| a \| test-emit \| … queued \|.*waiting for a worker/);
    const worker = await h.startWorker(['--queues', 'later']);
    const taken = await h.waitFor(runId, (p) => p.stages.a !== undefined && shownStatus(p.stages.a) === 'running', 'stage a taken by the worker');
    assert.ok(taken.stages.a!.progress, 'the activity signalled that it started');
    assert.equal(statuses(await h.result(runId)).a, 'completed');
    await worker.stop();
  });

  test('two worker processes share a fan-out stage', async () => {
    await h.stopWorkers();
    const workers = [await h.startWorker(), await h.startWorker()];
    const storage = freshRoot();
    const fan = spec('fan', { fan: { uses: 'test-fanout', with: { shards: 12, delayMs: 600, window: 12 } } });
    const result = await h.result(await h.run({ pipeline: fan, storage }));
    assert.equal(result.stages.fan!.status, 'completed');
    const store = openStorage(storage);
    const shardManifests = (await store.list('cache/test-fanout/')).filter((o) => /shards\/\d+\/manifest\.json$/.test(o.key));
    assert.equal(shardManifests.length, 12);
    const pids = new Set<number>();
    for (const o of shardManifests) {
      const m = JSON.parse(Buffer.from(await store.get(o.key)).toString('utf8')) as { worker: string };
      pids.add(Number(m.worker.split(':').at(-1)));
    }
    assert.deepEqual([...pids].sort(), workers.map((w) => w.pid).sort(), 'shards ran on both workers');
    assert.equal(result.stages.fan!.outputs.filter((o) => o.name.startsWith('shard-')).length, 12);
  });

  test('a fan-out kind with a prepass: every shard sees the merged prepass result', async () => {
    const storage = freshRoot();
    const result = await h.result(await h.run({ pipeline: spec('pre', { pre: { uses: 'test-prepass', with: { shards: 5 } } }), storage }));
    assert.equal(result.stages.pre!.status, 'completed');
    const store = openStorage(storage);
    const texts = await Promise.all(result.stages.pre!.outputs.map(async (o) => Buffer.from(await store.get(o.key)).toString('utf8').trim()));
    assert.deepEqual(texts.sort(), ['0/30', '1/30', '2/30', '3/30', '4/30'], 'total = 0+1+4+9+16');
  });

  test('a schedule with a short interval starts runs marked RunKind=scheduled', async () => {
    const dir = join(h.tmp, 'sched');
    mkdirSync(dir, { recursive: true });
    const yaml = join(dir, 'pipelines.yaml');
    writeFileSync(yaml, readFileSync(join(projectRoot, 'test', 'fixtures', 'engine', 'pipelines.yaml'), 'utf8'));
    const cli = (...args: string[]) => spawnSync(process.execPath, [cliEntry, '--file', yaml, ...args], { env: h.env(), encoding: 'utf8', timeout: 60_000 });
    const created = cli('schedule', 'create', 'diamond', '--every', '2s', '--id', 'it-sched');
    assert.equal(created.status, 0, created.stderr);
    try {
      const deadline = Date.now() + 30_000;
      let found: string | undefined;
      while (!found && Date.now() < deadline) {
        for await (const wf of h.client.workflow.list({ query: `RunKind = 'scheduled' AND WorkflowType = '${NAMES.workflow}'` })) {
          found = wf.workflowId;
          assert.equal(wf.typedSearchAttributes.get(SA_RUN_KIND), 'scheduled');
        }
        if (!found) await sleep(500);
      }
      assert.ok(found, 'a scheduled run was started');
      const result = await h.result(found);
      assert.equal(result.status, 'completed');
      assert.equal((await h.progress(found))!.runKind, 'scheduled');
      const listed = cli('schedule', 'list');
      assert.match(listed.stdout, /it-sched/);
    } finally {
      const deleted = cli('schedule', 'delete', 'it-sched');
      assert.equal(deleted.status, 0, deleted.stderr);
    }
  });
});

function freshRootOf(result: RunResult): StorageSpec {
  const uri = result.stages.sum!.manifestUri!;
  return { root: uri.slice(0, uri.indexOf('/cache/')) };
}


describe('one computation per cache key', () => {
  const shared = () =>
    spec('shared', {
      a: { uses: 'test-counted', with: { rows: 40, seed: 3, delayMs: 1500 } },
      f: { uses: 'test-fanout', needs: ['a'], with: { shards: 3, delayMs: 600, count: true } },
      sum: { uses: 'test-sum', needs: ['a'] },
    });

  for (const backend of ['local', 'S3 (MinIO)'] as const) {
    test(`three runs of one pipeline at once on ${backend}: every stage and shard computed once, identical outputs, one entry per key`, async () => {
      const storage = backend === 'local' ? freshRoot() : { ...s3, root: `s3://topoflow-it/shared-${Date.now()}` };
      // Room for the three runs' activities at once, so they really meet on each key.
      const wide = await h.startWorker(['--slots', '6']);
      try {
        const ids = await Promise.all([0, 1, 2].map(() => h.run({ pipeline: shared(), storage })));
        const results = await Promise.all(ids.map((id) => h.result(id)));
        for (const r of results) assert.equal(r.status, 'completed', JSON.stringify(statuses(r)));
        const store = openStorage(storage);
        const computations = (await store.list('counted/')).map((o) => o.key.split('/').slice(1, 3).join('/').replace(/-[0-9a-f-]{36}$/, ''));
        assert.deepEqual(computations.sort(), ['a/run', 'f/shard-0', 'f/shard-1', 'f/shard-2']);
        for (const id of ['a', 'f', 'sum']) {
          const seen = results.map((r) => `${r.stages[id]!.manifestUri} ${r.stages[id]!.outputs.map((o) => `${o.name}:${o.sha256}`).join(',')}`);
          assert.equal(new Set(seen).size, 1, `${id}: the runs report the same manifest and content: ${seen.join(' | ')}`);
        }
        const joined = results.flatMap((r) => Object.values(r.stages).map((st) => st.reason ?? '')).filter((reason) => reason.startsWith('joined'));
        assert.ok(joined.length >= 1, 'at least one stage joined another run');
        const folders = new Set((await store.list('cache/')).map((o) => o.key.split('/').slice(0, 3).join('/')));
        assert.equal(folders.size, 3, `one cache entry per key: ${[...folders].join(', ')}`);
        assert.deepEqual(await store.list('leases/'), []);
        await assertOutputsMatchManifests(results[0]!, storage);
      } finally {
        await wide.stop();
      }
    });
  }
});
