/**
 * Stage-2 throughput: the `features` stage kind (prepass, merge, transform,
 * combine; called directly on local storage, without Temporal) vs the Python
 * reference (test/reference/stage2.py) on the same stage-1 Parquet, one core.
 *
 *   node dist/bench/features.js [--events-per-sample 3000] [--padding masked]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateFile, SAMPLES } from '../hep/generator/index.js';
import { openRootFile } from '../root/read/index.js';
import { ingestRootFile } from '../hep/ingest/rootFile.js';
import { DEFAULT_INGEST } from '../hep/ingest/index.js';
import { collectBytes } from '../parquet/index.js';
import { LocalStorage } from '../storage/index.js';
import { features } from '../stages/builtin/features.js';
import { RecordingOutputWriter } from '../runtime/outputWriter.js';
import type { StageContext } from '../stages/kind.js';
import type { StageManifest } from '../protocol/manifest.js';
import { projectRoot } from '../infra/tools.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1]! : fallback;
};
const eventsPerSample = Number(arg('--events-per-sample', '3000'));
const padding = arg('--padding', 'masked') as 'masked' | 'faithful';
const dir = mkdtempSync(join(tmpdir(), 'topoflow-bench-features-'));
const storage = new LocalStorage(dir);
const python = execFileSync('bash', [join(projectRoot, 'infra', 'python.sh')], { encoding: 'utf8' }).trim();

try {
  // Stage-1 parts at the seed's full caps (801 x 19).
  const outputs: StageManifest['outputs'] = [];
  for (const [i, sample] of SAMPLES.entries()) {
    const root = await openRootFile({ bytes: generateFile({ sample, seed: 77, fileIndex: i, events: eventsPerSample }), name: `${sample}.root` });
    const r = await ingestRootFile(root, { config: DEFAULT_INGEST, label: i, sourceFile: `${sample}.root` });
    const key = `stage1/part-${i}.parquet`;
    const put = await storage.put(key, await collectBytes(r.parquet));
    outputs.push({ name: `part-${i}.parquet`, key, uri: storage.uri(key), bytes: put.bytes, sha256: put.sha256, rows: r.selected });
  }
  const rows = outputs.reduce((s, o) => s + (o.rows ?? 0), 0);
  const inputs = { ingest: { outputs } as unknown as StageManifest };
  const w = features.withSchema.parse({ padding, seed: 42 });
  const ctx = (prefix: string): StageContext<typeof w> => ({
    stageId: 'features', with: w, inputs, storage, output: new RecordingOutputWriter(storage, prefix),
    progress: () => {}, signal: new AbortController().signal, log: () => {}, checkpointFolder: 'checkpoints/bench',
  });

  const t0 = performance.now();
  const shards = await features.plan(ctx('x'));
  const partial = [];
  for (const [i, s] of shards.entries()) partial.push(await features.prepass!.runShard(ctx('x'), s, i));
  const prepared = await features.prepass!.merge(ctx('x'), partial);
  const results = [];
  for (const [i, s] of shards.entries()) {
    const r = await features.runShard({ ...ctx(`out/shard-${i}`), prepared }, s, i);
    results.push({ index: i, outputs: [], counts: r.counts ?? {}, summary: r.summary ?? null, worker: 'bench' });
  }
  await features.combine!({ ...ctx('out'), prepared }, results);
  const tsSecs = (performance.now() - t0) / 1000;

  const p0 = performance.now();
  execFileSync(python, [join(projectRoot, 'test', 'reference', 'stage2.py'), '--padding', padding, '--seed', '42',
    '--out-train', join(dir, 'ref-train.parquet'), '--out-test', join(dir, 'ref-test.parquet'), '--stats', join(dir, 'ref.json'),
    ...outputs.map((o) => join(dir, o.key))], { stdio: ['ignore', 'ignore', 'inherit'] });
  const pySecs = (performance.now() - p0) / 1000;

  console.log(`\n${rows} stage-1 events (801 x 19), padding ${padding}\n`);
  console.log('| implementation (1 core) | seconds | events/s/core | vs Python | vs seed Spark (16 ev/s/core) |\n|---|---:|---:|---:|---:|');
  for (const [name, secs] of [['topoflow `features` (TypeScript, parquet-wasm)', tsSecs], ['Python reference (numpy + pyarrow), incl. interpreter start', pySecs]] as const) {
    const rate = rows / secs;
    console.log(`| ${name} | ${secs.toFixed(2)} | ${rate.toFixed(0)} | ${(rate / (rows / pySecs)).toFixed(2)}x | ${(rate / 16).toFixed(0)}x |`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
