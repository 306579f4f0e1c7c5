/**
 * Incremental re-processing on a real Temporal dev server, over a local
 * directory and over MinIO: ingest's inputs by pattern, resolved per run
 * with each file's identity, and the shard-level content cache. Adding a
 * file reads only it (counted: content-cache records written, and the
 * manifest's reuse numbers) and gives the outputs of a from-scratch run over
 * all files; a modified file is re-read, a deleted one drops out; features
 * rescans only new parts in its prepass; a schedule with nothing new does no
 * work. Named files replaced in place are re-read, and patterns that match
 * nothing are errors naming them.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStorage, type Storage } from '../storage/index.js';
import type { StageManifest } from '../protocol/manifest.js';
import type { PipelineRunInput, RunResult } from '../protocol/protocol.js';
import { runNews } from '../protocol/runNews.js';
import { cliEntry, Harness } from './support/harness.js';
import { withMinioAndWorker } from './support/minioEnv.js';
import { generateFile } from '../hep/generator/index.js';
import type { StorageSpec } from '../storage/spec.js';
import { createPipelineSchedule } from '../cli/schedules.js';
import { resolveInput } from '../stages/builtin/inputSources.js';
import { loadInput } from '../stages/builtin/ingestInputs.js';
import { BadInputError } from '../common/errors.js';

const h = new Harness();
let seq = 0;
const caps = { maxTracks: 40, maxPhotons: 10, maxNeutrals: 10 };
type Stages = Exclude<PipelineRunInput['pipeline'], string>['stages'];
const pipelineOf = (inputs: unknown[], extra: Record<string, unknown> = {}, withFeatures = true) => ({
  name: 'incremental',
  stages: {
    ingest: { uses: 'ingest', with: { mode: 'fixed', ...caps, window: 2, inputs, ...extra }, retry: { maxAttempts: 1, initialInterval: '100ms' } },
    ...(withFeatures ? { features: { uses: 'features', needs: ['ingest'], with: { seed: 3, window: 2 } } } : {}),
  } as Stages,
});

/** A small synthetic Delphes file; another seed gives other content (a "modified" file). */
const rootFile = (name: string, seed = 1) => {
  const sample = name.startsWith('qcd') ? 'qcd' : name.startsWith('ttbar') ? 'ttbar' : 'wjets';
  return generateFile({ sample, seed, fileIndex: Number(name.match(/(\d+)\.root$/)?.[1] ?? 0), events: 250 });
};

/** Where the raw files live: a local directory (mtime identity) or another MinIO bucket (ETag identity). */
interface Source {
  pattern: string;
  put(name: string, bytes: Uint8Array): Promise<void>;
  remove(name: string): Promise<void>;
}

function localSource(): Source {
  const dir = join(h.tmp, `raw-${++seq}`);
  mkdirSync(join(dir, 'sub'), { recursive: true });
  return {
    pattern: `${dir}/**/*.root`,
    put: async (name, bytes) => writeFileSync(join(dir, name), bytes),
    remove: async (name) => unlinkSync(join(dir, name)),
  };
}

function s3Source(): Source {
  const raw = openStorage({ root: 's3://raw-data', endpoint: minioOf().endpoint });
  const prefix = `inc-${++seq}`;
  return {
    pattern: `s3://raw-data/${prefix}/`,
    put: async (name, bytes) => void (await raw.put(`${prefix}/${name}`, bytes)),
    remove: (name) => raw.delete(`${prefix}/${name}`),
  };
}

const localStore = (): StorageSpec => ({ root: pathToFileURL(join(h.tmp, `store-${++seq}`)).href });
const minioStore = (): StorageSpec => ({ root: `s3://pipeline/inc-${++seq}`, endpoint: minioOf().endpoint });

async function manifestOf(result: RunResult, stage: string, storage: StorageSpec): Promise<StageManifest> {
  const store = openStorage(storage);
  const key = result.stages[stage]!.manifestUri!.slice(storage.root.length + 1);
  return JSON.parse(Buffer.from(await store.get(key)).toString('utf8')) as StageManifest;
}

/** Shard results computed so far: one per file actually read. */
const shardRecords = async (store: Storage) => (await store.list('content/ingest-shards/')).filter((o) => o.key.endsWith('/result.json')).length;
const prepassRecords = async (store: Storage) => (await store.list('content/features-prepass/')).length;

const run = async (input: PipelineRunInput) => {
  const result = await h.result(await h.run(input));
  assert.equal(result.status, 'completed', JSON.stringify(Object.fromEntries(Object.entries(result.stages).map(([id, s]) => [id, s.error ?? s.reason]))));
  return result;
};
const outputsOf = (m: StageManifest) => m.outputs.filter((o) => !o.volatile).map((o) => `${o.name}:${o.sha256}`);

const minioOf = withMinioAndWorker(h, ['pipeline', 'raw-data']);

