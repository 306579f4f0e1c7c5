/**
 * The `score` stage's speed: events/s per core for each model, at the seed's
 * full caps (801 particle rows), trimmed per batch and untrimmed, against
 * Keras' `model.predict` on the same stage-2 test parts
 * (bench/keras/predict_keras.py, tensorflow-cpu, 1 thread; and TensorFlow's
 * default threads for reference).
 *
 * topoflow, on the wasm back end (one thread, so its rate is per core):
 *  - inference: the trainer's `evaluate` over the stage-2 test parts (Parquet
 *    decode, batches of 256, model.apply): what Keras' predict does on arrays
 *    already in memory, plus the decode;
 *  - score job: `scorePart` over the stage-1 parts (verified read, stage 2's
 *    per-event transform with the fitted scaler, inference, the scores
 *    Parquet): what one `score` shard does.
 * Each figure is the best of `--repeat` runs after a warm-up.
 *
 *   npx tsc -p tsconfig.json
 *   node dist/bench/scoring.js [--events-per-sample 3000] [--repeat 3] [--models hlf,particle_sequence,inclusive]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '../storage/index.js';
import { makeFeaturesDataset } from '../test/support/stage2Data.js';
import { loadPipelinesFile } from '../config/load.js';
import { configVocabulary } from '../stages/configVocabulary.js';
import { builtinKinds } from '../stages/index.js';
import { KindRegistry } from '../stages/registry.js';
import { ModelSpec, masksPadding, usesInput } from '../ml/modelSpec.js';
import { DEFAULT_CAPS } from '../hep/layout.js';
import { MinMaxStats, partStatistics } from '../hep/features/index.js';
import { useBackend } from '../ml/backend.js';
import { buildModel } from '../ml/build.js';
import { encodeModel } from '../ml/modelFile.js';
import { evaluate } from '../ml/trainer.js';
import { scorePart, type ScoringSetup } from '../ml/scoring.js';
import { sha256Hex } from '../common/hash.js';
import { orderedRows, type PartRef } from '../ml/data.js';
import { projectRoot } from '../infra/tools.js';

const argv = process.argv.slice(2);
const arg = (name: string, dflt: string) => (argv.includes(name) ? argv[argv.indexOf(name) + 1]! : dflt);
const eventsPerSample = Number(arg('--events-per-sample', '3000'));
const repeat = Number(arg('--repeat', '3'));
const modelNames = arg('--models', 'hlf,particle_sequence,inclusive').split(',');

const models = loadPipelinesFile(join(projectRoot, 'pipelines.yaml'), configVocabulary(new KindRegistry(builtinKinds))).pipelines.demo!.models!;
const python = execFileSync('bash', [join(projectRoot, 'infra', 'python-bench.sh')], { encoding: 'utf8' }).trim();
const dir = mkdtempSync(join(tmpdir(), 'topoflow-bench-scoring-'));
const storage = new LocalStorage(dir);

const best = async (f: () => Promise<number>) => {
  await f(); // warm-up
  let seconds = Infinity;
  for (let i = 0; i < repeat; i++) seconds = Math.min(seconds, await f());
  return seconds;
};
const timed = async (f: () => Promise<unknown>) => {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
};

async function main(): Promise<void> {
  const backend = await useBackend('wasm');
  console.error(`data: ${eventsPerSample} events per sample at caps ${DEFAULT_CAPS.maxTracks}/${DEFAULT_CAPS.maxPhotons}/${DEFAULT_CAPS.maxNeutrals} (801 rows) …`);
  const features = await makeFeaturesDataset(storage, { eventsPerSample, caps: DEFAULT_CAPS });
  const test: PartRef[] = features.outputs.filter((o) => o.name.startsWith('test-')).map((o) => ({ key: o.key, rows: o.rows ?? 0, bytes: o.bytes, sha256: o.sha256 }));
  const testEvents = test.reduce((s, p) => s + p.rows, 0);
  const stage1 = (await storage.list('stage1/')).map((o) => o.key).sort();
  const stats = new MinMaxStats();
  const parts: Array<{ name: string; key: string; bytes: number; sha256: string }> = [];
  for (const key of stage1) {
    const bytes = await storage.get(key);
    stats.merge((await partStatistics(bytes)).hlf);
    parts.push({ name: key, key, bytes: bytes.length, sha256: sha256Hex(bytes) });
  }
  const stage1Events = stats.rows;
  const rows: string[] = [];
  const results: unknown[] = [];
  for (const name of modelNames) {
    const spec = ModelSpec.parse({ name, ...models[name] });
    const built = buildModel(spec, 1);
    const file = encodeModel(built.model, spec, { seed: 1, backend: backend.name });
    const put = async (n: string, body: Uint8Array | string) => {
      const b = typeof body === 'string' ? Buffer.from(body) : body;
      const key = `model/${name}/${n}`;
      await storage.put(key, b);
      return { key, bytes: b.length, sha256: sha256Hex(b) };
    };
    const modelJson = await put('model.json', file.json);
    const weights = await put('weights.bin', file.weights);
    const readsParticles = usesInput(spec, 'particles');
    for (const trim of readsParticles ? [true, false] : [false]) {
      const needs = { hlf: usesInput(spec, 'hlf'), particles: readsParticles, trim: trim && masksPadding(spec) };
      const inference = await best(() => timed(() => evaluate(built, orderedRows(storage, test, needs), test.reduce((n, p) => n + p.rows, 0), needs, 256)));
      const setup: ScoringSetup = {
        source: name, modelJson, weights,
        scaler: { min: Array.from(stats.min), max: Array.from(stats.max), counts: [...stats.counts] },
        padding: 'masked', particleScaler: null, particles: readsParticles ? 801 : null, needs, signal: 1, threshold: 0.5, batchSize: 256, backend: 'wasm',
      };
      const io = { progress: () => {}, signal: new AbortController().signal };
      const job = await best(async () => timed(async () => { for (const p of parts) await scorePart(storage, setup, p, io); }));
      const keras = (threads: number | null) => JSON.parse(execFileSync(python, [join(projectRoot, 'bench', 'keras', 'predict_keras.py'), '--test', ...test.map((p) => join(dir, p.key)), '--model', name, trim ? '--trim' : '--no-trim', '--repeat', String(repeat), ...(threads ? ['--threads', String(threads)] : [])], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], cwd: projectRoot })) as { events_per_s: number; sequence_length: number | null; tensorflow_version: string };
      const k1 = keras(1);
      const kAll = keras(null);
      const r = { model: name, steps: readsParticles ? (trim ? `trimmed (Keras: ${k1.sequence_length})` : '801') : '–', inference: testEvents / inference, job: stage1Events / job, keras1: k1.events_per_s, kerasAll: kAll.events_per_s };
      results.push(r);
      rows.push(`| ${r.model} | ${r.steps} | ${Math.round(r.inference)} | ${Math.round(r.job)} | ${Math.round(r.keras1)} | ${Math.round(r.kerasAll)} | ${(r.inference / r.keras1).toFixed(2)} | ${(r.job / r.keras1).toFixed(2)} |`);
      console.error(rows[rows.length - 1]);
    }
    built.model.dispose();
  }
  console.log(`scoring events/s (tfjs ${backend.name}, 1 thread; Keras tensorflow-cpu, 1 thread and default threads), ${testEvents} stage-2 test events, ${stage1Events} stage-1 events, ${cpus().length} cores, load ${loadavg()[0]!.toFixed(2)}`);
  console.log('| model | particle steps | topoflow inference | topoflow score job | Keras predict, 1 thread | Keras predict, default threads | inference / Keras 1 thread | score job / Keras 1 thread |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) console.log(r);
  console.log(JSON.stringify(results));
  rmSync(dir, { recursive: true, force: true });
}

await main();
