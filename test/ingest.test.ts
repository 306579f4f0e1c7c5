/**
 * generate → ingest through the engine on a real Temporal dev server: Parquet
 * parts where the manifest says, per-file counts, bad files (fail holds the
 * run with a readable error; skip lists them), and a worker killed mid-ingest.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStorage } from '../storage/index.js';
import { readIngestParquet } from '../hep/ingest/index.js';
import type { PipelineRunInput, RunResult } from '../protocol/protocol.js';
import { Harness } from './support/harness.js';
import { withMinioAndWorker } from './support/minioEnv.js';
import { generateFile } from '../hep/generator/index.js';
import type { StorageSpec } from '../storage/spec.js';
import { projectRoot } from '../infra/tools.js';
import { openRootFile } from '../root/read/index.js';

const h = new Harness();
/** Real ROOT files, used in place (shared/ sits beside the repository). */
const fixtures = join(projectRoot, '..', 'shared', 'fixtures', 'root');
let seq = 0;
const freshRoot = () => ({ root: pathToFileURL(join(h.tmp, `store-${++seq}`)).href });
type Stages = Exclude<PipelineRunInput['pipeline'], string>['stages'];
const pipeline = (stages: Stages) => ({ name: 'stage1', stages });
const caps = { maxTracks: 60, maxPhotons: 20, maxNeutrals: 20 };
const genAndIngest = (extra: Record<string, unknown> = {}, gen: Record<string, unknown> = {}) =>
  pipeline({
    gen: { uses: 'generate', with: { eventsPerSample: 1200, eventsPerFile: 600, seed: 5, ...gen } },
    ingest: { uses: 'ingest', needs: ['gen'], with: { mode: 'fixed', ...caps, window: 2, ...extra }, heartbeatTimeout: '3s', retry: { maxAttempts: 4, initialInterval: '200ms' } },
  });

interface IngestSummary { files: Array<{ file: string; read: number; selected: number; rejected: Record<string, number> }>; badFiles: Array<{ file: string; error: string }> }

async function manifestOf(result: RunResult, stage: string, storage: StorageSpec) {
  const uri = result.stages[stage]!.manifestUri!;
  const store = openStorage(storage);
  return { store, manifest: JSON.parse(Buffer.from(await store.get(uri.slice(storage.root.length + 1))).toString('utf8')) as { outputs: Array<{ name: string; key: string; rows?: number }>; counts: Record<string, number>; summary: IngestSummary } };
}

/** Every (file, entry, label) row of the stage's Parquet parts, sorted. */
async function rowsOf(result: RunResult, storage: StorageSpec): Promise<string[]> {
  const { store, manifest } = await manifestOf(result, 'ingest', storage);
  const rows: string[] = [];
  for (const out of manifest.outputs.filter((o) => o.name.endsWith('.parquet'))) {
    const t = await readIngestParquet(await store.get(out.key), { columns: ['source_file', 'entry', 'label'] });
    assert.equal(t.rows, out.rows, `${out.name}: rows as the manifest says`);
    for (let i = 0; i < t.rows; i++) rows.push(`${t.sourceFile![i]!.split('/').pop()}#${t.entry![i]}#${t.label![i]}`);
  }
  return rows.sort();
}

const minioOf = withMinioAndWorker(h, ['pipeline', 'raw-data']);

