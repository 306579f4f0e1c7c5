/**
 * The train stage's data path with and without the prefetch worker thread
 * (ml/prefetch.ts), per model, TensorFlow intra-op thread count and model
 * replicas (ml/replicas.ts): training
 * samples/s over steps 6..N of a first epoch with the stage's defaults
 * (shuffle buffer 2048, batch 128, masked padding trimmed), so Parquet decode
 * happens while training, as in a real run (bench/training.ts instead fills
 * a whole-set buffer before step 1 and so times no decoding).
 *
 *   npm run build
 *   node dist/bench/prefetch.js [--features <features stage key prefix in data/store>]
 *       [--events-per-sample 40000] [--models particle_sequence,inclusive,hlf] [--threads 1,2]
 *       [--replicas 1,2] [--steps 150] [--epochs 1] [--repeat 2]
 *
 * `--epochs N` (N > 1): whole epochs instead, the rate of epoch N (row
 * groups kept from the earlier ones, as a real run's later epochs).
 *
 * Without --features it generates a stage-2 data set (demo caps) in a temp
 * folder. Each cell runs in a child process of its own (TensorFlow reads its
 * thread count once), alternating off and on so that load drifts hit both.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalStorage } from '../storage/index.js';
import type { StageManifest } from '../protocol/manifest.js';
import { projectRoot } from '../infra/tools.js';
import { loadPipelinesFile } from '../config/load.js';
import { configVocabulary } from '../stages/configVocabulary.js';
import { builtinKinds } from '../stages/index.js';
import { KindRegistry } from '../stages/registry.js';
import { ModelSpec, usesInput } from '../ml/modelSpec.js';
import { useBackend } from '../ml/backend.js';
import { replicaCount } from '../ml/replicas.js';
import { train } from '../ml/trainer.js';
import { streamedData } from '../ml/prefetch.js';
import type { PartRef } from '../ml/data.js';
import { makeFeaturesDataset } from '../test/support/stage2Data.js';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : fallback);
const WARMUP = 5;

interface Cell {
  model: string;
  backend: string;
  threads: string;
  replicas: number;
  prefetch: boolean;
  samplesPerSecond: number;
}

/**
 * One cell: a child process trains `model` until step N of its first epoch
 * and prints its rate; with `epochs` > 1, whole epochs instead, and the rate
 * of the last one (the trainer's own figure: training time, no validation).
 */
async function child(root: string, manifestPath: string, model: string, steps: number, epochs: number): Promise<void> {
  const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as StageManifest;
  const parts = (prefix: string): PartRef[] =>
    m.outputs.filter((o) => o.name.split('/').pop()!.startsWith(prefix)).map((o) => ({ key: o.key, rows: o.rows!, bytes: o.bytes, sha256: o.sha256 }));
  const models = loadPipelinesFile(join(projectRoot, 'pipelines.yaml'), configVocabulary(new KindRegistry(builtinKinds))).pipelines.demo!.models!;
  const spec = ModelSpec.parse({ name: model, ...models[model] });
  const backend = await useBackend('auto', { recurrent: usesInput(spec, 'particles') });
  const data = streamedData(new LocalStorage(root), parts('train-'), parts('test-'), { recurrent: usesInput(spec, 'particles') });
  const replicas = replicaCount(backend, { recurrent: usesInput(spec, 'particles'), trimmed: true });
  const abort = new AbortController();
  const ends: number[] = [];
  let lastEpoch = 0;
  try {
    const r = await train(spec, { epochs, batchSize: 128, learningRate: 1e-3, seed: 42, shuffleBuffer: 2048, evalBatchSize: 256, checkpointSteps: 1e9, checkpointSeconds: 1e9, trim: true }, {
      data, signal: abort.signal, log: () => {}, replicas,
      progress: (p) => {
        ends.push(performance.now());
        if (epochs === 1 && p.done >= steps) abort.abort();
      },
    });
    lastEpoch = r.history.at(-1)!.samplesPerSecond;
  } catch (err) {
    if (!/training cancelled/.test((err as Error).message)) throw err;
  } finally {
    await data.close?.();
  }
  if (ends.length <= WARMUP + 1) throw new Error(`only ${ends.length} steps ran: use a larger data set`);
  const seconds = (ends.at(-1)! - ends[WARMUP - 1]!) / 1000;
  const rate = epochs > 1 ? lastEpoch : ((ends.length - WARMUP) * 128) / seconds;
  const cell: Cell = { model, backend: backend.name, threads: process.env.TF_NUM_INTRAOP_THREADS ?? '', replicas, prefetch: data.prefetched, samplesPerSecond: Math.round(rate) };
  console.log(JSON.stringify(cell));
}

