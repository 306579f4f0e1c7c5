/**
 * `backend: torch` (kernels/torch/, run by ml/torchClassifier.ts) on the CPU:
 * the kernel streams the rows in the TypeScript trainer's order, every model
 * trains and writes the files `evaluate` reads, a killed kernel resumes from
 * its newest checkpoint to bit-identical weights, a cheap parity check against
 * wasm, and failures as clear stage errors. Without a Python that has torch
 * (infra/python-torch.sh makes .venv-torch; `npm test` runs it) the tests are
 * skipped, saying why; TOPOFLOW_REQUIRE_TORCH=1 makes that a failure.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage, type Storage } from '../storage/index.js';
import type { StageManifest } from '../protocol/manifest.js';
import { makeFeaturesDataset } from './support/stage2Data.js';
import { ModelSpec } from '../ml/modelSpec.js';
import { epochRows, type PartRef } from '../ml/data.js';
import { KERNEL_SCRIPT, runKernel, torchPython } from '../ml/torchKernel.js';
import { trainTorchClassifier, type TorchSettings } from '../ml/torchClassifier.js';
import { CheckpointStore } from '../ml/checkpoint.js';
import { BadInputError } from '../common/errors.js';
import { train } from '../stages/builtin/train.js';
import { oneVsRest } from '../ml/metrics.js';

/** One-vs-rest AUC per class from predictions.bin and labels.bin bytes. */
const ovrAuc = (predictions: Uint8Array, labels: Uint8Array) =>
  oneVsRest(new Float32Array(new Uint8Array(predictions).buffer), new Int8Array(new Uint8Array(labels).buffer), 3).map((c) => c.auc);

const found = torchPython();
if ('problem' in found && process.env.TOPOFLOW_REQUIRE_TORCH === '1') throw new Error(`TOPOFLOW_REQUIRE_TORCH=1 but ${found.problem}`);
const skip = 'problem' in found ? `the torch back end is not available: ${found.problem}` : false;

const MODELS = {
  hlf: { name: 'hlf', input: 'hlf', layers: [{ dense: 50, activation: 'relu' }, { dense: 20, activation: 'relu' }, { dense: 10, activation: 'relu' }, { dense: 3, activation: 'softmax' }] },
  particle_sequence: { name: 'particle_sequence', input: 'particles', layers: [{ masking: 0 }, { gru: 8 }, { dropout: 0.2 }, { dense: 3, activation: 'softmax' }] },
  inclusive: {
    name: 'inclusive',
    branches: { particles: [{ masking: 0 }, { gru: 8 }, { dropout: 0.2 }], hlf: [{ dropout: 0.2 }] },
    layers: [{ dense: 25, activation: 'relu' }, { dense: 3, activation: 'softmax' }],
  },
  inclusive_lstm: {
    name: 'inclusive_lstm',
    branches: { particles: [{ masking: 0 }, { lstm: 8 }, { dropout: 0.2 }], hlf: [{ dropout: 0.2 }] },
    layers: [{ dense: 25, activation: 'relu' }, { dense: 3, activation: 'softmax' }],
  },
};
/** torch's GRU and LSTM have two bias vectors: GRU(u) on n inputs 3u(n+u+2), LSTM(u) 4u(n+u+2). */
const PARAMS = { hlf: 2013, particle_sequence: 3 * 8 * (19 + 8 + 2) + 27, inclusive: 3 * 8 * (19 + 8 + 2) + (22 * 25 + 25) + 78, inclusive_lstm: 4 * 8 * (19 + 8 + 2) + (22 * 25 + 25) + 78 };

const settings = (model: object, over: Partial<TorchSettings> = {}): TorchSettings => ({
  model: ModelSpec.parse(model),
  backend: 'torch',
  device: 'cpu',
  epochs: 1,
  batchSize: 32,
  learningRate: 3e-3,
  seed: 5,
  shuffleBuffer: 128,
  evalBatchSize: 256,
  checkpointSteps: 10,
  checkpointSeconds: 3600,
  trim: true,
  ...over,
});

const quiet = () => ({ log: () => {}, progress: () => {}, signal: new AbortController().signal });

