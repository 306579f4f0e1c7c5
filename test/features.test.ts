/**
 * Stage 2 (`features`) through the engine on a real Temporal dev server,
 * against the independent Python reference (test/reference/stage2.py), with
 * determinism, balance statistics, provenance and a worker killed mid-transform.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStorage } from '../storage/index.js';
import { readIngestParquet } from '../hep/ingest/index.js';
import { mergeByShuffleKey, readFeaturesParquet, type FeaturesColumns } from '../hep/features/index.js';
import type { PipelineRunInput, RunResult } from '../protocol/protocol.js';
import type { StorageSpec } from '../storage/spec.js';
import { projectRoot } from '../infra/tools.js';
import { Harness } from './support/harness.js';
import { python } from './support/python.js';

const h = new Harness();
let seq = 0;
const freshRoot = (): StorageSpec => ({ root: pathToFileURL(join(h.tmp, `store-${++seq}`)).href });
type Stages = Exclude<PipelineRunInput['pipeline'], string>['stages'];
const pipeline = (padding: 'faithful' | 'masked', seed = 42, extra: Record<string, unknown> = {}) => ({
  name: 'stage2',
  stages: {
    gen: { uses: 'generate', with: { eventsPerSample: 1500, eventsPerFile: 750, seed: 3 } },
    ingest: { uses: 'ingest', needs: ['gen'], with: { mode: 'fixed', maxTracks: 40, maxPhotons: 15, maxNeutrals: 15 } },
    features: { uses: 'features', needs: ['ingest'], with: { seed, padding, rowGroupSize: 64, ...extra }, heartbeatTimeout: '3s', retry: { maxAttempts: 4, initialInterval: '200ms' } },
  } satisfies Stages,
});

interface Outputs { train: FeaturesColumns[]; test: FeaturesColumns[]; files: Map<string, string>; manifest: { outputs: Array<{ name: string; key: string }>; summary: { countsBefore: number[]; countsAfter: number[]; trainByClass: number[] } } }

async function outputsOf(result: RunResult, storage: StorageSpec, stage = 'features'): Promise<Outputs> {
  const store = openStorage(storage);
  const uri = result.stages[stage]!.manifestUri!;
  const manifest = JSON.parse(Buffer.from(await store.get(uri.slice(storage.root.length + 1))).toString('utf8')) as Outputs['manifest'];
  const out: Outputs = { train: [], test: [], files: new Map(), manifest };
  for (const o of manifest.outputs) {
    const bytes = await store.get(o.key);
    out.files.set(o.name, createHash('sha256').update(bytes).digest('hex'));
    if (o.name.startsWith('train-')) out.train.push(await readFeaturesParquet(bytes));
    if (o.name.startsWith('test-')) out.test.push(await readFeaturesParquet(bytes));
  }
  return out;
}

/** key → row index pairs over a list of column sets. */
function index(sets: FeaturesColumns[]): Map<string, { set: FeaturesColumns; i: number }> {
  const m = new Map<string, { set: FeaturesColumns; i: number }>();
  for (const set of sets) for (let i = 0; i < set.rows; i++) m.set(`${set.sourceFile[i]}#${set.entry[i]}`, { set, i });
  return m;
}

function assertClose(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  for (let k = 0; k < a.length; k++) {
    const d = Math.abs(a[k]! - b[k]!);
    if (d > 1e-5 * Math.max(1, Math.abs(b[k]!))) assert.fail(`${what}[${k}]: ${a[k]} vs reference ${b[k]}`);
  }
}

before(async () => {
  await h.start();
  await h.startWorker();
});
after(() => h.stop());