describe('generate → ingest on the engine', () => {
  test('writes Parquet parts with per-file counts by reason; labels follow the samples', async () => {
    const storage = freshRoot();
    const result = await h.result(await h.run({ pipeline: genAndIngest(), storage }));
    assert.equal(result.status, 'completed');
    const { manifest } = await manifestOf(result, 'ingest', storage);
    assert.equal(manifest.summary.files.length, 6, 'two files per sample');
    assert.equal(manifest.counts.read, 3600);
    for (const f of manifest.summary.files) {
      const rejected = Object.values(f.rejected).reduce((a, b) => a + b, 0);
      assert.equal(f.read, 600);
      assert.equal(f.selected + rejected, f.read, `${f.file}: every event selected or rejected once`);
      assert.ok(f.selected > 0, `${f.file}: some events selected`);
    }
    const rows = await rowsOf(result, storage);
    assert.equal(rows.length, manifest.counts.selected);
    for (const r of rows) {
      const [file, , label] = r.split('#');
      assert.equal(Number(label), file!.startsWith('qcd') ? 0 : file!.startsWith('ttbar') ? 1 : 2, r);
    }
  });

  test('on S3: reads the generated files from the pipeline bucket and an s3:// input from another bucket', async () => {
    const raw = openStorage({ root: 's3://raw-data', endpoint: minioOf().endpoint });
    await raw.put('delphes/wjets_extra.root', generateFile({ sample: 'wjets', seed: 9, fileIndex: 7, events: 300 }));
    const storage = { root: 's3://pipeline/runs', endpoint: minioOf().endpoint };
    const result = await h.result(await h.run({ pipeline: genAndIngest({ inputs: ['s3://raw-data/delphes/wjets_extra.root'] }), storage }));
    assert.equal(result.stages.ingest!.status, 'completed');
    const { manifest } = await manifestOf(result, 'ingest', storage);
    assert.equal(manifest.summary.files.length, 7, 'six generated files plus the external one');
    const external = manifest.summary.files.find((f) => f.file === 's3://raw-data/delphes/wjets_extra.root');
    assert.equal(external?.read, 300);
    const rows = await rowsOf(result, storage);
    assert.ok(rows.some((r) => r.startsWith('wjets_extra.root#') && r.endsWith('#2')), 'external rows labelled W+jets from the name');
  });

  test('bad files: `fail` holds the run naming the file; `skip` completes and lists them', async () => {
    const dir = mkdtempSync(join(h.tmp, 'bad-'));
    const truncated = join(dir, 'wjets_truncated.root');
    const good = readFileSync(join(fixtures, 'uproot-HZZ-zlib.root'));
    writeFileSync(truncated, good.subarray(0, Math.floor(good.length / 2)));
    const inputs = [
      { uri: truncated, label: 2 },
      { uri: join(fixtures, 'uproot-HZZ-zlib.root'), label: 0 }, // no Delphes tree
      { uri: join(fixtures, 'uproot-issue513.root'), label: 1 }, // Delphes without leptons / MissingET branches
      { uri: join(dir, 'qcd_missing.root'), label: 0 },
    ];
    const storage = freshRoot();
    const failing = await h.run({ pipeline: genAndIngest({ inputs }), storage });
    const held = await h.waitFor(failing, (p) => p.status === 'held', 'the ingest stage to hold', 120_000);
    assert.match(held.stages.ingest!.error!, /wjets_truncated\.root|uproot-HZZ-zlib\.root|uproot-issue513\.root|qcd_missing\.root/);
    await h.client.workflow.getHandle(failing).executeUpdate('abort', { args: [{}] });

    const result = await h.result(await h.run({ pipeline: genAndIngest({ inputs, onBadFile: 'skip' }), storage }));
    assert.equal(result.stages.ingest!.status, 'completed');
    const { manifest } = await manifestOf(result, 'ingest', storage);
    const bad: Record<string, string> = Object.fromEntries(manifest.summary.badFiles.map((b) => [b.file.split('/').pop() ?? b.file, b.error]));
    assert.match(bad['wjets_truncated.root'] ?? '', /wjets_truncated\.root.*(truncat|corrupt)/i);
    assert.match(bad['uproot-HZZ-zlib.root'] ?? '', /Delphes/);
    assert.match(bad['uproot-issue513.root'] ?? '', /Electron\.PT/);
    assert.match(bad['qcd_missing.root'] ?? '', /no such file/);
    assert.equal(manifest.summary.files.length, 6, 'the good files completed');
    assert.equal(manifest.counts.badFiles, 4);
  });

  test('kill -9 of the worker mid-ingest: the run completes with exactly the rows of an uninterrupted run', async () => {
    const spec = genAndIngest({ entriesPerShard: 1000, window: 1 }, { eventsPerSample: 3000, eventsPerFile: 3000 });
    const clean = freshRoot();
    const reference = await h.result(await h.run({ pipeline: spec, storage: clean }));
    const expected = await rowsOf(reference, clean);

    await h.stopWorkers();
    const w1 = await h.startWorker();
    const storage = freshRoot();
    const store = openStorage(storage);
    const runId = await h.run({ pipeline: spec, storage });
    // Kill once some shards are committed and others are not: the worker is mid-shard.
    const shardManifests = async () => (await store.list('cache/ingest/')).filter((o) => /shards\/\d+\/manifest\.json$/.test(o.key)).length;
    const deadline = Date.now() + 120_000;
    while ((await shardManifests()) < 2) {
      assert.ok(Date.now() < deadline, 'shards were committed');
      await sleep(20);
    }
    assert.ok((await shardManifests()) < 9, 'killed before the last shard');
    await w1.kill9();
    await h.startWorker();
    const result = await h.result(runId);
    assert.equal(result.stages.ingest!.status, 'completed');
    const got = await rowsOf(result, storage);
    assert.equal(got.length, expected.length, 'no missing or duplicate rows');
    assert.deepEqual(got, expected);
  });
});