describe('torch back end (CPU)', { skip }, () => {
  let storage: Storage;
  let data: StageManifest;
  const parts = (prefix: string): PartRef[] => data.outputs.filter((o) => o.name.startsWith(prefix)).map((o) => ({ key: o.key, rows: o.rows!, bytes: o.bytes, sha256: o.sha256 }));
  const dataset = () => ({ train: parts('train-'), test: parts('test-') });

  before(async () => {
    storage = new LocalStorage(mkdtempSync(join(tmpdir(), 'topoflow-torch-')));
    data = await makeFeaturesDataset(storage, { eventsPerSample: 800, filesPerSample: 2, caps: { maxTracks: 20, maxPhotons: 5, maxNeutrals: 5 } });
  });

  test('the kernel streams an epoch in the TypeScript trainer order (seeded interleave, shuffle buffer, trimming)', async () => {
    const needs = { hlf: true, particles: true, trim: true };
    const ts: string[] = [];
    for await (const row of epochRows(storage, parts('train-'), needs, { seed: 9, epoch: 2, bufferSize: 50, openParts: 3 })) ts.push(`${row.label} ${row.length} ${row.hlf![0]!.toFixed(6)} ${row.particles![0]!.toFixed(6)}`);
    const script = [
      'import json, sys',
      `sys.path.insert(0, ${JSON.stringify(join(KERNEL_SCRIPT, '..'))})`,
      'from store import Store',
      'from stream import Needs, epoch_rows',
      'job = json.loads(sys.stdin.read())',
      'for r in epoch_rows(Store(job["storage"]), job["parts"], Needs(True, True, True), 9, 2, 50, 3):',
      '    print(f"{r.label} {r.length} {r.hlf[0]:.6f} {r.particles[0]:.6f}")',
    ].join('\n');
    const out = execFileSync((found as { python: string }).python, ['-c', script], { input: JSON.stringify({ storage: { kind: 'local', root: (storage as LocalStorage).root }, parts: parts('train-') }), encoding: 'utf8' });
    const py = out.trim().split('\n');
    assert.equal(py.length, ts.length);
    assert.ok(ts.length > 300, `${ts.length} rows`);
    assert.deepEqual(py, ts);
  });

  for (const [name, model] of Object.entries(MODELS)) {
    test(`${name} trains (its validation loss falls over 3 epochs) and writes the train stage's files`, async () => {
      const logs: string[] = [];
      const progress: number[] = [];
      const folder = `checkpoints/models/${name}`;
      const r = await trainTorchClassifier(storage, settings(model, { epochs: 3 }), dataset(), folder, { log: (m) => logs.push(m), progress: (p) => progress.push(p.done), signal: new AbortController().signal });
      const names = r.files.map((f) => f.name).sort();
      assert.deepEqual(names, ['history.json', 'labels.bin', 'model.json', 'model.pt', 'predictions.bin', 'timing.json', 'weights.bin']);
      assert.equal(r.counts.params, PARAMS[name as keyof typeof PARAMS]);
      const file = (n: string) => r.files.find((f) => f.name === n)!.body;
      const modelJson = JSON.parse(String(file('model.json'))) as { backend: string; params: number; weights: Array<{ name: string }> };
      assert.equal(modelJson.backend, 'torch');
      assert.equal((file('weights.bin') as Uint8Array).byteLength, 4 * modelJson.params);
      const testRows = r.counts.testEvents!;
      assert.equal((file('predictions.bin') as Uint8Array).byteLength, testRows * 3 * 4);
      assert.equal((file('labels.bin') as Uint8Array).byteLength, testRows);
      const history = JSON.parse(String(file('history.json'))) as { backend: string; epochs: Array<{ valLoss: number }> };
      assert.equal(history.epochs.length, 3);
      assert.ok(history.epochs[2]!.valLoss < history.epochs[0]!.valLoss, `validation loss ${history.epochs.map((e) => e.valLoss).join(' → ')}`);
      assert.ok(logs.some((l) => /on the torch back end: torch 2\.\d+\.\d+.* on cpu/.test(l)), logs.join('\n'));
      assert.ok(progress.length > 0);
    });
  }

  test('a kernel killed mid-training resumes from its newest checkpoint to bit-identical weights and predictions', async () => {
    const s = settings(MODELS.inclusive, { epochs: 2, checkpointSteps: 4 });
    const whole = await trainTorchClassifier(storage, s, dataset(), 'checkpoints/resume/whole', quiet());
    // The second run is killed (SIGTERM then SIGKILL: no clean-up in the kernel) once it has passed a checkpoint in epoch 2.
    const abort = new AbortController();
    const killed = trainTorchClassifier(storage, s, dataset(), 'checkpoints/resume/killed', {
      log: () => {},
      progress: (p) => {
        if (p.unit === 'steps' && p.done >= 22) abort.abort();
      },
      signal: abort.signal,
    });
    await assert.rejects(killed, /training cancelled/);
    const saved = await new CheckpointStore(storage, 'checkpoints/resume/killed').latest();
    assert.ok(saved && saved.step > 0, 'a checkpoint was written before the kill');
    const resumed = await trainTorchClassifier(storage, s, dataset(), 'checkpoints/resume/killed', quiet());
    assert.equal(resumed.resumedFromStep, saved.step);
    for (const name of ['weights.bin', 'predictions.bin', 'history.json', 'model.json']) {
      assert.deepEqual(resumed.files.find((f) => f.name === name)!.body, whole.files.find((f) => f.name === name)!.body, `${name} differs after resuming from step ${saved.step}`);
    }
  });

  test('parity (cheap): hlf on torch reaches the AUCs of wasm within 0.02 per class on the same data', async (t) => {
    // A data set of its own, big enough that one seed's AUC is within ~0.01 (bench/torch.ts has the 3-seed runs against Keras).
    const own = new LocalStorage(mkdtempSync(join(tmpdir(), 'topoflow-torch-parity-')));
    const m = await makeFeaturesDataset(own, { eventsPerSample: 3000, filesPerSample: 1, caps: { maxTracks: 5, maxPhotons: 2, maxNeutrals: 2 } });
    const refs = (prefix: string): PartRef[] => m.outputs.filter((o) => o.name.startsWith(prefix)).map((o) => ({ key: o.key, rows: o.rows!, bytes: o.bytes, sha256: o.sha256 }));
    const parity = { train: refs('train-'), test: refs('test-') };
    const { trainClassifier } = await import('../ml/classifier.js');
    const s = settings(MODELS.hlf, { epochs: 10, batchSize: 64, learningRate: 1e-3, shuffleBuffer: 2048 });
    const torch = await trainTorchClassifier(own, s, parity, 'checkpoints/parity/torch', quiet());
    const wasm = await trainClassifier(own, { ...s, backend: 'wasm' }, parity, 'checkpoints/parity/wasm', quiet());
    const auc = (files: typeof torch.files) => ovrAuc(files.find((f) => f.name === 'predictions.bin')!.body as Uint8Array, files.find((f) => f.name === 'labels.bin')!.body as Uint8Array);
    const [a, b] = [auc(torch.files), auc(wasm.files)];
    t.diagnostic(`${torch.counts.testEvents} test events; AUC torch ${a.map((x) => x.toFixed(4)).join(' ')}, wasm ${b.map((x) => x.toFixed(4)).join(' ')}`);
    assert.ok(torch.counts.testEvents! > 300, `${torch.counts.testEvents} test events`);
    for (let c = 0; c < 3; c++) {
      assert.ok(a[c]! > 0.9, `class ${c}: torch AUC ${a[c]} (a trained HLF net is above 0.95 here)`);
      assert.ok(Math.abs(a[c]! - b[c]!) <= 0.02, `class ${c}: torch ${a[c]} vs wasm ${b[c]}`);
    }
  });

  test('bad input and failures become clear stage errors, not tracebacks', async () => {
    const hard = { ...MODELS.particle_sequence, layers: [{ masking: 0 }, { gru: 8, recurrentActivation: 'hardSigmoid' }, { dense: 3, activation: 'softmax' }] };
    await assert.rejects(trainTorchClassifier(storage, settings(hard), dataset(), 'checkpoints/bad/1', quiet()), (err: Error) => {
      assert.ok(err instanceof BadInputError, String(err));
      assert.match(err.message, /^torch back end: model particle_sequence: layers\[1\]: torch's GRU has sigmoid gates only, not recurrentActivation hardSigmoid$/);
      return true;
    });
    await assert.rejects(trainTorchClassifier(storage, settings(MODELS.hlf), dataset(), 'checkpoints/bad/2', quiet(), { ...process.env, TOPOFLOW_TORCH_PYTHON: '/nonexistent/python' }), /backend: torch: TOPOFLOW_TORCH_PYTHON=\/nonexistent\/python does not exist/);
    if (!existsSync('/dev/nvidiactl')) {
      await assert.rejects(trainTorchClassifier(storage, settings(MODELS.hlf, { device: 'cuda' }), dataset(), 'checkpoints/bad/4', quiet()), (err: Error) => {
        assert.ok(err instanceof BadInputError, String(err));
        assert.match(err.message, /^torch back end: device: cuda, but torch 2\.\d+\.\d+\S* sees no usable GPU \(built for CUDA [\d.]+; is an NVIDIA driver loaded\?\)$/);
        return true;
      });
    }
    // A Python without torch: the kernel says so in one line.
    const plain = execFileSync('bash', ['-c', 'command -v python3'], { encoding: 'utf8' }).trim();
    const noTorch = execFileSync(plain, ['-c', 'import importlib.util as u; print(u.find_spec("torch") is None)'], { encoding: 'utf8' }).trim() === 'True';
    if (noTorch) {
      await assert.rejects(trainTorchClassifier(storage, settings(MODELS.hlf), dataset(), 'checkpoints/bad/3', quiet(), { ...process.env, TOPOFLOW_TORCH_PYTHON: plain }), (err: Error) => {
        assert.match(err.message, /^torch back end: \S+ has no module '(torch|pyarrow|numpy)': bash infra\/python-torch.sh makes .venv-torch/);
        assert.doesNotMatch(err.message, /Traceback/);
        return true;
      });
    }
  });
});

if (skip) test('the torch back end', { skip }, () => {});

test('the train stage takes backend: torch with a device, and refuses a device for the other back ends and torch with workers > 1', () => {
  const model = MODELS.hlf;
  assert.equal(train.withSchema.parse({ model, backend: 'torch', device: 'cuda' }).device, 'cuda');
  assert.equal(train.withSchema.parse({ model, backend: 'torch' }).device, undefined, 'no default: other stages keep their cache keys');
  const bad = train.withSchema.safeParse({ model, backend: 'wasm', device: 'cuda' });
  assert.equal(bad.success, false);
  assert.match(bad.error.issues[0]!.message, /`device` applies to `backend: torch` only/);
  assert.deepEqual(bad.error.issues[0]!.path, ['device']);
  assert.equal(train.withSchema.safeParse({ model, backend: 'torch', device: 'tpu' }).success, false);
  const parallel = train.withSchema.safeParse({ model, backend: 'torch', workers: 2 });
  assert.equal(parallel.success, false);
  assert.match(parallel.error.issues[0]!.message, /data-parallel training \(workers > 1\) runs on the TensorFlow.js back ends only/);
});

// The runner's side of the protocol needs no torch: a stand-in "python" that misbehaves as a crashing kernel would.
test('a kernel that dies without finishing becomes one line: how it ended, a bad protocol line, stderr\'s last words', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'topoflow-kernel-'));
  const fake = join(dir, 'python');
  writeFileSync(fake, '#!/bin/sh\necho \'{"type": "log", "message": "starting"}\'\necho \'not json\'\necho \'Traceback (most recent call last):\' >&2\necho \'MemoryError\' >&2\nkill -9 $$\n');
  chmodSync(fake, 0o755);
  const logs: string[] = [];
  await assert.rejects(runKernel({}, { log: (m) => logs.push(m), progress: () => {}, signal: new AbortController().signal }, { python: fake }), (err: Error) => {
    assert.match(err.message, /^the torch kernel was killed by SIGKILL without finishing; the torch kernel wrote a line that is not a protocol message \(.*\): not json; its last words: MemoryError$/);
    return true;
  });
  assert.ok(logs.includes('starting'), 'log messages reach the log');
  assert.ok(logs.includes('torch kernel: Traceback (most recent call last):'), 'stderr goes to the log');
  // An abort: SIGTERM, then SIGKILL for a kernel that ignores it.
  writeFileSync(fake, '#!/bin/sh\ntrap "" TERM\necho \'{"type": "log", "message": "up"}\'\nwhile true; do sleep 0.05; done\n');
  const abort = new AbortController();
  const started = Date.now();
  const run = runKernel({}, { log: (m) => m === 'up' && abort.abort(), progress: () => {}, signal: abort.signal }, { python: fake, killAfterMs: 300 });
  await assert.rejects(run, /^Error: training cancelled$|training cancelled/);
  assert.ok(Date.now() - started < 5000);
});
