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
 * 2. throughput (training samples/s, validation excluded): hlf and inclusive
 *    at the demo caps (251 particle rows, per-batch trim) and at the seed's
 *    full caps (801; trimmed and untrimmed), on the tfjs `wasm` and `cpu` back
 *    ends vs Keras on this machine (TensorFlow's default threads, and 1 thread).
 *
 *   npm run build   # or: npx tsc -p tsconfig.json
 *   node dist/bench/training.js [--events-per-sample 20000] [--hlf-epochs 20] [--epochs 5]
 *       [--throughput-events 12000] [--steps 50] [--cpu-steps 6] [--max-seconds 60] [--repeat 3] [--seeds 3]
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
 * alone (one epoch: Parquet decode, shuffle, batches) is timed too. `hlf`
 * steps take about a millisecond, so its rate is taken from whole epochs
 * instead: epochs 2..3 of a 3-epoch run, training time only, both frameworks.
 * tfjs wasm and Keras figures are the best of `--repeat` runs (the machine
 * may be shared); the cpu back end runs once.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
import { useBackend } from '../ml/backend.js';
import { tf } from '../ml/tf.js';
import { train, type TrainConfig, type TrainResult, type TrainState } from '../ml/trainer.js';
import { CheckpointStore } from '../ml/checkpoint.js';
import { storedData } from '../ml/trainingData.js';
import { batches, epochRows, type DataNeeds, type PartRef } from '../ml/data.js';
import { accuracy, argmaxRows, oneVsRest } from '../ml/metrics.js';
import { projectRoot } from '../infra/tools.js';

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
const skipParity = flag('--skip-parity');
const skipThroughput = flag('--skip-throughput');
/** Models compared with Keras: `--parity-models hlf,inclusive` (any of hlf, particle_sequence, inclusive, inclusive_lstm). */
const parityModelNames = (argv.includes('--parity-models') ? argv[argv.indexOf('--parity-models') + 1]! : 'hlf,inclusive').split(',');
const WARMUP = 2;
/** The train stage's default `shuffleBuffer` (stages/builtin/train.ts). */
const DEFAULT_SHUFFLE_BUFFER = 2048;
const FULL_CAPS = { maxTracks: 450, maxPhotons: 150, maxNeutrals: 200 };

const dir = mkdtempSync(join(tmpdir(), 'topoflow-bench-training-'));
const python = execFileSync('bash', [join(projectRoot, 'infra', 'python-bench.sh')], { encoding: 'utf8' }).trim();
const kerasScript = join(projectRoot, 'bench', 'keras', 'train_keras.py');
const models = loadPipelinesFile(join(projectRoot, 'pipelines.yaml'), configVocabulary(new KindRegistry(builtinKinds))).pipelines.demo!.models!;
const spec = (name: string) => ModelSpec.parse({ name, ...models[name] });
const HLF = spec('hlf');
const INCLUSIVE = spec('inclusive');
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
  const m: StageManifest = await makeFeaturesDataset(storage, opts);
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
  const r = await train(model, cfg, {
    data: storedData(data.storage, data.train, data.test), checkpoints: new CheckpointStore<TrainState>(data.storage, `ckpt/${runId++}`),
    signal: new AbortController().signal, log: (m) => log(`  tfjs ${model.name}: ${m}`), progress: () => {},
  });
  return { ...r, seconds: (performance.now() - t0) / 1000 };
}