const backends: Array<[string, () => Source, () => StorageSpec]> = [
  ['local directory, local store', localSource, localStore],
  ['MinIO bucket, MinIO store', s3Source, minioStore],
];

for (const [name, makeSource, makeStore] of backends) {
  describe(`incremental ingest: ${name}`, () => {
    test('a new file is the only one read; modified re-read; deleted drops out; outputs equal a from-scratch run', async () => {
      const src = makeSource();
      for (const f of ['qcd_000.root', 'qcd_001.root', 'ttbar_000.root', 'wjets_000.root']) await src.put(f, rootFile(f));
      const storage = makeStore();
      const store = openStorage(storage);
      const spec = pipelineOf([src.pattern]);

      const first = await run({ pipeline: spec, storage });
      let ingest = await manifestOf(first, 'ingest', storage);
      assert.equal(ingest.sources?.length, 4, 'the manifest lists the files it saw');
      assert.ok(ingest.sources.every((s) => (s.size ?? 0) > 0 && (s.etag !== undefined || s.mtimeMs !== undefined)), 'each with its identity');
      assert.deepEqual(ingest.reuse, { shards: 4, reused: 0 });
      assert.equal(await shardRecords(store), 4);
      assert.equal(await prepassRecords(store), 4);

      // One new file: only it is read, by ingest and by features' prepass.
      await src.put('ttbar_001.root', rootFile('ttbar_001.root'));
      const second = await run({ pipeline: spec, storage });
      ingest = await manifestOf(second, 'ingest', storage);
      assert.deepEqual(ingest.reuse, { shards: 5, reused: 4 });
      assert.equal(await shardRecords(store), 5, 'one more file read');
      assert.match(second.stages.ingest!.reason!, /sources: 1 new \(ttbar_001\.root\); 4 unchanged; 1 shard run, 4 reused/);
      assert.match(runNews(second), /^ingest: 1 new \(ttbar_001\.root\); 4 unchanged; 1 shard run, 4 reused; ran: features$/);
      const features = await manifestOf(second, 'features', storage);
      assert.deepEqual(features.reuse, { shards: 5, reused: 0, prepassReused: 4 }, 'the prepass scans only the new part; the transform reruns (the scaler changed)');
      assert.equal(await prepassRecords(store), 5);

      // The same files from scratch, in a fresh store: the same outputs, so the same content hashes downstream.
      const scratchStorage = makeStore();
      const scratch = await run({ pipeline: spec, storage: scratchStorage });
      const scratchIngest = await manifestOf(scratch, 'ingest', scratchStorage);
      assert.deepEqual(scratchIngest.reuse, { shards: 5, reused: 0 });
      assert.deepEqual(outputsOf(ingest), outputsOf(scratchIngest));
      assert.equal(ingest.contentHash, scratchIngest.contentHash);
      assert.equal(features.contentHash, (await manifestOf(scratch, 'features', scratchStorage)).contentHash);

      // Nothing new: every stage cached, nothing read.
      const third = await run({ pipeline: spec, storage });
      assert.equal(third.stages.ingest!.status, 'cached');
      assert.match(third.stages.ingest!.reason!, /the same 5 source files: nothing new/);
      assert.equal(third.stages.features!.status, 'cached');
      assert.equal(runNews(third), 'nothing new (every stage cached)');
      assert.equal(await shardRecords(store), 5);

      // A file rewritten in place (new size/ETag or mtime) is read again; the others are not.
      await src.put('wjets_000.root', rootFile('wjets_000.root', 2));
      const fourth = await run({ pipeline: spec, storage });
      assert.match(fourth.stages.ingest!.reason!, /sources: 1 changed \(wjets_000\.root\); 4 unchanged; 1 shard run, 4 reused/);
      assert.equal(await shardRecords(store), 6);
      assert.notEqual((await manifestOf(fourth, 'ingest', storage)).contentHash, ingest.contentHash);

      // A deleted file drops out: nothing is read, the outputs cover the other four.
      await src.remove('qcd_001.root');
      const fifth = await run({ pipeline: spec, storage });
      ingest = await manifestOf(fifth, 'ingest', storage);
      assert.match(fifth.stages.ingest!.reason!, /sources: 1 removed \(qcd_001\.root\); 4 unchanged; 0 shards run, 4 reused/);
      assert.deepEqual(ingest.reuse, { shards: 4, reused: 4 });
      assert.equal(await shardRecords(store), 6, 'no file read');
      assert.deepEqual(ingest.sources!.map((s) => s.uri.split('/').pop()).sort(), ['qcd_000.root', 'ttbar_000.root', 'ttbar_001.root', 'wjets_000.root']);
      assert.ok(!JSON.stringify(ingest.summary).includes('qcd_001'), 'its counts are gone');
    });
  });
}

