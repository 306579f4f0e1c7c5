/**
 * Stage 4: training. On the SAME stage-2 Parquet parts, topoflow's trainer
 * (TensorFlow.js) vs Keras (tensorflow-cpu, bench/keras/train_keras.py):
 *
 * 1. parity: `hlf` and `inclusive` trained with the same epochs and batch size
 *    (128) by both, per-class one-vs-rest test AUC and the difference (target
 *    |ΔAUC| ≤ 0.01). topoflow on the wasm back end, twice: with a shuffle
 *    buffer holding the whole training set (a uniform shuffle per epoch, as
 *    Keras' shuffle=True) and with the train stage's default buffer (2048).
 *    Keras' GRU with reset_after=false (tfjs' formulation); Keras again with
 *    another seed (run-to-run spread) and with its default reset_after=true.
 * 2. throughput (training samples/s, validation excluded): hlf,
 *    particle_sequence and inclusive at the demo caps (251 particle rows,
 *    per-batch trim) and at the seed's full caps (801; trimmed and untrimmed),
 *    on the tfjs back ends of `--backends` (default: tensorflow when
 *    infra/tfjs-node.sh built it, and wasm; `cpu` on request) vs Keras on this
 *    machine (TensorFlow's default threads, and 1 thread). The native
 *    `tensorflow` back end reads its thread count once, when it loads, so
 *    each `--tf-threads` count runs in a child process of its own (this
 *    script with --child) on the same files, and so does each `--tf-replicas`
 *    count (ml/replicas.ts: each batch split over model copies on threads of
 *    their own; replicas × threads at most the cores); with `--tf-formulations` also
 *    with TOPOFLOW_NATIVE_CELLS=0 (FastGRU's tfjs ops instead of the fused
 *    cell), at the largest thread count.
 *
 *   npm run build   # or: npx tsc -p tsconfig.json
 *   node dist/bench/training.js [--events-per-sample 20000] [--hlf-epochs 20] [--epochs 5]
 *       [--throughput-events 12000] [--steps 50] [--cpu-steps 6] [--max-seconds 60] [--repeat 3] [--seeds 3]
 *       [--backends tensorflow,wasm,cpu] [--tf-threads 1,2] [--tf-replicas 1,2] [--tf-formulations]
 *       [--parity-backend wasm|tensorflow] [--throughput-models hlf,particle_sequence,inclusive]
 *       [--skip-parity] [--skip-throughput] [--skip-cpu-untrimmed] [--parity-models hlf,inclusive] [--quick] [--keep]
 *
 * `--events-per-sample` is generated events per sample for the demo-caps data
 * set (parity and demo-caps throughput); `--throughput-events` the same for
 * the 801-particle data set. `--epochs` applies to `inclusive`, `--hlf-epochs`
 * to `hlf`. Parity compares mean AUCs over `--seeds` seeds (42, 43, ...) of
 * each framework. `--quick`: a small smoke run (4,000 events, 4/1 epochs, few steps).
 *
 * Throughput of a recurrent model is measured over a limited number of steps:
 * topoflow's `train` runs until step N (or `--max-seconds` of timed steps; an
 * AbortSignal stops it) and the rate is (N − 2)·128 / (time from the end of
 * step 2 to the end of step N), the same basis as train_keras.py's
 * `--max-steps N`. The pure-JS `cpu` back end gets `--cpu-steps` (and at most
 * 5 untrimmed steps at 801). The tfjs figure includes building the batches
 * from the shuffle buffer (whole training set, so Parquet decoding happens
 * before step 1); Keras slices numpy arrays held in memory. The data stream
 * alone (one epoch: Parquet decode, shuffle, batches) is timed too, and a
 * second epoch over the row groups the first kept (ml/keptGroups.ts: the
 * trainer keeps decoded groups between epochs within a budget, so an hlf
 * run's later epochs decode nothing). `hlf`
 * steps take about a millisecond, so its rate is taken from whole epochs
 * instead: epochs 2..3 of a 3-epoch run, training time only, both frameworks.
 * tfjs wasm and Keras figures are the best of `--repeat` runs (the machine
 * may be shared); the cpu back end runs once.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage, type Storage } from '../storage/index.js';
import type { StageManifest } from '../protocol/manifest.js';
import { makeFeaturesDataset, DEMO_CAPS } from '../test/support/stage2Data.js';
import { loadPipelinesFile } from '../config/load.js';
import { configVocabulary } from '../stages/configVocabulary.js';
import { builtinKinds } from '../stages/index.js';
import { KindRegistry } from '../stages/registry.js';
import { ModelSpec, masksPadding, usesInput } from '../ml/modelSpec.js';
import { CLASS_NAMES } from '../hep/layout.js';
import { activeBackend, useBackend } from '../ml/backend.js';
import { replicaCount } from '../ml/replicas.js';
import { tf } from '../ml/tf.js';
import { train, type TrainConfig, type TrainResult, type TrainState } from '../ml/trainer.js';
import { CheckpointStore } from '../ml/checkpoint.js';
import { streamedData } from '../ml/prefetch.js';
import { KeptGroups } from '../ml/keptGroups.js';
import { epochBatches, type DataNeeds, type PartRef } from '../ml/data.js';
import { accuracy, argmaxRows, oneVsRest } from '../ml/metrics.js';
import { projectRoot } from '../infra/tools.js';
import { nativeAddonProblem } from '../ml/nativeAddon.js';
import type { BackendChoice } from '../ml/backendChoice.js';

const argv = process.argv.slice(2);
const flag = (name: string) => argv.includes(name);
const quick = flag('--quick');
const num = (name: string, full: number, small: number) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : quick ? small : full;
};
const S = {
  eventsPerSample: num('--events-per-sample', 20_000, 4_000),
  hlfEpochs: num('--hlf-epochs', 20, 4),
  epochs: num('--epochs', 5, 1),
  throughputEvents: num('--throughput-events', 12_000, 2_000),
  steps: num('--steps', 50, 8),
  repeat: num('--repeat', 3, 1),
  seeds: num('--seeds', 3, 1),
  cpuSteps: num('--cpu-steps', 6, 4),
  maxSeconds: num('--max-seconds', 60, 20),
  batchSize: 128,
  seed: 42,
};
const opt = (name: string, fallback: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : fallback);
/** --child DIR: only the tfjs throughput cases of one back end, on the data sets in DIR; prints one JSON line. */
const childDir = argv.includes('--child') ? opt('--child', '') : null;
const nativeProblem = nativeAddonProblem('@tensorflow/tfjs-node');
const backendList = opt('--backends', nativeProblem ? 'wasm' : 'tensorflow,wasm').split(',') as BackendChoice[];
const tfThreads = opt('--tf-threads', '1,2').split(',').map(Number);
const tfReplicas = opt('--tf-replicas', '1,2').split(',').map(Number);
const parityBackend = opt('--parity-backend', 'wasm') as BackendChoice;
const throughputModels = opt('--throughput-models', 'hlf,particle_sequence,inclusive').split(',');
const skipParity = flag('--skip-parity') || childDir !== null;
const skipThroughput = flag('--skip-throughput');
/** Models compared with Keras: `--parity-models hlf,inclusive` (any of hlf, particle_sequence, inclusive, inclusive_lstm). */
const parityModelNames = (argv.includes('--parity-models') ? argv[argv.indexOf('--parity-models') + 1]! : 'hlf,inclusive').split(',');
const WARMUP = 2;
/** The train stage's default `shuffleBuffer` (stages/builtin/train.ts). */
const DEFAULT_SHUFFLE_BUFFER = 2048;
const FULL_CAPS = { maxTracks: 450, maxPhotons: 150, maxNeutrals: 200 };