/** samples/s over steps WARMUP+1..N of one epoch; stops the trainer after step N or maxSeconds. */
async function tfSteps(model: ModelSpec, data: Dataset, trim: boolean, steps: number): Promise<{ rate: number; steps: number; seconds: number }> {
  const abort = new AbortController();
  const ends: number[] = [];
  const cap = Math.min(steps, Math.floor(rowsOf(data.train) / S.batchSize));
  try {
    await train(model, { ...config(1, trim), shuffleBuffer: rowsOf(data.train) }, {
      data: storedData(data.storage, data.train, data.test), checkpoints: new CheckpointStore<TrainState>(data.storage, `ckpt/${runId++}`),
      signal: abort.signal, log: () => {},
      progress: (p) => {
        ends.push(performance.now());
        const timed = ends.length > WARMUP + 2 ? (ends[ends.length - 1]! - ends[WARMUP - 1]!) / 1000 : 0;
        if (p.done >= cap || timed > S.maxSeconds) abort.abort();
      },
    });
  } catch (err) {
    if (!/training cancelled/.test((err as Error).message)) throw err;
  }
  const n = ends.length;
  if (n <= WARMUP) throw new Error(`only ${n} steps ran`);
  const seconds = (ends[n - 1]! - ends[WARMUP - 1]!) / 1000;
  return { rate: ((n - WARMUP) * S.batchSize) / seconds, steps: n, seconds };
}