describe('features (stage 2) on the engine', () => {
  const cases = [
    { padding: 'masked', scaling: 'event' },
    { padding: 'faithful', scaling: 'event' },
    { padding: 'masked', scaling: 'dataset' },
  ] as const;
  for (const { padding, scaling } of cases) {
    test(`${padding} padding, ${scaling} particle scaling: identical HLF_input and GRU_input to the Python reference for every event`, async () => {
      const storage = freshRoot();
      const result = await h.result(await h.run({ pipeline: pipeline(padding, 42, scaling === 'dataset' ? { particleScaling: scaling } : {}), storage }));
      assert.equal(result.status, 'completed');
      const ours = await outputsOf(result, storage);
      const store = openStorage(storage);
      const ingestUri = result.stages.ingest!.manifestUri!;
      const ingestManifest = JSON.parse(Buffer.from(await store.get(ingestUri.slice(storage.root.length + 1))).toString('utf8')) as { outputs: Array<{ key: string }> };
      const parts = ingestManifest.outputs.map((o) => join(fileURLToPath(storage.root), o.key));
      const refTrain = join(h.tmp, `ref-${padding}-${scaling}-train.parquet`);
      const refTest = join(h.tmp, `ref-${padding}-${scaling}-test.parquet`);
      const args = ['--padding', padding, '--particle-scaling', scaling, '--seed', '42', '--out-train', refTrain, '--out-test', refTest, '--stats', join(h.tmp, `ref-${padding}-${scaling}.json`)];
      execFileSync(python(), [join(projectRoot, 'test', 'reference', 'stage2.py'), ...args, ...parts], { stdio: ['ignore', 'ignore', 'pipe'] });
      for (const [split, mine, refFile] of [['train', ours.train, refTrain], ['test', ours.test, refTest]] as const) {
        const ref = index([await readFeaturesParquet(readFileSync(refFile))]);
        const got = index(mine);
        assert.deepEqual([...got.keys()].sort(), [...ref.keys()].sort(), `${split}: the same events`);
        assert.ok(got.size > 100, `${split}: has events`);
        for (const [key, r] of ref) {
          const g = got.get(key)!;
          assertClose(g.set.hlf.subarray(g.i * 14, (g.i + 1) * 14), r.set.hlf.subarray(r.i * 14, (r.i + 1) * 14), `${split} ${key} HLF_input`);
          const w = g.set.particles * 19;
          assertClose(g.set.gru.subarray(g.i * w, (g.i + 1) * w), r.set.gru.subarray(r.i * w, (r.i + 1) * w), `${split} ${key} GRU_input`);
          assert.equal(g.set.label[g.i], r.set.label[r.i]);
        }
      }
      // Merging the train parts by shuffle key gives the reference's global training order.
      const partsBytes = ours.manifest.outputs.filter((o) => o.name.startsWith('train-')).map((o) => () => store.get(o.key));
      const merged: string[] = [];
      for await (const { cols, row } of mergeByShuffleKey(partsBytes)) merged.push(`${cols.sourceFile[row]}#${cols.entry[row]}`);
      const refTrainCols = await readFeaturesParquet(readFileSync(refTrain));
      assert.deepEqual(merged, Array.from({ length: refTrainCols.rows }, (_, i) => `${refTrainCols.sourceFile[i]}#${refTrainCols.entry[i]}`), 'global shuffled order');
      const summary = ours.manifest.summary as { particleScaling?: string; particleScaler?: { mean: number[]; std: number[] } };
      if (scaling === 'dataset') assert.deepEqual([summary.particleScaling, summary.particleScaler?.mean.length, summary.particleScaler?.std.length], ['dataset', 19, 19], 'scaler.json holds the particle scale');
      else assert.deepEqual([summary.particleScaling, summary.particleScaler], [undefined, undefined], 'per-event scaling writes scaler.json as before');
      if (padding === 'masked') {
        // Padding rows are exactly zero (the generated events have fewer particles than the caps).
        const t = ours.train[0]!;
        const w = t.particles * 19;
        const lastRow = t.gru.subarray(w - 19, w);
        assert.ok(lastRow.every((v) => v === 0), 'last particle row of an event is padding, exactly 0');
      }
    });
  }

  test('determinism, balance within binomial bounds, provenance; another seed changes the split', async () => {
    const a = freshRoot();
    const b = freshRoot();
    const ra = await h.result(await h.run({ pipeline: pipeline('masked'), storage: a }));
    const rb = await h.result(await h.run({ pipeline: pipeline('masked'), storage: b }));
    const oa = await outputsOf(ra, a);
    const ob = await outputsOf(rb, b);
    assert.deepEqual([...oa.files], [...ob.files], 'same seed: byte-identical outputs');

    const [n0, n1, n2] = oa.manifest.summary.countsBefore as [number, number, number];
    const kept = [0, 1, 2].map((c) => [...oa.train, ...oa.test].reduce((s, t) => s + t.label.filter((l) => l === c).length, 0));
    assert.equal(kept[0], n0, 'QCD is kept whole');
    assert.deepEqual(oa.manifest.summary.countsAfter, kept, 'scaler.json / summary counts after balancing');
    for (const [c, n] of [[1, n1], [2, n2]] as const) {
      const p = Math.min(1, n0 / n);
      const sd = Math.sqrt(n * p * (1 - p));
      assert.ok(Math.abs(kept[c]! - n * p) <= 5 * sd + 1, `class ${c}: kept ${kept[c]} vs expected ${n * p} ± ${5 * sd}`);
    }
    // Every output row traces back to a stage-1 row.
    const store = openStorage(a);
    const ingestManifest = JSON.parse(Buffer.from(await store.get(ra.stages.ingest!.manifestUri!.slice(a.root.length + 1))).toString('utf8')) as { outputs: Array<{ key: string }> };
    const stage1 = new Set<string>();
    for (const o of ingestManifest.outputs) {
      const t = await readIngestParquet(await store.get(o.key), { columns: ['source_file', 'entry'] });
      for (let i = 0; i < t.rows; i++) stage1.add(`${t.sourceFile![i]}#${t.entry![i]}`);
    }
    for (const key of index([...oa.train, ...oa.test]).keys()) assert.ok(stage1.has(key), `${key} comes from stage 1`);
    // Train parts are sorted by their shuffle key.
    for (const t of oa.train) for (let i = 1; i < t.rows; i++) assert.ok(t.shuffleKey![i - 1]! <= t.shuffleKey![i]!);

    const c = freshRoot();
    const oc = await outputsOf(await h.result(await h.run({ pipeline: pipeline('masked', 7), storage: c })), c);
    assert.notDeepEqual([...index(oc.train).keys()].sort(), [...index(oa.train).keys()].sort(), 'another seed, another split');
  });

  test('kill -9 of the worker during the transform pass: identical outputs', async () => {
    const spec = pipeline('masked', 42, { window: 1 });
    const clean = freshRoot();
    const expected = await outputsOf(await h.result(await h.run({ pipeline: spec, storage: clean })), clean);

    await h.stopWorkers();
    const w1 = await h.startWorker();
    const storage = freshRoot();
    const store = openStorage(storage);
    const runId = await h.run({ pipeline: spec, storage });
    const shardManifests = async () => (await store.list('cache/features/')).filter((o) => /shards\/\d+\/manifest\.json$/.test(o.key)).length;
    const deadline = Date.now() + 120_000;
    while ((await shardManifests()) < 1) {
      assert.ok(Date.now() < deadline, 'transform shards were committed');
      await sleep(20);
    }
    await w1.kill9();
    await h.startWorker();
    const got = await outputsOf(await h.result(runId), storage);
    assert.deepEqual([...got.files], [...expected.files], 'byte-identical outputs');
  });
});