describe('inputs named one by one and patterns that match nothing', () => {
  test('a file replaced in place under the same path is read again, not taken from the cache', async () => {
    const dir = join(h.tmp, `named-${++seq}`);
    mkdirSync(dir);
    const path = join(dir, 'ttbar_000.root');
    writeFileSync(path, rootFile('ttbar_000.root'));
    const storage = localStore();
    const spec = pipelineOf([path, { uri: pathToFileURL(path).href, label: 1 }], { allowEmpty: true }, false);
    const first = await run({ pipeline: spec, storage });
    const before = await manifestOf(first, 'ingest', storage);
    writeFileSync(path, rootFile('ttbar_000.root', 7));
    const second = await run({ pipeline: spec, storage });
    assert.equal(second.stages.ingest!.status, 'completed', 'not "cached: same kind version, params and inputs"');
    assert.match(second.stages.ingest!.reason!, /sources: 2 changed/);
    assert.notEqual((await manifestOf(second, 'ingest', storage)).contentHash, before.contentHash, 'the new content was read');
  });

  test('a file that changes between the listing and its read fails naming it (not cached as the old one)', async () => {
    const path = join(h.tmp, `listed-${++seq}.root`);
    writeFileSync(path, rootFile('qcd_000.root'));
    const store = openStorage(localStore());
    const [listed] = await resolveInput(store, path, { where: 'test' });
    writeFileSync(path, rootFile('qcd_000.root', 9));
    const file = { uri: path, label: 0, size: listed!.size!, mtimeMs: listed!.mtimeMs! };
    await assert.rejects(loadInput(store, file, { maxBytes: 1e9 }), (err: Error) => err instanceof BadInputError && /listed-\d+\.root: changed since this run listed it/.test(err.message));
  });

  test('a pattern that matches nothing holds the run naming it; with allowEmpty the run does nothing', async () => {
    const storage = localStore();
    const pattern = `incoming-${++seq}/**/*.root`;
    const held = await h.run({ pipeline: pipelineOf([pattern], {}, false), storage });
    const p = await h.waitFor(held, (x) => x.status === 'held', 'ingest to hold', 60_000);
    assert.match(p.stages.ingest!.error!, new RegExp(`the pattern "${pattern.replace(/[*]/g, '\\*')}" matches no file`));
    await h.client.workflow.getHandle(held).executeUpdate('abort', { args: [{}] });

    const empty = await run({ pipeline: pipelineOf([pattern], { allowEmpty: true }, false), storage });
    const m = await manifestOf(empty, 'ingest', storage);
    assert.equal(m.outputs.length, 0);
    assert.deepEqual(m.sources, []);
  });
});

describe('scheduled re-processing', () => {
  test('a schedule with a short interval triggers twice with nothing new; those runs do no work', async () => {
    const src = localSource();
    for (const f of ['qcd_000.root', 'ttbar_000.root', 'wjets_000.root']) await src.put(f, rootFile(f));
    const storage = localStore();
    const store = openStorage(storage);
    const spec = pipelineOf([src.pattern]);
    await run({ pipeline: spec, storage });
    const records = await shardRecords(store);

    const scheduleId = `incremental-${++seq}`;
    await createPipelineSchedule(h.client, { scheduleId, pipeline: 'incremental', input: { pipeline: spec, storage }, everyMs: 2_000, catchupWindowMs: 60_000 });
    const handle = h.client.schedule.getHandle(scheduleId);
    try {
      const deadline = Date.now() + 90_000;
      let started: string[] = [];
      while (started.length < 2) {
        assert.ok(Date.now() < deadline, 'the schedule started two runs');
        await sleep(500);
        started = (await handle.describe()).info.recentActions.map((a) => a.action.workflow.workflowId);
      }
      for (const id of started.slice(0, 2)) {
        const r = await h.result(id);
        assert.equal(r.status, 'completed');
        assert.deepEqual(Object.values(r.stages).map((s) => s.status), ['cached', 'cached'], `${id}: every stage cached`);
        assert.equal(runNews(r), 'nothing new (every stage cached)');
      }
      assert.equal(await shardRecords(store), records, 'no file read');

      // The CLI shows the schedule's policies and, per scheduled run, what it found new.
      const cli = (...args: string[]) => spawnSync(process.execPath, [cliEntry, ...args], { cwd: h.tmp, env: h.env(), encoding: 'utf8', timeout: 60_000 });
      const schedules = cli('schedule', 'list');
      assert.equal(schedules.status, 0, schedules.stderr);
      assert.match(schedules.stdout, new RegExp(`${scheduleId} .*every 2s.* active  overlap: skip  catch-up: 1m  next: `));
      const list = cli('list', '--limit', '50');
      assert.equal(list.status, 0, list.stderr);
      for (const id of started.slice(0, 2)) assert.match(list.stdout, new RegExp(`scheduled incremental +${id}\n +new: nothing new \\(every stage cached\\)`));
    } finally {
      await handle.delete();
    }
  });
});