/** The data stream alone (Parquet → shuffled, trimmed batches): one whole epoch, as the throughput runs read it. */
async function streamOnly(model: ModelSpec, data: Dataset, trim: boolean): Promise<{ rate: number; meanSteps: number }> {
  const needs: DataNeeds = { hlf: usesInput(model, 'hlf'), particles: usesInput(model, 'particles'), trim: trim && masksPadding(model) };
  const t0 = performance.now();
  let n = 0;
  let samples = 0;
  let lengthSum = 0;
  for await (const b of batches(epochRows(data.storage, data.train, needs, { seed: S.seed, epoch: 0, bufferSize: rowsOf(data.train) }), S.batchSize, needs)) {
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
  await useBackend('wasm');
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
        log(`parity: ${m.name}, ${epochs} epochs, tfjs wasm, shuffle buffer ${shuffleBuffer}, seed ${seed}...`);
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
    out(`\n### Keras parity (test AUC, one vs rest; ${rowsOf(demo.train).toLocaleString('en-US')} train / ${rowsOf(demo.test).toLocaleString('en-US')} test events; seeds ${seeds.join(', ')})\n`);
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
    const cases: Case[] = [
      { model: HLF, data: demo, trim: true, label: 'hlf, demo-caps files' },
      { model: HLF, data: full, trim: true, label: 'hlf, 801-particle files' },
      { model: INCLUSIVE, data: demo, trim: true, label: 'inclusive, 251, trimmed' },
      { model: INCLUSIVE, data: full, trim: true, label: 'inclusive, 801, trimmed' },
      { model: INCLUSIVE, data: full, trim: false, label: 'inclusive, 801, untrimmed' },
    ];
    const res = new Map<string, { rate: number | null; note: string }>();
    const key = (c: Case, who: string) => `${c.label}|${who}`;
    const backends = ['wasm', 'cpu'] as const;
    const stream = new Map<string, { rate: number; meanSteps: number }>();
    for (const c of cases) {
      const a = await streamOnly(c.model, c.data, c.trim);
      const b = await streamOnly(c.model, c.data, c.trim);
      stream.set(c.label, a.rate > b.rate ? a : b); // best of 2: the machine is shared
    }
    /** Best of `n` (the machine is shared: the fastest run is the least disturbed one). */
    const best = async (n: number, run: () => Promise<{ rate: number | null; note: string }>) => {
      let top: { rate: number | null; note: string } | undefined;
      for (let i = 0; i < n; i++) {
        const r = await run();
        if (!top || (r.rate ?? 0) > (top.rate ?? 0)) top = r;
      }
      return { ...top!, note: n > 1 ? `best of ${n}: ${top!.note}` : top!.note };
    };
    for (const backend of backends) {
      await useBackend(backend);
      for (const c of cases) {
        const who = `tfjs ${backend}`;
        log(`throughput: ${c.label}, ${who} (load ${load()})...`);
        const reps = backend === 'wasm' ? S.repeat : 1;
        if (c.model === HLF) {
          res.set(key(c, who), await best(reps, async () => {
            const r = await tfTrain(c.model, c.data, { ...config(3, true), shuffleBuffer: rowsOf(c.data.train) });
            r.built.model.dispose();
            const h = r.history.slice(1);
            return { rate: h.reduce((s, e) => s + e.samplesPerSecond * e.trainSeconds, 0) / h.reduce((s, e) => s + e.trainSeconds, 0), note: 'epochs 2..3' };
          }));
        } else if (backend === 'cpu' && !c.trim && flag('--skip-cpu-untrimmed')) {
          res.set(key(c, who), { rate: null, note: 'skipped (--skip-cpu-untrimmed)' });
        } else {
          // The pure-JS back end takes ~10 s per untrimmed step: a few steps only.
          const steps = backend === 'wasm' ? S.steps : c.trim ? S.cpuSteps : Math.min(S.cpuSteps, WARMUP + 3);
          res.set(key(c, who), await best(reps, async () => {
            const r = await tfSteps(c.model, c.data, c.trim, steps);
            return { rate: r.rate, note: `${r.steps} steps, ${r.seconds.toFixed(1)} s timed` };
          }));
        }
        log(`  ${int(res.get(key(c, who))!.rate)} samples/s (${res.get(key(c, who))!.note})`);
      }
    }
    await useBackend('wasm');
    for (const threads of [undefined, 1] as const) {
      const who = threads ? 'Keras 1 thread' : 'Keras default threads';
      for (const c of cases) {
        log(`throughput: ${c.label}, ${who} (load ${load()})...`);
        res.set(key(c, who), await best(S.repeat, async () => {
          const k = c.model === HLF
            ? keras('hlf', c.data, { epochs: 3, ...(threads ? { threads } : {}) })
            : keras('inclusive', c.data, { epochs: 1, resetAfter: false, trim: c.trim, maxSteps: S.steps, ...(threads ? { threads } : {}) });
          const note = c.model === HLF ? 'epochs 2..3' : `${k.steps_run} steps, sequence length ${k.sequence_length}`;
          return { rate: k.train_samples_per_s, note: `${note}; intra/inter-op threads ${k.threads.intra_op}/${k.threads.inter_op}` };
        }));
        log(`  ${int(res.get(key(c, who))!.rate)} samples/s (${res.get(key(c, who))!.note})`);
      }
    }
    out(`\n### Training throughput (samples/s, training only, batch ${S.batchSize}; load average at start ${loadStart}, now ${load()})\n`);
    out('| model, data | tfjs wasm | tfjs cpu | Keras (default threads) | Keras (1 thread) | wasm / Keras default | wasm / Keras 1 thread | tfjs data stream alone | mean batch length tfjs / Keras |');
    out('|---|---:|---:|---:|---:|---:|---:|---:|---:|');
    for (const c of cases) {
      const g = (who: string) => res.get(key(c, who))?.rate ?? null;
      const ratio = (a: number | null, b: number | null) => (a && b ? `${(a / b).toFixed(2)}x` : 'n/a');
      const st = stream.get(c.label)!;
      const kNote = res.get(key(c, 'Keras default threads'))?.note ?? '';
      const kLen = /sequence length (\d+)/.exec(kNote)?.[1];
      out(`| ${c.label} | ${int(g('tfjs wasm'))} | ${int(g('tfjs cpu'))} | ${int(g('Keras default threads'))} | ${int(g('Keras 1 thread'))} | ${ratio(g('tfjs wasm'), g('Keras default threads'))} | ${ratio(g('tfjs wasm'), g('Keras 1 thread'))} | ${int(st.rate)} | ${c.model === HLF ? '–' : `${st.meanSteps.toFixed(0)} / ${kLen ?? '?'}`} |`);
    }
    out('');
    for (const c of cases) for (const who of ['tfjs wasm', 'tfjs cpu', 'Keras default threads', 'Keras 1 thread']) {
      const r = res.get(key(c, who));
      if (r) out(`- ${c.label}, ${who}: ${r.note}`);
    }
  }
  out(`\nTotal ${((performance.now() - started) / 60000).toFixed(1)} min; load average at the end ${load()}.`);
} finally {
  if (!flag('--keep')) rmSync(dir, { recursive: true, force: true });
  else console.error(`kept ${dir}`);
}
