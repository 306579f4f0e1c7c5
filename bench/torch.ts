/**
 * The torch back end (kernels/torch/, `backend: torch`) against wasm and Keras
 * on the same stage-2 Parquet: test AUC per class (one vs rest), mean of
 * `--seeds` seeds (42, 43, ...) each, and wall time per run. torch's GRU is the
 * `reset_after` formulation (two bias vectors), so Keras runs with its default
 * (reset_after=True); wasm's GRU is the Keras-1 formulation. All three train
 * with one thread, batch 128, Adam 1e-3, the train stage's shuffle buffer.
 *
 *   npm run build && node dist/bench/torch.js [--events-per-sample 20000] [--seeds 3]
 *       [--models hlf,inclusive] [--hlf-epochs 20] [--epochs 5] [--skip-keras] [--skip-wasm]
 *
 * Needs .venv-torch (bash infra/python-torch.sh) and, for Keras, .venv-bench
 * (bash infra/python-bench.sh). Prints a markdown table for bench/RESULTS.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '../storage/index.js';
import { makeFeaturesDataset, DEMO_CAPS } from '../test/support/stage2Data.js';
import { loadPipelinesFile } from '../config/load.js';
import { configVocabulary } from '../stages/configVocabulary.js';
import { builtinKinds } from '../stages/index.js';
import { KindRegistry } from '../stages/registry.js';
import { ModelSpec } from '../ml/modelSpec.js';
import { CLASS_NAMES } from '../hep/layout.js';
import { oneVsRest } from '../ml/metrics.js';
import { projectRoot } from '../infra/tools.js';
import { trainTorchClassifier } from '../ml/torchClassifier.js';
import type { JobFile } from '../ml/job.js';
import type { PartRef } from '../ml/data.js';

const argv = process.argv.slice(2);
const opt = (name: string, fallback: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : fallback);
const S = {
  eventsPerSample: Number(opt('--events-per-sample', '20000')),
  seeds: Number(opt('--seeds', '3')),
  hlfEpochs: Number(opt('--hlf-epochs', '20')),
  epochs: Number(opt('--epochs', '5')),
  models: opt('--models', 'hlf,inclusive').split(','),
  keras: !argv.includes('--skip-keras'),
  wasm: !argv.includes('--skip-wasm'),
};
const log = (m: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${m}`);
const f4 = (x: number) => x.toFixed(4);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const spread = (xs: number[]) => `${f4(mean(xs))} (${f4(Math.min(...xs))}–${f4(Math.max(...xs))})`;
const delta = (d: number) => `${d >= 0 ? '+' : ''}${d.toFixed(4)}${Math.abs(d) > 0.01 ? ' ✗' : ''}`;

const models = loadPipelinesFile(join(projectRoot, 'pipelines.yaml'), configVocabulary(new KindRegistry(builtinKinds))).pipelines.demo!.models!;
const dir = mkdtempSync(join(tmpdir(), 'topoflow-bench-torch-'));
const storage = new LocalStorage(dir);
const started = performance.now();
log(`stage-2 data: ${S.eventsPerSample} events per sample at the demo caps in ${dir}...`);
const manifest = await makeFeaturesDataset(storage, { eventsPerSample: S.eventsPerSample, caps: DEMO_CAPS, seed: 42 });
const pick = (prefix: string) => manifest.outputs.filter((o) => o.name.split('/').pop()!.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : 1));
const parts = (prefix: string): PartRef[] => pick(prefix).map((o) => ({ key: o.key, rows: o.rows!, bytes: o.bytes, sha256: o.sha256 }));
const data = { train: parts('train-'), test: parts('test-') };
const rows = (ps: PartRef[]) => ps.reduce((s, p) => s + p.rows, 0);
log(`  ${rows(data.train)} train / ${rows(data.test)} test events`);

interface Run { auc: number[]; secs: number; params: number; rate?: number }
const aucOf = (files: JobFile[]) => {
  const body = (n: string) => new Uint8Array(files.find((f) => f.name === n)!.body as Uint8Array);
  return oneVsRest(new Float32Array(body('predictions.bin').buffer), new Int8Array(body('labels.bin').buffer), 3).map((c) => c.auc);
};
let runId = 0;
const quiet = (who: string) => ({ log: (m: string) => (m.startsWith('epoch') ? log(`  ${who}: ${m}`) : undefined), progress: () => {}, signal: new AbortController().signal });
const settings = (model: ModelSpec, epochs: number, seed: number) => ({
  model, epochs, batchSize: 128, learningRate: 1e-3, seed, shuffleBuffer: 2048, evalBatchSize: 256, checkpointSteps: 1e9, checkpointSeconds: 1e9, trim: true,
});

async function torchRun(model: ModelSpec, epochs: number, seed: number): Promise<Run> {
  const t0 = performance.now();
  const r = await trainTorchClassifier(storage, { ...settings(model, epochs, seed), backend: 'torch', device: 'cpu' }, data, `ckpt/torch-${runId++}`, quiet('torch'), { ...process.env, TOPOFLOW_THREADS: '1' });
  const timing = JSON.parse(String(r.files.find((f) => f.name === 'timing.json')!.body)) as { samplesPerSecond: number };
  return { auc: aucOf(r.files), secs: (performance.now() - t0) / 1000, params: r.counts.params!, rate: timing.samplesPerSecond };
}

async function wasmRun(model: ModelSpec, epochs: number, seed: number): Promise<Run> {
  const { trainClassifier } = await import('../ml/classifier.js');
  const t0 = performance.now();
  const r = await trainClassifier(storage, { ...settings(model, epochs, seed), backend: 'wasm' }, data, `ckpt/wasm-${runId++}`, quiet('wasm'));
  const timing = JSON.parse(String(r.files.find((f) => f.name === 'timing.json')!.body)) as { samplesPerSecond: number };
  return { auc: aucOf(r.files), secs: (performance.now() - t0) / 1000, params: r.counts.params!, rate: timing.samplesPerSecond };
}

const python = S.keras ? execFileSync('bash', [join(projectRoot, 'infra', 'python-bench.sh')], { encoding: 'utf8' }).trim() : '';
function kerasRun(name: string, epochs: number, seed: number): Run {
  const out = join(dir, `keras-${runId++}.json`);
  const files = (ps: ReturnType<typeof pick>) => ps.map((o) => join(dir, o.key));
  execFileSync(python, [join(projectRoot, 'bench', 'keras', 'train_keras.py'), '--train', ...files(pick('train-')), '--test', ...files(pick('test-')), '--model', name, '--epochs', String(epochs), '--batch-size', '128', '--seed', String(seed), '--threads', '1', '--verbose', '0', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, cwd: projectRoot });
  const k = JSON.parse(readFileSync(out, 'utf8')) as { auc: Record<string, number>; total_seconds: number; params: number };
  return { auc: CLASS_NAMES.map((c) => k.auc[c]!), secs: k.total_seconds, params: k.params };
}

const seeds = Array.from({ length: S.seeds }, (_, i) => 42 + i);
const table: string[] = [];
const times: string[] = [];
for (const name of S.models) {
  const model = ModelSpec.parse({ name, ...models[name] });
  const epochs = name === 'hlf' ? S.hlfEpochs : S.epochs;
  const t: Run[] = [];
  const w: Run[] = [];
  const k: Run[] = [];
  for (const seed of seeds) {
    log(`${name}, seed ${seed}: torch...`);
    t.push(await torchRun(model, epochs, seed));
    log(`  torch AUC ${t.at(-1)!.auc.map(f4).join(' ')} in ${t.at(-1)!.secs.toFixed(0)} s`);
    if (S.wasm) {
      log(`${name}, seed ${seed}: wasm...`);
      w.push(await wasmRun(model, epochs, seed));
      log(`  wasm AUC ${w.at(-1)!.auc.map(f4).join(' ')} in ${w.at(-1)!.secs.toFixed(0)} s`);
    }
    if (S.keras) {
      log(`${name}, seed ${seed}: Keras...`);
      k.push(kerasRun(name, epochs, seed));
      log(`  Keras AUC ${k.at(-1)!.auc.map(f4).join(' ')} in ${k.at(-1)!.secs.toFixed(0)} s`);
    }
  }
  const col = (runs: Run[], i: number) => runs.map((r) => r.auc[i]!);
  CLASS_NAMES.forEach((c, i) => {
    const tm = mean(col(t, i));
    table.push(`| ${i === 0 ? `${name} (${epochs} ep.)` : ''} | ${i === 0 ? `${t[0]!.params} / ${w[0]?.params ?? '–'} / ${k[0]?.params ?? '–'}` : ''} | ${c} | ${spread(col(t, i))} | ${w.length ? spread(col(w, i)) : '–'} | ${k.length ? spread(col(k, i)) : '–'} | **${w.length ? delta(tm - mean(col(w, i))) : '–'}** | **${k.length ? delta(tm - mean(col(k, i))) : '–'}** |`);
  });
  const secs = (runs: Run[]) => (runs.length ? mean(runs.map((r) => r.secs)).toFixed(0) : '–');
  const rate = (runs: Run[]) => (runs.length && runs[0]!.rate !== undefined ? Math.round(mean(runs.map((r) => r.rate!))).toLocaleString('en-US') : '–');
  times.push(`| ${name} (${epochs} ep.) | ${secs(t)} | ${secs(w)} | ${secs(k)} | ${rate(t)} | ${rate(w)} |`);
}

console.log(`\n${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; ${rows(data.train).toLocaleString('en-US')} train / ${rows(data.test).toLocaleString('en-US')} test events (${S.eventsPerSample.toLocaleString('en-US')} per sample, demo caps); seeds ${seeds.join(', ')}; ${cpus().length} cores, load at the end ${loadavg().map((l) => l.toFixed(1)).join(' ')}; ${((performance.now() - started) / 60000).toFixed(1)} min in all.\n`);
console.log('| model | params torch / wasm / Keras | class | torch: mean (min–max) | wasm: mean (min–max) | Keras (reset_after=true): mean (min–max) | **Δ torch − wasm** | **Δ torch − Keras** |');
console.log('|---|---|---|---:|---:|---:|---:|---:|');
for (const l of table) console.log(l);
console.log('\n| model | wall s per run, torch (incl. kernel start) | wasm | Keras (incl. data load, TF start) | torch samples/s (train) | wasm samples/s |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const l of times) console.log(l);
