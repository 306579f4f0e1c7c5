/**
 * Learning curves (issue 16): per-class AUC of each trained model against the
 * number of training events, from runs of a pipeline (default `paper-lite`)
 * at several sizes and seeds, with Keras on the same stage-2 Parquet as a
 * cross-check where asked.
 *
 *   node dist/bench/learningCurves.js --runs 20000:42,60000:42,60000:7 [--pipeline paper-lite]
 *       [--set k=v]... [--keras 20000:42,60000:42] [--out bench/results/learning-curves] [--figures bench/figures]
 *       [--keras-dir bench/results/keras]
 *
 * Each run is `topoflow run <pipeline> --set events=N --set seed=S --json` (the
 * stack of TOPOFLOW_DATA, or one started for the command): stages already in
 * the store come from the cache, so re-running this script after the runs
 * only re-reads their results. Keras (`--keras`) trains particle_sequence and
 * inclusive with the run's particle_sequence stage settings, read from its
 * manifest (lr and its steps, early stopping, max epochs; reset_after=false as
 * TensorFlow.js) and the seed's HLF net 50-20-10
 * (20 epochs, not the tuned one) on that run's features parts, with
 * bench/keras/train_keras.py and .venv-bench (infra/python-bench.sh); each result is kept in --keras-dir
 * and reused while the run's train parts are the same files.
 *
 * Writes <out>.json (every run, and every Keras result) and <out>.md (the
 * tables), and the figures learning-curves-{qcd,ttbar,wjets}.svg/.png.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { projectRoot } from '../infra/tools.js';
import { lineChart, svgToPng, type LineSeries } from '../ml/figures/index.js';
import { colorAt } from '../ml/figures/theme.js';

const CLASS_NAMES = ['QCD', 'ttbar', 'W+jets'] as const;
type ClassName = (typeof CLASS_NAMES)[number];
type Auc = Record<ClassName, number>;

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const sets = process.argv.flatMap((a, i) => (a === '--set' ? ['--set', process.argv[i + 1]!] : []));
const pipeline = arg('--pipeline', 'paper-lite');
const pairs = (s: string) => (s ? s.split(',').map((p) => p.split(':').map(Number) as [number, number]) : []);
const runs = pairs(arg('--runs', '20000:42,60000:42'));
const kerasRuns = pairs(arg('--keras', ''));
const out = arg('--out', join(projectRoot, 'bench', 'results', 'learning-curves'));
const figures = arg('--figures', join(projectRoot, 'bench', 'figures'));
const kerasDir = arg('--keras-dir', join(projectRoot, 'bench', 'results', 'keras'));
const cli = join(projectRoot, 'bin', 'topoflow.js');
const python = join(projectRoot, '.venv-bench', 'bin', 'python');

interface ModelResult {
  stage: string;
  model: string;
  auc: Auc;
  accuracy: number;
  epochs: number | null;
  status: string;
  seconds: number;
}
interface RunResult {
  events: number;
  seed: number;
  runId: string;
  trainEvents: number;
  testEvents: number;
  models: ModelResult[];
  features: { train: string[]; test: string[] };
  /** The particle_sequence train stage's settings (its manifest's `with`), which Keras repeats for both GRU models. */
  recurrent: RecurrentSettings;
}
interface RecurrentSettings {
  epochs: number;
  learningRate: number;
  lrSchedule?: Array<{ fromEpoch: number; factor: number }>;
  earlyStopping?: { patience: number; minDelta: number };
}
interface KerasResult {
  events: number;
  seed: number;
  model: string;
  auc: Auc;
  accuracy: number;
  epochs: number;
  seconds: number;
}

const localPath = (uri: string) => (uri.startsWith('file://') ? fileURLToPath(uri) : null);