async function main(): Promise<void> {
  if (argv[0] === '--child') return child(argv[1]!, argv[2]!, argv[3]!, Number(argv[4]), Number(argv[5]));
  const models = opt('--models', 'particle_sequence,inclusive,hlf').split(',');
  const threads = opt('--threads', '1,2').split(',');
  const replicaCounts = opt('--replicas', '1,2').split(',');
  /** hlf: one replica (its default: a ~1 ms step is shorter than a round trip to a thread). */
  const replicasOf = (model: string) => (model === 'hlf' ? ['1'] : replicaCounts);
  const steps = Number(opt('--steps', '150'));
  const epochs = Number(opt('--epochs', '1'));
  const repeat = Number(opt('--repeat', '2'));
  const features = opt('--features', '');
  let root: string;
  let manifestPath: string;
  let temp: string | undefined;
  if (features) {
    root = join(projectRoot, 'data', 'store');
    const dir = readdirSync(join(root, 'cache', 'features')).find((d) => d.startsWith(features));
    if (!dir) throw new Error(`--features ${features}: no features stage with that key prefix in ${join(root, 'cache', 'features')}`);
    manifestPath = join(root, 'cache', 'features', dir, 'manifest.json');
  } else {
    temp = root = mkdtempSync(join(tmpdir(), 'topoflow-bench-prefetch-'));
    const events = Number(opt('--events-per-sample', '40000'));
    console.error(`generating a stage-2 data set, ${events} events per sample...`);
    manifestPath = join(root, 'manifest.json');
    writeFileSync(manifestPath, JSON.stringify(await makeFeaturesDataset(new LocalStorage(root), { eventsPerSample: events, filesPerSample: 4 })));
  }
  const self = fileURLToPath(import.meta.url);
  const cells: Cell[] = [];
  const started = Date.now();
  console.error(`load average at the start ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  for (let r = 0; r < repeat; r++) {
    for (const model of models) {
      for (const t of model === 'hlf' ? ['1'] : threads) for (const r of replicasOf(model)) {
        for (const prefetch of ['0', '1']) {
          const env = { ...process.env, TOPOFLOW_PREFETCH: prefetch, TF_NUM_INTRAOP_THREADS: t, TOPOFLOW_REPLICAS: r };
          const res = spawnSync(process.execPath, [self, '--child', root, manifestPath, model, String(steps), String(epochs)], { env, encoding: 'utf8' });
          const line = res.stdout.split('\n').find((l) => l.startsWith('{'));
          if (res.status !== 0 || !line) throw new Error(`${model}, ${t} thread(s), ${r} replica(s), prefetch ${prefetch}: ${res.stderr.trim().split('\n').slice(-3).join(' ')}`);
          const cell = JSON.parse(line) as Cell;
          console.error(JSON.stringify(cell));
          cells.push(cell);
        }
      }
    }
  }
  const rows = ['| model | back end | TF intra-op threads | replicas | samples/s, prefetch off | samples/s, prefetch on | on / off |', '|---|---|---:|---:|---:|---:|---:|'];
  for (const model of models) {
    for (const t of model === 'hlf' ? ['1'] : threads) for (const r of replicasOf(model)) {
      const of = (p: boolean) => cells.filter((c) => c.model === model && c.threads === t && String(c.replicas) === r && c.prefetch === p).map((c) => c.samplesPerSecond);
      const best = (xs: number[]) => Math.max(...xs);
      const backend = cells.find((c) => c.model === model)!.backend;
      rows.push(`| ${model} | ${backend} | ${backend === 'tensorflow' ? t : '–'} | ${r} | ${of(false).join(', ')} | ${of(true).join(', ')} | **${(best(of(true)) / best(of(false))).toFixed(2)}×** (best of each) |`);
    }
  }
  console.log(rows.join('\n'));
  console.log(`\n${repeat} repeat(s), ${epochs > 1 ? `epoch ${epochs} of ${epochs}` : `steps ${WARMUP + 1}..${steps} of the first epoch`} each; ${((Date.now() - started) / 60000).toFixed(1)} min; load average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (temp) rmSync(temp, { recursive: true, force: true });
}

await main();
