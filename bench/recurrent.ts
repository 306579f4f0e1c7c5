/**
 * Training throughput of Masking → GRU(50) or LSTM(50) → Dense(2, softmax) on
 * particle-like sequences (19 features, padded at the end): tfjs's stock
 * tf.layers.gru / tf.layers.lstm vs topoflow's FastGRU (ml/gru.ts) / FastLSTM
 * (ml/lstm.ts), on the wasm and cpu back ends (one core each). A step is
 * `model.trainOnBatch`: forward, backward and an Adam update.
 *
 *   npm run build && node dist/bench/recurrent.js [--cell gru|lstm] [--steps 801] [--batch 128] [--warmup 1] [--timed 3] [--budget 60]
 *
 * On wasm the stock layer runs twice: with the stock Slice/Unpack kernels and
 * with those of ml/wasmKernels.ts (which ml/backend.ts installs for training).
 * A stock-layer configuration whose run is estimated, from its shorter-sequence
 * run, to take more than --budget seconds is skipped and reported as such.
 */
import { loadavg } from 'node:os';
import { tf } from '../ml/tf.js';
import { fastGru } from '../ml/gru.js';
import { fastLstm } from '../ml/lstm.js';
import { installWasmKernels, uninstallWasmKernels } from '../ml/wasmKernels.js';

const argText = (name: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const arg = (name: string, fallback: number) => Number(argText(name) ?? fallback);
const cell = argText('--cell') ?? 'gru';
if (cell !== 'gru' && cell !== 'lstm') throw new Error(`--cell: expected gru or lstm, got ${cell}`);
const FAST = cell === 'gru' ? 'FastGRU' : 'FastLSTM';
const steps = arg('--steps', 801);
const batch = arg('--batch', 128);
const warmup = arg('--warmup', 1);
const timed = arg('--timed', 3);
const budgetS = arg('--budget', 60);
const FEATURES = 19;
const UNITS = 50;

type Layer = 'stock' | 'stock + wasmKernels' | typeof FAST;
interface Row { backend: string; time: number; layer: Layer; msPerStep: number | null; note: string }

/** Deterministic data: every sample keeps a random-length prefix (at least half), one keeps all. */
function data(time: number): { x: tf.Tensor; y: tf.Tensor } {
  return tf.tidy(() => {
    let s = 12345;
    const rand = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const keep = tf.buffer([batch, time, 1]);
    for (let i = 0; i < batch; i++) {
      const len = i === 0 ? time : Math.ceil(time * (0.5 + 0.5 * rand()));
      for (let t = 0; t < len; t++) keep.set(1, i, t, 0);
    }
    const x = tf.mul(tf.randomNormal([batch, time, FEATURES], 0, 1, 'float32', 1), keep.toTensor());
    const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 2), 'int32'), 2);
    return { x, y };
  });
}

function model(layer: Layer): tf.LayersModel {
  const input = tf.input({ shape: [null, FEATURES] });
  const masked = tf.layers.masking({ maskValue: 0 }).apply(input);
  const init = { kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), recurrentInitializer: tf.initializers.orthogonal({ seed: 2 }) };
  const rnn = layer === FAST
    ? (cell === 'gru' ? fastGru : fastLstm)({ units: UNITS, seed: 1 })
    : cell === 'gru'
      ? tf.layers.gru({ units: UNITS, recurrentActivation: 'sigmoid', ...init })
      : tf.layers.lstm({ units: UNITS, recurrentActivation: 'sigmoid', unitForgetBias: true, ...init });
  const output = tf.layers.dense({ units: 2, activation: 'softmax' }).apply(rnn.apply(masked));
  const m = tf.model({ inputs: input, outputs: output as tf.SymbolicTensor });
  m.compile({ optimizer: tf.train.adam(1e-3), loss: 'categoricalCrossentropy' });
  return m;
}

/** Mean wall time of one training step, in ms, after `warmup` untimed steps. */
async function measure(layer: Layer, time: number): Promise<number> {
  const { x, y } = data(time);
  const m = model(layer);
  try {
    for (let i = 0; i < warmup; i++) await m.trainOnBatch(x, y);
    const t0 = performance.now();
    for (let i = 0; i < timed; i++) await m.trainOnBatch(x, y);
    return (performance.now() - t0) / timed;
  } finally {
    m.dispose();
    tf.dispose([x, y]);
  }
}

// Orthogonal init of a 50×150 matrix warns about speed on every build.
const warn = console.warn;
console.warn = (...a: unknown[]) => {
  if (!String(a[0]).startsWith('Orthogonal initializer')) warn(...a);
};

const rows: Row[] = [];
const times = [...new Set([100, steps])].sort((a, b) => a - b);
for (const backend of ['wasm', 'cpu']) {
  if (!(await tf.setBackend(backend))) throw new Error(`back end ${backend} did not start`);
  await tf.ready();
  const layers: Layer[] = backend === 'wasm' ? ['stock', 'stock + wasmKernels', FAST] : ['stock', FAST];
  // Untimed short runs first, so the first timed configuration does not pay for JIT warm-up.
  for (const layer of layers) await measure(layer, 10);
  for (const time of times) {
    for (const layer of layers) {
      // The fast layers install the kernels themselves; the plain stock row must not have them.
      if (backend === 'wasm') {
        if (layer === 'stock') uninstallWasmKernels();
        else installWasmKernels();
      }
      // Extrapolate linearly from the shorter run (a lower bound for the stock layer).
      const shorter = layer === FAST ? undefined : rows.find((r) => r.backend === backend && r.layer === layer && r.time < time && r.msPerStep !== null);
      const estimateS = shorter ? (shorter.msPerStep! * (time / shorter.time) * (warmup + timed)) / 1000 : 0;
      if (estimateS > budgetS) {
        const note = `skipped: estimated ≥ ${estimateS.toFixed(0)} s > ${budgetS} s budget`;
        console.error(`${backend} T=${time} ${layer}: ${note}`);
        rows.push({ backend, time, layer, msPerStep: null, note });
        continue;
      }
      const ms = await measure(layer, time);
      console.error(`${backend} T=${time} ${layer}: ${ms.toFixed(0)} ms/step, ${((batch / ms) * 1000).toFixed(1)} samples/s`);
      rows.push({ backend, time, layer, msPerStep: ms, note: '' });
    }
  }
}

const fmt = (n: number, digits: number) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
console.log(`\nTraining samples/s, batch ${batch}, ${cell.toUpperCase()}(${UNITS}) over ${FEATURES} features, ${warmup} warm-up + ${timed} timed steps (trainOnBatch: forward + backward + Adam)`);
// Other processes on the machine slow every figure; the load says how much to trust them.
console.log(`1-minute load average at the end: ${loadavg()[0]!.toFixed(1)}\n`);
console.log('| back end | T | layer | samples/s | ms/step | vs stock |');
console.log('|---|---:|---|---:|---:|---:|');
for (const r of rows) {
  const stock = rows.find((s) => s.backend === r.backend && s.time === r.time && s.layer === 'stock')?.msPerStep ?? null;
  const ratio = r.msPerStep !== null && stock !== null && r.layer !== 'stock' ? `${fmt(stock / r.msPerStep, 1)}×` : '';
  const cells = r.msPerStep === null ? [r.note, '', ''] : [fmt((batch / r.msPerStep) * 1000, 1), fmt(r.msPerStep, 0), ratio];
  console.log(`| ${r.backend} | ${r.time} | ${r.layer} | ${cells.join(' | ')} |`);
}