function runOnce(events: number, seed: number): RunResult {
  const args = [cli, 'run', pipeline, '--set', `events=${events}`, '--set', `seed=${seed}`, ...sets, '--json'];
  console.error(`learningCurves: node ${args.slice(1).join(' ')}`);
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`run ${events}:${seed} exited ${r.status}`);
  const res = JSON.parse(r.stdout) as {
    runId: string;
    stages: Record<string, { status: string; seconds: number; counts?: Record<string, number>; outputs?: Array<{ name: string; uri: string }>; manifest?: string; reason?: string }>;
    metrics: Record<string, Record<string, { model: string; auc: Auc; accuracy: number }>>;
  };
  const models: ModelResult[] = [];
  let trainEvents = 0;
  let testEvents = 0;
  for (const perStage of Object.values(res.metrics)) {
    for (const [stage, m] of Object.entries(perStage)) {
      const s = res.stages[stage]!;
      trainEvents = s.counts?.trainEvents ?? trainEvents;
      testEvents = s.counts?.testEvents ?? testEvents;
      const hist = s.outputs?.find((o) => o.name === 'history.json');
      const path = hist ? localPath(hist.uri) : null;
      const epochs = path ? (JSON.parse(readFileSync(path, 'utf8')) as { epochs: unknown[] }).epochs.length : null;
      models.push({ stage, model: m.model, auc: m.auc, accuracy: m.accuracy, epochs, status: s.status, seconds: s.seconds });
    }
  }
  // The run's JSON lists a stage's first outputs only: the features parts come from its manifest.
  const feat = Object.values(res.stages).find((s) => s.outputs?.some((o) => /^(train|test)-\d+\.parquet$/.test(o.name)));
  const manifestPath = feat?.manifest ? localPath(feat.manifest) : null;
  const featOutputs = manifestPath ? (JSON.parse(readFileSync(manifestPath, 'utf8')) as { outputs: Array<{ name: string; uri: string }> }).outputs : [];
  const files = (prefix: string) => featOutputs.filter((o) => o.name.startsWith(prefix) && o.name.endsWith('.parquet')).map((o) => localPath(o.uri)!).sort();
  // Keras repeats the recurrent stages' resolved settings, read from the stage's manifest (defaults and --set applied).
  const psStage = Object.entries(res.metrics).flatMap((m) => Object.entries(m[1])).find(([, m]) => m.model === 'particle_sequence')?.[0];
  const psManifest = psStage ? localPath(res.stages[psStage]?.manifest ?? '') : null;
  if (!psManifest) throw new Error(`run ${events}:${seed}: no particle_sequence train stage with a local manifest`);
  const recurrent = (JSON.parse(readFileSync(psManifest, 'utf8')) as { with: RecurrentSettings }).with;
  return {
    events, seed, runId: res.runId, trainEvents, testEvents, models,
    features: { train: files('train-'), test: files('test-') },
    recurrent: { epochs: recurrent.epochs, learningRate: recurrent.learningRate, lrSchedule: recurrent.lrSchedule, earlyStopping: recurrent.earlyStopping },
  };
}

function keras(run: RunResult, model: string): KerasResult {
  const recurrent = model !== 'hlf';
  const r = run.recurrent;
  const schedule = (r.lrSchedule ?? []).map((s) => `${s.fromEpoch}:${s.factor}`).join(',');
  const stopping = r.earlyStopping ? `${r.earlyStopping.patience}:${r.earlyStopping.minDelta}` : '';
  const settings = recurrent
    ? `e${r.epochs}-lr${r.learningRate}${stopping ? `-es${stopping.replace(':', 'p')}` : ''}${schedule ? `-s${schedule.replace(/[:,]/g, '_')}` : ''}`
    : 'e20';
  // One file per run, model and settings: a result already there (same data: the run's features parts) is reused.
  const outFile = join(kerasDir, `${pipeline}-${run.events}-${run.seed}-${model}-${settings}.json`);
  mkdirSync(dirname(outFile), { recursive: true });
  const args = [
    join(projectRoot, 'bench', 'keras', 'train_keras.py'), '--train', ...run.features.train, '--test', ...run.features.test,
    '--model', model, '--seed', String(run.seed), '--threads', '2', '--verbose', '0', '--out', outFile,
    ...(recurrent
      ? ['--epochs', String(r.epochs), '--learning-rate', String(r.learningRate), '--reset-after', 'false',
          ...(stopping ? ['--early-stopping', stopping] : []), ...(schedule ? ['--lr-schedule', schedule] : [])]
      : ['--epochs', '20']),
  ];
  const sameData = (k: { train_files?: string[] }) => JSON.stringify(k.train_files ?? []) === JSON.stringify(run.features.train);
  if (!existsSync(outFile) || !sameData(JSON.parse(readFileSync(outFile, 'utf8')) as { train_files?: string[] })) {
    console.error(`learningCurves: keras ${model} on ${run.events}:${run.seed}`);
    const child = spawnSync(python, args, { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] });
    if (child.status !== 0) throw new Error(`train_keras.py ${model} exited ${child.status}`);
  }
  const k = JSON.parse(readFileSync(outFile, 'utf8')) as { auc: Auc; accuracy: number; epochs: number; total_seconds: number };
  return { events: run.events, seed: run.seed, model, auc: k.auc, accuracy: k.accuracy, epochs: k.epochs, seconds: k.total_seconds };
}

const f4 = (x: number) => x.toFixed(4);
/** Mean ± half the range (the spread over seeds); a single value alone. */
function meanSpread(xs: number[]): string {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.length === 1 ? f4(mean) : `${f4(mean)} ± ${f4((Math.max(...xs) - Math.min(...xs)) / 2)}`;
}

const results: RunResult[] = runs.map(([events, seed]) => runOnce(events, seed));
const kerasResults: KerasResult[] = [];
if (kerasRuns.length > 0) {
  if (!existsSync(python)) throw new Error(`${python} is missing: run infra/python-bench.sh`);
  for (const [events, seed] of kerasRuns) {
    const run = results.find((r) => r.events === events && r.seed === seed) ?? runOnce(events, seed);
    for (const model of ['hlf', 'particle_sequence', 'inclusive']) kerasResults.push(keras(run, model));
  }
}