describe('hostile and damaged inputs', () => {
  const ingestOnly = (w: Record<string, unknown>) => pipeline({ ingest: { uses: 'ingest', with: { mode: 'fixed', ...caps, window: 2, ...w }, retry: { maxAttempts: 1, initialInterval: '100ms' } } });

  test('a device, a FIFO and a file over the size limit are refused naming the file, without reading them', async () => {
    const dir = mkdtempSync(join(h.tmp, 'hostile-'));
    const fifo = join(dir, 'qcd_fifo.root');
    execFileSync('mkfifo', [fifo]);
    const big = join(fixtures, 'uproot-HZZ-zlib.root');
    const inputs = [{ uri: '/dev/zero', label: 0 }, { uri: fifo, label: 1 }, { uri: big, label: 2 }];
    const storage = freshRoot();
    const t0 = Date.now();
    const result = await h.result(await h.run({ pipeline: ingestOnly({ inputs, onBadFile: 'skip', maxInputBytes: 1000, allowEmpty: true }), storage }));
    assert.ok(Date.now() - t0 < 60_000, 'refused at once');
    assert.equal(result.stages.ingest!.status, 'completed');
    const { manifest } = await manifestOf(result, 'ingest', storage);
    const bad = Object.fromEntries(manifest.summary.badFiles.map((b) => [b.file, b.error]));
    assert.match(bad['/dev/zero'] ?? '', /\/dev\/zero: not a regular file/);
    assert.match(bad[fifo] ?? '', /qcd_fifo\.root: not a regular file/);
    assert.match(bad[big] ?? '', new RegExp(`uproot-HZZ-zlib\\.root: ${readFileSync(big).length} bytes is more than the limit of 1000 bytes per input file`));
  });

  test('every input bad: the stage fails naming each input, unless allowEmpty; a file split into shards is one bad file', async () => {
    const broken = join(fixtures, 'uproot-issue513.root'); // a Delphes tree without the lepton branches: opens, every shard fails
    const entries = (await (await openRootFile({ bytes: readFileSync(broken), name: broken })).tree('Delphes')).entries;
    const missing = join(h.tmp, 'wjets_missing.root');
    const inputs = [{ uri: broken, label: 1 }, { uri: missing, label: 2 }];
    const entriesPerShard = Math.max(1, Math.ceil(entries / 3));
    const storage = freshRoot();
    const held = await h.run({ pipeline: ingestOnly({ inputs, onBadFile: 'skip', entriesPerShard }), storage });
    const p = await h.waitFor(held, (x) => x.status === 'held', 'the ingest stage to hold', 120_000);
    assert.match(p.stages.ingest!.error!, /no event was selected/);
    assert.match(p.stages.ingest!.error!, /uproot-issue513\.root: bad/);
    assert.match(p.stages.ingest!.error!, /wjets_missing\.root: bad \(.*no such file/);
    assert.match(p.stages.ingest!.error!, /allowEmpty: true/);
    await h.client.workflow.getHandle(held).executeUpdate('abort', { args: [{}] });

    const result = await h.result(await h.run({ pipeline: ingestOnly({ inputs, onBadFile: 'skip', entriesPerShard, allowEmpty: true }), storage }));
    assert.equal(result.stages.ingest!.status, 'completed');
    const { manifest } = await manifestOf(result, 'ingest', storage);
    assert.equal(manifest.summary.badFiles.length, 2);
    assert.equal(manifest.counts.badFiles, 2, 'files, not shards');
  });

  test('an upstream output damaged after its commit fails ingest naming the object; a deleted one makes the cache hit recompute', async () => {
    const storage = freshRoot();
    const first = await h.result(await h.run({ pipeline: genAndIngest(), storage }));
    const store = openStorage(storage);
    const genManifest = JSON.parse(Buffer.from(await store.get(first.stages.gen!.manifestUri!.slice(storage.root.length + 1))).toString('utf8')) as { outputs: Array<{ name: string; key: string }> };
    const key = (name: RegExp) => genManifest.outputs.find((o) => name.test(o.name))!.key;
    // Same size, other bytes (a cheap cache check sees sizes only): ingest's own check must catch it.
    const damaged = Buffer.from(await store.get(key(/qcd.*000/)));
    damaged[damaged.length >> 1]! ^= 0xff;
    await store.put(key(/qcd.*000/), damaged);
    const forced = await h.run({ pipeline: genAndIngest(), storage, force: ['ingest'] });
    const p = await h.waitFor(forced, (x) => x.status === 'held', 'ingest to hold', 120_000);
    assert.match(p.stages.ingest!.error!, /qcd.*000.*differs from what its stage's manifest recorded/);
    await h.client.workflow.getHandle(forced).executeUpdate('abort', { args: [{}] });

    await store.delete(key(/qcd.*000/));
    const again = await h.result(await h.run({ pipeline: genAndIngest(), storage }));
    assert.equal(again.status, 'completed');
    assert.equal(again.stages.gen!.status, 'completed');
    assert.match(again.stages.gen!.reason!, /^committed outputs missing or damaged \(.*qcd.*000.* is missing\)/);
    const digests = (r: RunResult) => r.stages.gen!.outputs.map((o) => `${o.name}:${o.sha256}`).sort();
    assert.deepEqual(digests(again), digests(first), 'regenerated with the recorded content');
    assert.equal(again.stages.ingest!.status, 'completed', 'the aborted forced run had removed its commit');
  });
});
