/**
 * Data-parallel training (issue 13) on the engine: one stage-2 data set, the
 * same model trained by `train` in one process (workers 1) and over N train
 * workers in rounds (workers N, syncEvery K, each K of `--sync`), on a real
 * Temporal dev server with N train-worker processes. Per run: wall time of
 * the train stage, training samples/s, the rounds' compute / wait / reduce
 * totals (timing.json) and the test AUC per class, so the averaging rule's
 * cost in accuracy is measured next to its speed.
 *
 *   npx tsc -p tsconfig.json && node dist/workers/bundle.js
 *   node dist/bench/distributed.js [--events 6000] [--epochs 3] [--workers 2] [--sync 1,8] [--model inclusive|hlf]
 *       [--backend wasm|tensorflow|auto] [--lr 0.003] [--batch 128]
 */
import { loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Harness } from '../test/support/harness.js';
import { openStorage } from '../storage/index.js';
import type { PipelineRunInput } from '../protocol/protocol.js';
import { oneVsRest } from '../ml/metrics.js';
import { CLASS_NAMES } from '../hep/layout.js';

const { values: o } = parseArgs({
  options: {
    events: { type: 'string', default: '6000' },
    epochs: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
    sync: { type: 'string', default: '1,8' },
    model: { type: 'string', default: 'inclusive' },
    backend: { type: 'string', default: 'wasm' },
    lr: { type: 'string', default: '0.003' },
    batch: { type: 'string', default: '128' },
  },
});

const MODELS: Record<string, unknown> = {
  inclusive: { name: 'inclusive', branches: { particles: [{ masking: 0 }, { gru: 50 }, { dropout: 0.2 }], hlf: [{ dropout: 0.2 }] }, layers: [{ dense: 25, activation: 'relu' }, { dense: 3, activation: 'softmax' }] },
  hlf: { name: 'hlf', input: 'hlf', layers: [{ dense: 50, activation: 'relu' }, { dense: 20, activation: 'relu' }, { dense: 10, activation: 'relu' }, { dense: 3, activation: 'softmax' }] },
};

const n = Number(o.workers);
const h = new Harness();
const storage = { root: pathToFileURL(join(h.tmp, 'store')).href };
const store = openStorage(storage);

function pipeline(train: Record<string, unknown>): Exclude<PipelineRunInput['pipeline'], string> {
  return {
    name: 'dp-bench',
    stages: {
      gen: { uses: 'generate', with: { eventsPerSample: Number(o.events), eventsPerFile: 5000, seed: 42 } },
      ingest: { uses: 'ingest', needs: ['gen'], with: { maxTracks: 150, maxPhotons: 50, maxNeutrals: 50 } },
      features: { uses: 'features', needs: ['ingest'], with: { seed: 42, padding: 'masked' } },
      train: { uses: 'train', needs: ['features'], heartbeatTimeout: '30s', with: { model: MODELS[o.model], epochs: Number(o.epochs), batchSize: Number(o.batch), learningRate: Number(o.lr), backend: o.backend, seed: 42, ...train } },
    },
  };
}

interface Row { label: string; seconds: number; samplesPerSecond: number; auc: number[]; rounds?: { rounds: number; computeSeconds: number; waitSeconds: number; reduceSeconds: number } }

async function run(label: string, train: Record<string, unknown>): Promise<Row> {
  const result = await h.result(await h.run({ pipeline: pipeline(train), storage }));
  if (result.status !== 'completed') throw new Error(`${label}: ${JSON.stringify(result.stages.train)}`);
  const key = result.stages.train!.manifestUri!.slice(storage.root.length + 1);
  const manifest = JSON.parse(Buffer.from(await store.get(key)).toString('utf8')) as { outputs: Array<{ name: string; key: string }>; seconds: number };
  const file = async (name: string) => store.get(manifest.outputs.find((x) => x.name === name)!.key);
  const predictions = new Float32Array(new Uint8Array(await file('predictions.bin')).buffer);
  const labels = new Int8Array(new Uint8Array(await file('labels.bin')).buffer);
  const timing = JSON.parse(Buffer.from(await file('timing.json')).toString('utf8')) as { samplesPerSecond: number; roundTotals?: Row['rounds'] };
  return { label, seconds: manifest.seconds, samplesPerSecond: timing.samplesPerSecond, auc: oneVsRest(predictions, labels, 3).map((c) => c.auc), ...(timing.roundTotals ? { rounds: timing.roundTotals } : {}) };
}

await h.start();
try {
  await h.startWorker(['--queues', 'topoflow']);
  for (let i = 0; i < n; i++) await h.startWorker(['--queues', 'train', '--slots', '1']);
  console.error(`# ${new Date().toISOString()} · ${cpus().length} cores · load ${loadavg().map((x) => x.toFixed(1)).join(' ')} · ${o.model} · ${o.events} events/sample · ${o.epochs} epochs · batch ${o.batch} · lr ${o.lr} · ${o.backend}`);
  const rows: Row[] = [await run('workers 1', {})];
  for (const k of o.sync.split(',').map(Number)) {
    rows.push(await run(`workers ${n}, syncEvery ${k}`, { workers: n, syncEvery: k }));
    rows.push(await run(`workers ${n}, syncEvery ${k}, lrScaling linear`, { workers: n, syncEvery: k, lrScaling: 'linear' }));
  }
  const base = rows[0]!;
  console.log(`| run | train stage s | × workers 1 | samples/s | rounds (compute / wait / reduce s) | AUC ${CLASS_NAMES.join(' / ')} |`);
  console.log('|---|---:|---:|---:|---|---|');
  for (const r of rows) {
    const rounds = r.rounds ? `${r.rounds.rounds} (${r.rounds.computeSeconds.toFixed(1)} / ${r.rounds.waitSeconds.toFixed(1)} / ${r.rounds.reduceSeconds.toFixed(1)})` : '–';
    console.log(`| ${r.label} | ${r.seconds.toFixed(1)} | ${(base.seconds / r.seconds).toFixed(2)}× | ${Math.round(r.samplesPerSecond)} | ${rounds} | ${r.auc.map((a) => a.toFixed(4)).join(' / ')} |`);
  }
  console.error(`# load after: ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
} finally {
  await h.stop();
}