const dir = childDir ?? mkdtempSync(join(tmpdir(), 'topoflow-bench-training-'));
const python = childDir ? '' : execFileSync('bash', [join(projectRoot, 'infra', 'python-bench.sh')], { encoding: 'utf8' }).trim();
const kerasScript = join(projectRoot, 'bench', 'keras', 'train_keras.py');
const models = loadPipelinesFile(join(projectRoot, 'pipelines.yaml'), configVocabulary(new KindRegistry(builtinKinds))).pipelines.demo!.models!;
const spec = (name: string) => ModelSpec.parse({ name, ...models[name] });
const HLF = spec('hlf');
const INCLUSIVE = spec('inclusive');
const PARTICLE_SEQUENCE = spec('particle_sequence');
const parityModels = parityModelNames.map((name) => {
  if (!models[name]) throw new Error(`--parity-models: no model "${name}" in pipelines.yaml (have ${Object.keys(models).join(', ')})`);
  return spec(name);
});

const log = (m: string) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${m}`);
const f4 = (x: number | null | undefined) => (x === null || x === undefined ? 'n/a' : x.toFixed(4));
const int = (x: number | null | undefined) => (x === null || x === undefined || !Number.isFinite(x) ? 'n/a' : Math.round(x).toLocaleString('en-US'));
const sign = (d: number) => `${d >= 0 ? '+' : ''}${d.toFixed(4)}`;
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

interface Dataset {
  label: string;
  /** Each data set in its own folder: the features stage writes the same keys for every data set. */
  storage: Storage;
  particles: number;
  train: PartRef[];
  test: PartRef[];
  trainFiles: string[];
  testFiles: string[];
}

async function makeDataset(label: string, particles: number, sub: string, opts: Parameters<typeof makeFeaturesDataset>[1]): Promise<Dataset> {
  const root = join(dir, sub);
  const storage = new LocalStorage(root);
  // A child process reads the parent's files (the manifest it saved) instead of generating them again.
  const saved = join(root, 'bench-manifest.json');
  const m: StageManifest = childDir ? (JSON.parse(readFileSync(saved, 'utf8')) as StageManifest) : await makeFeaturesDataset(storage, opts);
  if (!childDir) writeFileSync(saved, JSON.stringify(m));
  const pick = (prefix: string) => m.outputs.filter((o) => o.name.split('/').pop()!.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : 1));
  const train = pick('train-');
  const test = pick('test-');
  return {
    label, particles, storage,
    train: train.map((o) => ({ key: o.key, rows: o.rows!, bytes: o.bytes, sha256: o.sha256 })),
    test: test.map((o) => ({ key: o.key, rows: o.rows!, bytes: o.bytes, sha256: o.sha256 })),
    trainFiles: train.map((o) => join(root, o.key)),
    testFiles: test.map((o) => join(root, o.key)),
  };
}
const rowsOf = (parts: PartRef[]) => parts.reduce((s, p) => s + p.rows, 0);

// ---------------------------------------------------------------------------
// topoflow

let runId = 0;
const config = (epochs: number, trim: boolean): TrainConfig => ({
  epochs, batchSize: S.batchSize, learningRate: 1e-3, seed: S.seed, shuffleBuffer: 2048, evalBatchSize: 256,
  checkpointSteps: 1e9, checkpointSeconds: 1e9, trim,
});

async function tfTrain(model: ModelSpec, data: Dataset, cfg: TrainConfig): Promise<TrainResult & { seconds: number }> {
  const t0 = performance.now();
  const stream = streamedData(data.storage, data.train, data.test, { recurrent: usesInput(model, 'particles') });
  const r = await train(model, cfg, {
    replicas: replicasFor(model),
    data: stream, checkpoints: new CheckpointStore<TrainState>(data.storage, `ckpt/${process.pid}-${runId++}`),
    signal: new AbortController().signal, log: (m) => log(`  tfjs ${model.name}: ${m}`), progress: () => {},
  }).finally(() => stream.close?.());
  return { ...r, seconds: (performance.now() - t0) / 1000 };
}

/** TOPOFLOW_REPLICAS (a child's variant), else 1: the columns say what they ran. */
const replicasFor = (model: ModelSpec) => replicaCount(activeBackend() ?? { choice: 'wasm' }, { recurrent: usesInput(model, 'particles'), trimmed: false }, { TOPOFLOW_REPLICAS: process.env.TOPOFLOW_REPLICAS ?? '1' });

/** samples/s over steps WARMUP+1..N of one epoch; stops the trainer after step N or maxSeconds. */
async function tfSteps(model: ModelSpec, data: Dataset, trim: boolean, steps: number): Promise<{ rate: number; steps: number; seconds: number }> {
  const abort = new AbortController();
  const ends: number[] = [];
  const cap = Math.min(steps, Math.floor(rowsOf(data.train) / S.batchSize));
  const stream = streamedData(data.storage, data.train, data.test, { recurrent: usesInput(model, 'particles') });
  try {
    await train(model, { ...config(1, trim), shuffleBuffer: rowsOf(data.train) }, {
      replicas: replicasFor(model),
      data: stream, checkpoints: new CheckpointStore<TrainState>(data.storage, `ckpt/${process.pid}-${runId++}`),
      signal: abort.signal, log: () => {},
      progress: (p) => {
        ends.push(performance.now());
        const timed = ends.length > WARMUP + 2 ? (ends[ends.length - 1]! - ends[WARMUP - 1]!) / 1000 : 0;
        if (p.done >= cap || timed > S.maxSeconds) abort.abort();
      },
    });
  } catch (err) {
    if (!/training cancelled/.test((err as Error).message)) throw err;
  } finally {
    await stream.close?.();
  }
  const n = ends.length;
  if (n <= WARMUP) throw new Error(`only ${n} steps ran`);
  const seconds = (ends[n - 1]! - ends[WARMUP - 1]!) / 1000;
  return { rate: ((n - WARMUP) * S.batchSize) / seconds, steps: n, seconds };
}

/**
 * The data stream alone (Parquet → shuffled, trimmed batches): one whole epoch, as the throughput runs read it;
 * `rate` the first (every row group decoded), `keptRate` a second one over the row groups the first kept (ml/keptGroups.ts), as the trainer's later epochs.
 */
async function streamOnly(model: ModelSpec, data: Dataset, trim: boolean): Promise<{ rate: number; keptRate: number; meanSteps: number }> {
  const kept = new KeptGroups();
  const first = await streamEpoch(model, data, trim, 0, kept);
  return { ...first, keptRate: (await streamEpoch(model, data, trim, 1, kept)).rate };
}

async function streamEpoch(model: ModelSpec, data: Dataset, trim: boolean, epoch: number, kept: KeptGroups): Promise<{ rate: number; meanSteps: number }> {
  const needs: DataNeeds = { hlf: usesInput(model, 'hlf'), particles: usesInput(model, 'particles'), trim: trim && masksPadding(model) };
  const t0 = performance.now();
  let n = 0;
  let samples = 0;
  let lengthSum = 0;
  for await (const b of epochBatches(data.storage, data.train, needs, { seed: S.seed, epoch, bufferSize: rowsOf(data.train), batchSize: S.batchSize, kept })) {
    n++;
    samples += b.size;
    lengthSum += b.steps;
  }
  return { rate: samples / ((performance.now() - t0) / 1000), meanSteps: lengthSum / n };
}

// ---------------------------------------------------------------------------
// Keras

interface KerasResult {
  params: number;
  auc: Record<string, number | null>;
  accuracy: number;
  test_loss: number;
  train_samples_per_s: number;
  train_samples_per_s_basis: string;
  steps_run: number;
  sequence_length: number | null;
  total_seconds: number;
  n_train: number;
  n_test: number;
  tensorflow_version: string;
  keras_version: string;
  threads: { intra_op: number; inter_op: number };
}

function keras(model: string, data: Dataset, o: { epochs: number; seed?: number; resetAfter?: boolean; trim?: boolean; maxSteps?: number; threads?: number }): KerasResult {
  const out = join(dir, `keras-${runId++}.json`);
  const args = [kerasScript, '--train', ...data.trainFiles, '--test', ...data.testFiles, '--model', model, '--epochs', String(o.epochs),
    '--batch-size', String(S.batchSize), '--seed', String(o.seed ?? S.seed), '--verbose', '0', '--out', out];
  if (o.resetAfter !== undefined) args.push('--reset-after', String(o.resetAfter));
  if (o.trim === false) args.push('--no-trim');
  if (o.maxSteps !== undefined) args.push('--max-steps', String(o.maxSteps));
  if (o.threads !== undefined) args.push('--threads', String(o.threads));
  try {
    execFileSync(python, args, { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20, cwd: projectRoot });
  } catch (err) {
    const e = err as { stderr?: Buffer };
    throw new Error(`train_keras.py ${model} failed:\n${e.stderr?.toString().slice(-4000) ?? String(err)}`);
  }
  return JSON.parse(readFileSync(out, 'utf8')) as KerasResult;
}

// ---------------------------------------------------------------------------

const lines: string[] = [];
const out = (s = '') => {
  lines.push(s);
  console.log(s);
};

try {
  const started = performance.now();
  const loadStart = load();
  log(`settings ${JSON.stringify(S)}; load average ${loadStart}`);
  await useBackend(childDir ? backendList[0]! : parityBackend);
  const tfVersion = tf.version.tfjs;

  log(`stage-2 data at the demo caps (${S.eventsPerSample} events per sample)...`);
  const demo = await makeDataset('demo caps (251)', 251, 'demo', { eventsPerSample: S.eventsPerSample, caps: DEMO_CAPS, seed: S.seed });
  log(`  ${rowsOf(demo.train)} train / ${rowsOf(demo.test)} test rows in ${demo.train.length}+${demo.test.length} parts`);
  let full: Dataset | undefined;
  if (!skipThroughput) {
    log(`stage-2 data at the full caps (${S.throughputEvents} events per sample)...`);
    full = await makeDataset('full caps (801)', 801, 'full', { eventsPerSample: S.throughputEvents, caps: FULL_CAPS, seed: S.seed });
    log(`  ${rowsOf(full.train)} train / ${rowsOf(full.test)} test rows`);
  }

  out(`\n${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC. Settings: ${S.eventsPerSample.toLocaleString('en-US')} generated events per sample at the demo caps → ${rowsOf(demo.train).toLocaleString('en-US')} train / ${rowsOf(demo.test).toLocaleString('en-US')} test events; batch ${S.batchSize}, Adam 1e-3, seed ${S.seed}; hlf ${S.hlfEpochs} epochs, inclusive ${S.epochs} epochs. Machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, tfjs ${tfVersion}.`);

  // --- 1. parity -----------------------------------------------------------
  if (!skipParity) {
    // Both frameworks train with `--seeds` seeds each; parity compares the mean
    // test AUCs (one seed alone moves QCD's AUC by up to 0.009). topoflow runs
    // at the train stage's default shuffle buffer (what users get), plus once
    // with a buffer holding the whole training set (a uniform reshuffle per
    // epoch, as Keras' shuffle=True) to show what the buffer costs.
    const fullBuffer = rowsOf(demo.train);
    const seeds = Array.from({ length: S.seeds }, (_, i) => S.seed + i);
    interface Run { auc: number[]; acc: number; loss: number; secs: number }
    const rows: Array<{ model: string; params: string; tf: Run[]; tfFull: Run; k: Run[]; kResetAfter?: number[] }> = [];
    for (const m of parityModels) {
      const epochs = m.name === 'hlf' ? S.hlfEpochs : S.epochs;
      let params = 0;
      const tfRun = async (shuffleBuffer: number, seed: number): Promise<Run> => {
        log(`parity: ${m.name}, ${epochs} epochs, tfjs ${parityBackend}, shuffle buffer ${shuffleBuffer}, seed ${seed}...`);
        const r = await tfTrain(m, demo, { ...config(epochs, true), shuffleBuffer, seed });
        params = r.built.model.countParams();
        r.built.model.dispose();
        const auc = oneVsRest(r.predictions, r.labels, 3).map((c) => c.auc);
        log(`  tfjs AUC ${auc.map(f4).join(' ')} in ${r.seconds.toFixed(0)} s`);
        return { auc, acc: accuracy(r.labels, argmaxRows(r.predictions, 3)), secs: r.seconds, loss: r.history[r.history.length - 1]!.valLoss };
      };
      const usesGru = m.name !== 'hlf' && !m.name!.endsWith('_lstm');
      const gru = usesGru ? { resetAfter: false } : {};
      let kParams = 0;
      const kerasRun = (seed: number): Run => {
        log(`parity: ${m.name}, Keras${usesGru ? ' reset_after=false' : ''}, seed ${seed}...`);
        const k = keras(m.name!, demo, { epochs, seed, ...gru });
        const auc = CLASS_NAMES.map((c) => k.auc[c] ?? NaN);
        log(`  Keras AUC ${auc.map(f4).join(' ')} in ${k.total_seconds.toFixed(0)} s (${k.params} params)`);
        kParams = k.params;
        return { auc, acc: k.accuracy, loss: k.test_loss, secs: k.total_seconds };
      };
      const tf: Run[] = [];
      for (const seed of seeds) tf.push(await tfRun(DEFAULT_SHUFFLE_BUFFER, seed));
      const tfFull = await tfRun(fullBuffer, S.seed);
      const k = seeds.map(kerasRun);
      let kResetAfter: number[] | undefined;
      if (usesGru) {
        log(`parity: ${m.name}, Keras reset_after=true (default), seed ${S.seed}...`);
        const kd = keras(m.name!, demo, { epochs, resetAfter: true });
        kResetAfter = CLASS_NAMES.map((c) => kd.auc[c] ?? NaN);
        log(`  Keras (default) AUC ${kResetAfter.map(f4).join(' ')} (${kd.params} params)`);
      }
      rows.push({ model: `${m.name} (${epochs} ep.)`, params: `${params.toLocaleString('en-US')} / ${kParams.toLocaleString('en-US')}`, tf, tfFull, k, ...(kResetAfter ? { kResetAfter } : {}) });
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const spread = (xs: number[]) => `${f4(mean(xs))} (${f4(Math.min(...xs))}–${f4(Math.max(...xs))})`;
    const mark = (d: number) => `${sign(d)}${Math.abs(d) > 0.01 ? ' ✗' : ''}`;
    out(`\n### Keras parity (tfjs on ${parityBackend}; test AUC, one vs rest; ${rowsOf(demo.train).toLocaleString('en-US')} train / ${rowsOf(demo.test).toLocaleString('en-US')} test events; seeds ${seeds.join(', ')})\n`);
    out(`| model | params tfjs / Keras | class | Keras: mean (min–max) | tfjs, stage default buffer ${DEFAULT_SHUFFLE_BUFFER}: mean (min–max) | **Δ of means** | tfjs, full shuffle (buffer ${fullBuffer.toLocaleString('en-US')}), seed ${S.seed} | Keras reset_after=true, seed ${S.seed} |`);
    out('|---|---|---|---:|---:|---:|---:|---:|');
    for (const r of rows) {
      CLASS_NAMES.forEach((c, i) => {
        const k = r.k.map((x) => x.auc[i]!);
        const t = r.tf.map((x) => x.auc[i]!);
        out(`| ${i === 0 ? r.model : ''} | ${i === 0 ? r.params : ''} | ${c} | ${spread(k)} | ${spread(t)} | **${mark(mean(t) - mean(k))}** | ${f4(r.tfFull.auc[i])} | ${r.kResetAfter ? f4(r.kResetAfter[i]) : ''} |`);
      });
    }
    out('');
    out('| model | test loss / accuracy, Keras (mean) | tfjs default buffer (mean) | tfjs full shuffle | wall s per run, Keras (incl. data load, TF start) | tfjs default buffer (train + validation) | tfjs full shuffle |');
    out('|---|---:|---:|---:|---:|---:|---:|');
    const la = (runs: Run[]) => `${mean(runs.map((x) => x.loss)).toFixed(4)} / ${mean(runs.map((x) => x.acc)).toFixed(4)}`;
    const secs = (runs: Run[]) => mean(runs.map((x) => x.secs)).toFixed(0);
    for (const r of rows) out(`| ${r.model} | ${la(r.k)} | ${la(r.tf)} | ${la([r.tfFull])} | ${secs(r.k)} | ${secs(r.tf)} | ${secs([r.tfFull])} |`);
  }

  // --- 2. throughput ---------------------------------------------------------
  if (!skipThroughput && full) {
    interface Case { model: ModelSpec; data: Dataset; trim: boolean; label: string }
    const cases: Case[] = ([
      { model: HLF, data: demo, trim: true, label: 'hlf, demo-caps files' },
      { model: HLF, data: full, trim: true, label: 'hlf, 801-particle files' },
      { model: PARTICLE_SEQUENCE, data: demo, trim: true, label: 'particle_sequence, 251, trimmed' },
      { model: PARTICLE_SEQUENCE, data: full, trim: false, label: 'particle_sequence, 801, untrimmed' },
      { model: INCLUSIVE, data: demo, trim: true, label: 'inclusive, 251, trimmed' },
      { model: INCLUSIVE, data: full, trim: true, label: 'inclusive, 801, trimmed' },
      { model: INCLUSIVE, data: full, trim: false, label: 'inclusive, 801, untrimmed' },
    ] as Case[]).filter((c) => throughputModels.includes(c.model.name!));
    type Rate = { rate: number | null; note: string };
    const res = new Map<string, Rate>();
    const key = (c: Case, who: string) => `${c.label}|${who}`;
    /** Best of `n` (the machine is shared: the fastest run is the least disturbed one). */
    const best = async (n: number, run: () => Promise<Rate>) => {
      let top: Rate | undefined;
      for (let i = 0; i < n; i++) {
        const r = await run();
        if (!top || (r.rate ?? 0) > (top.rate ?? 0)) top = r;
      }
      return { ...top!, note: n > 1 ? `best of ${n}: ${top!.note}` : top!.note };
    };
    const tfCase = async (backend: BackendChoice, c: Case): Promise<Rate> => {
      const reps = backend === 'cpu' ? 1 : S.repeat;
      if (c.model === HLF) {
        return best(reps, async () => {
          const r = await tfTrain(c.model, c.data, { ...config(3, true), shuffleBuffer: rowsOf(c.data.train) });
          r.built.model.dispose();
          const h = r.history.slice(1);
          return { rate: h.reduce((s, e) => s + e.samplesPerSecond * e.trainSeconds, 0) / h.reduce((s, e) => s + e.trainSeconds, 0), note: 'epochs 2..3' };
        });
      }
      if (backend === 'cpu' && !c.trim && flag('--skip-cpu-untrimmed')) return { rate: null, note: 'skipped (--skip-cpu-untrimmed)' };
      // The pure-JS back end takes ~10 s per untrimmed step: a few steps only.
      const steps = backend !== 'cpu' ? S.steps : c.trim ? S.cpuSteps : Math.min(S.cpuSteps, WARMUP + 3);
      return best(reps, async () => {
        const r = await tfSteps(c.model, c.data, c.trim, steps);
        return { rate: r.rate, note: `${r.steps} steps, ${r.seconds.toFixed(1)} s timed` };
      });
    };

    if (childDir) {
      // One back end in this process (its threads fixed at load): rates as JSON for the parent.
      const backend = backendList[0]!;
      const rates: Record<string, Rate> = {};
      for (const c of cases) {
        rates[c.label] = await tfCase(backend, c);
        log(`  child ${backend}: ${c.label}: ${int(rates[c.label]!.rate)} samples/s`);
      }
      console.log(`CHILD-RESULT ${JSON.stringify(rates)}`);
    } else {
      const stream = new Map<string, { rate: number; keptRate: number; meanSteps: number }>();
      for (const c of cases) {
        const a = await streamOnly(c.model, c.data, c.trim);
        const b = await streamOnly(c.model, c.data, c.trim);
        stream.set(c.label, { ...(a.rate > b.rate ? a : b), keptRate: Math.max(a.keptRate, b.keptRate) }); // best of 2: the machine is shared
      }
      const columns: string[] = [];
      const script = join(projectRoot, 'dist', 'bench', 'training.js');
      const passOn = ['--throughput-events', '--events-per-sample', '--steps', '--max-seconds', '--repeat', '--cpu-steps', '--throughput-models'].flatMap((f) => (argv.includes(f) ? [f, opt(f, '')] : []));
      for (const backend of backendList) {
        if (backend === 'tensorflow') {
          // Each thread count (and formulation) in a child process: TensorFlow reads them once, at load.
          // Replicas × threads beyond the cores would only share them.
          const variants = [
            ...tfReplicas.flatMap((r) => tfThreads.filter((t) => r === 1 || r * t <= cpus().length).map((t) => ({ t, r, cells: true }))),
            ...(flag('--tf-formulations') ? [{ t: Math.max(...tfThreads), r: 1, cells: false }] : []),
          ];
          for (const v of variants) {
            const who = `tfjs tensorflow ${v.r > 1 ? `${v.r} replicas × ` : ''}${v.t} thread${v.t > 1 ? 's' : ''}${v.cells ? '' : ', tfjs ops'}`;
            columns.push(who);
            log(`throughput: ${who} in a child process (load ${load()})...`);
            const env = { ...process.env, TOPOFLOW_THREADS: String(v.t), TF_NUM_INTRAOP_THREADS: String(v.t), TOPOFLOW_NATIVE_CELLS: v.cells ? '1' : '0', TOPOFLOW_REPLICAS: String(v.r) };
            const text = execFileSync(process.execPath, [script, '--child', dir, '--backends', 'tensorflow', ...passOn, ...(quick ? ['--quick'] : [])], { env, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit'] });
            const line = text.split('\n').find((l) => l.startsWith('CHILD-RESULT '));
            if (!line) throw new Error(`the ${who} child printed no result`);
            const rates = JSON.parse(line.slice('CHILD-RESULT '.length)) as Record<string, Rate>;
            for (const c of cases) res.set(key(c, who), rates[c.label] ?? { rate: null, note: 'missing' });
          }
          continue;
        }
        const who = `tfjs ${backend}`;
        columns.push(who);
        await useBackend(backend);
        for (const c of cases) {
          log(`throughput: ${c.label}, ${who} (load ${load()})...`);
          res.set(key(c, who), await tfCase(backend, c));
          log(`  ${int(res.get(key(c, who))!.rate)} samples/s (${res.get(key(c, who))!.note})`);
        }
      }
      for (const threads of [undefined, 1] as const) {
        const who = threads ? 'Keras 1 thread' : 'Keras default threads';
        for (const c of cases) {
          log(`throughput: ${c.label}, ${who} (load ${load()})...`);
          res.set(key(c, who), await best(S.repeat, async () => {
            const k = c.model === HLF
              ? keras('hlf', c.data, { epochs: 3, ...(threads ? { threads } : {}) })
              : keras(c.model.name!, c.data, { epochs: 1, resetAfter: false, trim: c.trim, maxSteps: S.steps, ...(threads ? { threads } : {}) });
            const note = c.model === HLF ? 'epochs 2..3' : `${k.steps_run} steps, sequence length ${k.sequence_length}`;
            return { rate: k.train_samples_per_s, note: `${note}; intra/inter-op threads ${k.threads.intra_op}/${k.threads.inter_op}` };
          }));
          log(`  ${int(res.get(key(c, who))!.rate)} samples/s (${res.get(key(c, who))!.note})`);
        }
      }
      const g = (c: Case, who: string) => res.get(key(c, who))?.rate ?? null;
      const ratio = (a: number | null, b: number | null) => (a && b ? `${(a / b).toFixed(2)}×` : 'n/a');
      out(`\n### Training throughput (samples/s, training only, batch ${S.batchSize}; load average at start ${loadStart}, now ${load()})\n`);
      out('Ratios: each tfjs column over Keras with the same thread count (Keras default threads = all cores; wasm and cpu are single-threaded, compared with Keras 1 thread).\n');
      out(`| model, data | Keras default threads | Keras 1 thread | ${columns.join(' | ')} | ${columns.map((w) => `${w.replace('tfjs ', '')} / Keras`).join(' | ')} | tfjs data stream alone | data stream, groups kept | mean batch length tfjs / Keras |`);
      out(`|---|---:|---:|${columns.map(() => '---:').join('|')}|${columns.map(() => '---:').join('|')}|---:|---:|---:|`);
      const kerasFor = (who: string) => ((/ 1 thread/.test(who) && !/replicas/.test(who)) || !/tensorflow/.test(who) ? 'Keras 1 thread' : 'Keras default threads');
      for (const c of cases) {
        const st = stream.get(c.label)!;
        const kNote = res.get(key(c, 'Keras default threads'))?.note ?? '';
        const kLen = /sequence length (\d+)/.exec(kNote)?.[1];
        out(`| ${c.label} | ${int(g(c, 'Keras default threads'))} | ${int(g(c, 'Keras 1 thread'))} | ${columns.map((w) => int(g(c, w))).join(' | ')} | ${columns.map((w) => `**${ratio(g(c, w), g(c, kerasFor(w)))}**`).join(' | ')} | ${int(st.rate)} | ${int(st.keptRate)} | ${c.model === HLF ? '–' : `${st.meanSteps.toFixed(0)} / ${kLen ?? '?'}`} |`);
      }
      out('');
      for (const c of cases) for (const who of [...columns, 'Keras default threads', 'Keras 1 thread']) {
        const r = res.get(key(c, who));
        if (r) out(`- ${c.label}, ${who}: ${r.note}`);
      }
    }
  }
  out(`\nTotal ${((performance.now() - started) / 60000).toFixed(1)} min; load average at the end ${load()}.`);
} finally {
  if (!flag('--keep') && !childDir) rmSync(dir, { recursive: true, force: true });
  else console.error(`kept ${dir}`);
}
