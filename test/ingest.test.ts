/**
 * generate → ingest through the engine on a real Temporal dev server: Parquet
 * parts where the manifest says, per-file counts, bad files (fail holds the
 * run with a readable error; skip lists them), and a worker killed mid-ingest.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStorage } from '../storage/index.js';
import { readIngestParquet } from '../hep/ingest/index.js';
import type { PipelineRunInput, RunResult } from '../protocol/protocol.js';
import { Harness } from './support/harness.js';
import { startMinio, type MinioServer } from '../infra/minio.js';
import { generateFile } from '../hep/generator/index.js';
import type { StorageSpec } from '../storage/spec.js';
import { projectRoot } from '../infra/tools.js';

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

let minio: MinioServer;

before(async () => {
  minio = await startMinio({ dataDir: join(h.tmp, 'minio') });
  await minio.createBucket('pipeline');
  await minio.createBucket('raw-data');
  // Workers inherit these: the standard AWS variables, nothing in pipelines.yaml.
  process.env.AWS_ACCESS_KEY_ID = minio.accessKey;
  process.env.AWS_SECRET_ACCESS_KEY = minio.secretKey;
  process.env.AWS_ENDPOINT_URL = minio.endpoint;
  process.env.AWS_REGION = 'us-east-1';
  await h.start();
  await h.startWorker();
});
after(async () => {
  await h.stop();
  await minio?.stop();
});

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
    const raw = openStorage({ root: 's3://raw-data', endpoint: minio.endpoint });
    await raw.put('delphes/wjets_extra.root', generateFile({ sample: 'wjets', seed: 9, fileIndex: 7, events: 300 }));
    const storage = { root: 's3://pipeline/runs', endpoint: minio.endpoint };
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