const lines: string[] = [];
lines.push(`Pipeline \`${pipeline}\`${sets.length ? ` with ${sets.filter((s) => s !== '--set').join(' ')}` : ''}. AUC one-vs-rest on the test set (QCD / ttbar / W+jets).`, '');
lines.push('| events per sample | seed | training events | test events | model | epochs | AUC QCD | AUC ttbar | AUC W+jets | accuracy |', '|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|');
for (const r of results) {
  for (const m of r.models) lines.push(`| ${r.events} | ${r.seed} | ${r.trainEvents} | ${r.testEvents} | ${m.model} | ${m.epochs ?? ''} | ${CLASS_NAMES.map((c) => f4(m.auc[c])).join(' | ')} | ${f4(m.accuracy)} |`);
  for (const k of kerasResults.filter((k) => k.events === r.events && k.seed === r.seed)) {
    lines.push(`| ${r.events} | ${r.seed} | ${r.trainEvents} | ${r.testEvents} | Keras ${k.model} | ${k.epochs} | ${CLASS_NAMES.map((c) => f4(k.auc[c])).join(' | ')} | ${f4(k.accuracy)} |`);
  }
}
const sizes = [...new Set(results.map((r) => r.events))].sort((a, b) => a - b);
const modelNames = [...new Set(results.flatMap((r) => r.models.map((m) => m.model)))];
lines.push('', 'Per size, mean ± half the range over seeds; ✔ where inclusive > particle-sequence > HLF on the mean:', '');
lines.push('| events per sample | seeds | training events | model | AUC QCD | AUC ttbar | AUC W+jets | inclusive > particle-sequence > HLF (QCD / ttbar / W+jets) |', '|---:|---:|---:|---|---:|---:|---:|---|');
const curves = new Map<string, Array<{ x: number; auc: Auc }>>();
for (const size of sizes) {
  const rs = results.filter((r) => r.events === size);
  const trainEvents = Math.round(rs.reduce((s, r) => s + r.trainEvents, 0) / rs.length);
  const means = new Map<string, Auc>();
  for (const name of modelNames) {
    const ms = rs.flatMap((r) => r.models.filter((m) => m.model === name));
    const auc = Object.fromEntries(CLASS_NAMES.map((c) => [c, ms.reduce((s, m) => s + m.auc[c], 0) / ms.length])) as Auc;
    means.set(name, auc);
    curves.set(name, [...(curves.get(name) ?? []), { x: trainEvents, auc }]);
  }
  const hlf = [...means.entries()].find(([n]) => n.startsWith('hlf'))?.[1];
  const ps = means.get('particle_sequence');
  const inc = means.get('inclusive');
  const order = (c: ClassName) => (hlf && ps && inc ? (inc[c] > ps[c] && ps[c] > hlf[c] ? '✔' : inc[c] > hlf[c] ? 'inc > HLF only' : '✘') : '');
  for (const name of modelNames) {
    const ms = rs.flatMap((r) => r.models.filter((m) => m.model === name));
    const ord = name === 'inclusive' ? CLASS_NAMES.map(order).join(' / ') : '';
    lines.push(`| ${size} | ${rs.map((r) => r.seed).join(', ')} | ${trainEvents} | ${name} | ${CLASS_NAMES.map((c) => meanSpread(ms.map((m) => m.auc[c]))).join(' | ')} | ${ord} |`);
  }
}
const table = lines.join('\n');
console.log(table);
mkdirSync(dirname(out), { recursive: true });
writeFileSync(`${out}.json`, `${JSON.stringify({ pipeline, sets, runs: results, keras: kerasResults }, null, 1)}\n`);
writeFileSync(`${out}.md`, `${table}\n`);

mkdirSync(figures, { recursive: true });
const label = (name: string) => (name.startsWith('hlf') ? 'HLF' : name === 'particle_sequence' ? 'particle-sequence' : name);
for (const [i, c] of CLASS_NAMES.entries()) {
  const series: LineSeries[] = modelNames.map((name, j) => {
    const pts = curves.get(name)!;
    return { label: label(name), x: pts.map((p) => p.x), y: pts.map((p) => p.auc[c]), markers: true, color: colorAt(j) };
  });
  for (const [j, name] of modelNames.entries()) {
    const key = name.startsWith('hlf') ? 'hlf' : name;
    const ks = kerasResults.filter((k) => k.model === key);
    if (ks.length === 0) continue;
    const x = ks.map((k) => results.find((r) => r.events === k.events && r.seed === k.seed)!.trainEvents);
    series.push({ label: `${label(name)}, Keras`, x, y: ks.map((k) => k.auc[c]), markers: true, dash: '4 4', color: colorAt(j) });
  }
  const svg = lineChart({ title: `${c} vs rest: AUC against training events (${[pipeline, ...sets.filter((x) => x !== '--set')].join(', ')})`, x: { label: 'training events', log: true }, y: { label: 'AUC' }, series, legend: 'lower right' });
  const base = join(figures, `learning-curves-${['qcd', 'ttbar', 'wjets'][i]}`);
  writeFileSync(`${base}.svg`, svg);
  writeFileSync(`${base}.png`, svgToPng(svg, { width: 900 }));
}
console.error(`learningCurves: wrote ${out}.json, ${out}.md and ${figures}/learning-curves-*.svg/png`);
