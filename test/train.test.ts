/**
 * The trainer on generated stage-2 data, in process (no Temporal): it learns,
 * it streams in a seeded order, an interrupted-and-resumed run ends with the
 * same weights as an uninterrupted one, and the stage writes what `evaluate`
 * reads. The kill -9 version of the resume test, through Temporal, is in
 * trainEngine.test.ts. The back end is wasm, or TOPOFLOW_TEST_BACKEND's
 * (trainNative.test.ts runs this file again on native TensorFlow).
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage, type Storage } from '../storage/index.js';
import type { StageManifest } from '../protocol/manifest.js';
import { makeFeaturesDataset } from './support/stage2Data.js';
import { train as trainKind, type TrainWith } from '../stages/builtin/train.js';
import { evaluate as evaluateKind } from '../stages/builtin/evaluate.js';
import { RecordingOutputWriter } from '../runtime/outputWriter.js';
import type { StageContext } from '../stages/kind.js';
import { oneVsRest } from '../ml/metrics.js';
import { workingPoints, type WorkingPoint } from '../ml/workingPoint.js';
import { useBackend } from '../ml/backend.js';
import { earlyStopDue, evaluate, train, type TrainState } from '../ml/trainer.js';
import { decodeModel } from '../ml/modelFile.js';
import { CheckpointStore } from '../ml/checkpoint.js';
import { storedData } from '../ml/trainingData.js';
import { batches, epochRows, openPartsFor, orderedRows, realLength, type Batch, type PartRef } from '../ml/data.js';
import { ModelSpec } from '../ml/modelSpec.js';
import { FeaturesFile } from '../hep/features/index.js';
import { BadInputError } from '../common/errors.js';
import { BackendChoice } from '../ml/backendChoice.js';

const BACKEND = BackendChoice.parse(process.env.TOPOFLOW_TEST_BACKEND ?? 'wasm');
/** The data stream does not depend on the back end: tested once, on wasm. */
const STREAM_TESTS = BACKEND === 'wasm';

const HLF = ModelSpec.parse({ name: 'hlf', input: 'hlf', layers: [{ dense: 50, activation: 'relu' }, { dense: 20, activation: 'relu' }, { dense: 10, activation: 'relu' }, { dense: 3, activation: 'softmax' }] });
const INCLUSIVE = ModelSpec.parse({
  name: 'inclusive',
  branches: { particles: [{ masking: 0 }, { gru: 8 }, { dropout: 0.2 }], hlf: [{ dropout: 0.2 }] },
  layers: [{ dense: 25, activation: 'relu' }, { dense: 3, activation: 'softmax' }],
});

let storage: Storage;
let data: StageManifest;
const parts = (prefix: string): PartRef[] => data.outputs.filter((o) => o.name.startsWith(prefix)).map((o) => ({ key: o.key, rows: o.rows!, bytes: o.bytes, sha256: o.sha256 }));

function ctxFor<W>(w: W, inputs: Record<string, StageManifest>, out: string, extra: Partial<StageContext<W>> = {}): StageContext<W> & { output: RecordingOutputWriter } {
  return {
    stageId: out, with: w, inputs, storage, output: new RecordingOutputWriter(storage, `${out}/data`),
    progress: () => {}, log: () => {}, signal: new AbortController().signal, checkpointFolder: `${out}/checkpoints`, ...extra,
  } as StageContext<W> & { output: RecordingOutputWriter };
}

const trainWith = (over: Record<string, unknown>): TrainWith => trainKind.withSchema.parse({ model: HLF, backend: BACKEND, ...over });

before(async () => {
  await useBackend(BACKEND);
  storage = new LocalStorage(mkdtempSync(join(tmpdir(), 'topoflow-train-')));
  // Three stage-1 files per sample: several train and test parts, as a real run has.
  data = await makeFeaturesDataset(storage, { eventsPerSample: 7500, filesPerSample: 3 });
});

describe('data stream', { skip: !STREAM_TESTS && 'back-end independent: run with wasm' }, () => {
  test('each epoch sees every training row exactly once, in a seeded order that differs per epoch', async () => {
    const needs = { hlf: true, particles: true, trim: true };
    const order = async (epoch: number, seed = 1) => {
      const keys: string[] = [];
      for await (const b of batches(epochRows(storage, parts('train-'), needs, { seed, epoch, bufferSize: 300 }), 64, needs)) {
        for (let i = 0; i < b.size; i++) keys.push(Array.from(b.hlf!.subarray(i * 14, i * 14 + 14)).join(','));
      }
      return keys;
    };
    const total = parts('train-').reduce((s, p) => s + p.rows, 0);
    const e0 = await order(0);
    assert.equal(e0.length, total);
    assert.equal(new Set(e0).size, total, 'no row twice');
    assert.deepEqual(await order(0), e0, 'same seed and epoch, same order');
    const e1 = await order(1);
    assert.notDeepEqual(e1, e0);
    assert.deepEqual([...e1].sort(), [...e0].sort());
  });

  test('batches mix the classes although each part holds one class', async () => {
    const needs = { hlf: false, particles: false, trim: false };
    let mixed = 0;
    let total = 0;
    for await (const b of batches(epochRows(storage, parts('train-'), needs, { seed: 4, epoch: 0, bufferSize: 512 }), 128, needs)) {
      total++;
      if (new Set(b.labels).size === 3) mixed++;
    }
    assert.ok(mixed >= 0.75 * total, `${mixed} of ${total} batches hold all three classes`);
  });

  test('more parts than 16: all open at once when they fit the memory budget, so the epoch does not end on late parts alone', async () => {
    const MiB = 2 ** 20;
    const refs = (n: number, bytes: number) => Array.from({ length: n }, (_, i) => ({ key: `p${i}`, rows: 1, bytes, sha256: '' }));
    assert.equal(openPartsFor(refs(40, MiB)), 40);
    assert.equal(openPartsFor(refs(40, 32 * MiB)), 16, '512 MiB of whole parts');
    assert.equal(openPartsFor(refs(100, 200 * MiB)), 21, 'range-read parts cost a row group each (24 MiB)');
    assert.equal(openPartsFor(refs(3, MiB)), 16);
    // 18 parts (each single-class: the 9 of this set twice); without a buffer the stream's last rows show the mix.
    const needs = { hlf: false, particles: false, trim: false };
    const many = [...parts('train-'), ...parts('train-')];
    const tail = async (openParts?: number) => {
      const labels: number[] = [];
      for await (const r of epochRows(storage, many, needs, { seed: 8, epoch: 0, bufferSize: 1, ...(openParts ? { openParts } : {}) })) labels.push(r.label);
      const last = labels.slice(-Math.floor(labels.length / 20));
      return [0, 1, 2].map((c) => last.filter((l) => l === c).length / last.length);
    };
    const mixed = await tail();
    assert.ok(mixed.every((f) => f > 0.2), `the last 5 % holds every class: ${mixed.map((f) => f.toFixed(2)).join(' / ')}`);
    const late = await tail(16);
    assert.ok(Math.max(...late) > 0.6, `with 16 of 18 parts open (the old default) the last 5 % is dominated by the 2 late ones: ${late.map((f) => f.toFixed(2)).join(' / ')}`);
  });

  test('without a shuffle buffer, every batch still has about the class mix of the whole set', async () => {
    // Row groups are single-class runs of 256 rows; only a row-wise interleave of the parts passes this.
    const needs = { hlf: false, particles: false, trim: false };
    const counts = [0, 0, 0];
    const perBatch: number[][] = [];
    for await (const b of batches(epochRows(storage, parts('train-'), needs, { seed: 5, epoch: 0, bufferSize: 1 }), 128, needs)) {
      if (b.size < 128) continue;
      const c = [0, 0, 0];
      for (const l of b.labels) c[l]!++;
      c.forEach((n, k) => (counts[k]! += n));
      perBatch.push(c);
    }
    const all = counts.reduce((a, b) => a + b, 0);
    assert.ok(perBatch.length >= 20, `${perBatch.length} full batches`);
    perBatch.forEach((c, i) => c.forEach((n, k) => {
      // 0.2 is about 5 binomial standard deviations at 128 rows.
      assert.ok(Math.abs(n / 128 - counts[k]! / all) < 0.2, `batch ${i}: class ${k} is ${n} of 128 rows, ${((100 * counts[k]!) / all).toFixed(0)} % overall`);
    }));
  });

  test('an HLF-only stream skips the particle lists and yields the same rows in the same order', async () => {
    const order = async (needs: { hlf: boolean; particles: boolean; trim: boolean }) => {
      const rows: string[] = [];
      for await (const r of epochRows(storage, parts('train-'), needs, { seed: 6, epoch: 2, bufferSize: 200, openParts: 4 })) {
        assert.equal(r.particles === undefined, !needs.particles);
        rows.push(`${r.label}:${Array.from(r.hlf!).join(',')}`);
      }
      return rows;
    };
    assert.deepEqual(await order({ hlf: true, particles: false, trim: false }), await order({ hlf: true, particles: true, trim: false }));
  });

  test('parts are read by byte range: the footer, then only the column chunks a row group needs', async () => {
    const part = parts('train-')[0]!;
    const whole = await FeaturesFile.open(new Uint8Array(await storage.get(part.key)));
    let fetched = 0;
    const ranged = await FeaturesFile.open({ size: part.bytes, read: (offset, length) => ((fetched += length), storage.getRange(part.key, offset, length)) });
    const footer = fetched;
    assert.ok(footer < part.bytes / 10, `opening fetched ${footer} of ${part.bytes} bytes`);
    const hlfOnly = await ranged.readInputs(0, { particles: false });
    const hlfBytes = fetched - footer;
    const all = await ranged.readInputs(0, { particles: true });
    const allBytes = fetched - footer - hlfBytes;
    assert.ok(hlfBytes * 5 < allBytes, `an HLF-only read fetched ${hlfBytes} bytes, a full one ${allBytes}`);
    const expected = await whole.readInputs(0, { particles: true });
    assert.equal(hlfOnly.gru, undefined);
    assert.deepEqual(hlfOnly.hlf, expected.hlf);
    assert.deepEqual(all, expected, 'the same rows as from the whole file');
    whole.free();
    ranged.free();
  });

  test('large parts (read by byte range) stream exactly as small ones (fetched whole)', async () => {
    const needs = { hlf: true, particles: true, trim: true };
    const collect = async (rows: AsyncIterable<{ label: number; hlf: Float32Array | undefined; particles: Float32Array | undefined }>) => {
      const out: string[] = [];
      for await (const r of rows) out.push(`${r.label}:${Array.from(r.hlf!).join(',')}:${createHash('sha256').update(r.particles!).digest('hex')}`);
      return out;
    };
    const opts = { seed: 8, epoch: 1, bufferSize: 100 };
    const byRange = await collect(epochRows(storage, parts('train-'), needs, { ...opts, wholePartBytes: 0 }));
    assert.equal(byRange.length, parts('train-').reduce((n, p) => n + p.rows, 0));
    assert.deepEqual(byRange, await collect(epochRows(storage, parts('train-'), needs, opts)));
    assert.deepEqual(await collect(orderedRows(storage, parts('test-'), needs, { wholePartBytes: 0 })), await collect(orderedRows(storage, parts('test-'), needs)));
  });

  test('a damaged part fails the train stage naming the object, before the decoder sees it', async () => {
    const victim = data.outputs.find((o) => o.name.startsWith('train-'))!;
    const bytes = new Uint8Array(await storage.get(victim.key));
    bytes.fill(0xff, 4, 2000); // page data: parquet-wasm would trap (and take the worker with it)
    const key = `damaged/${victim.name}`;
    await storage.put(key, bytes);
    const damaged: StageManifest = { ...data, outputs: data.outputs.map((o) => (o === victim ? { ...o, key } : o)) };
    await assert.rejects(trainKind.run(ctxFor(trainWith({ epochs: 1 }), { features: damaged }, 'damaged')), (err: Error) => {
      assert.ok(err instanceof BadInputError, String(err));
      assert.ok(err.message.startsWith(`${storage.uri(key)}: the object differs from what its stage's manifest recorded`), err.message);
      assert.match(err.message, /re-run the stage that wrote it with --force/);
      return true;
    });
  });

  test('batches are trimmed to their longest event and keep every real particle', async () => {
    const trimmed = { hlf: false, particles: true, trim: true };
    const full = { ...trimmed, trim: false };
    const a = batches(epochRows(storage, parts('train-'), trimmed, { seed: 2, epoch: 0, bufferSize: 100 }), 32, trimmed);
    const b = batches(epochRows(storage, parts('train-'), full, { seed: 2, epoch: 0, bufferSize: 100 }), 32, full);
    let shorter = 0;
    for await (const t of a) {
      const next = await b.next();
      assert.ok(!next.done, 'both streams have the same batches');
      const f: Batch = next.value;
      assert.equal(f.steps, 251, 'demo caps: 1 + 150 + 50 + 50 rows');
      assert.ok(t.steps <= f.steps);
      if (t.steps < f.steps) shorter++;
      for (let i = 0; i < t.size; i++) {
        const row = f.particles!.subarray(i * f.steps * 19, (i + 1) * f.steps * 19);
        assert.ok(realLength(row) <= t.steps);
        assert.deepEqual(t.particles!.subarray(i * t.steps * 19, (i + 1) * t.steps * 19), row.subarray(0, t.steps * 19));
      }
    }
    assert.ok(shorter > 0, 'trimming happened');
  });
});

describe(`training on ${BACKEND}`, () => {
  test('hlf beats chance clearly after one epoch on a few thousand events (AUC ≥ 0.8 per class)', async () => {
    const ctx = ctxFor(trainWith({ epochs: 1, batchSize: 32 }), { features: data }, 'hlf1');
    const result = await trainKind.run(ctx);
    const preds = new Float32Array(new Uint8Array(await storage.get(ctx.output.keyFor('predictions.bin'))).buffer);
    const labels = new Int8Array(new Uint8Array(await storage.get(ctx.output.keyFor('labels.bin'))).buffer);
    const trainEvents = result.counts!.trainEvents!;
    assert.ok(trainEvents > 2000 && trainEvents < 10000, `a few thousand events (${trainEvents})`);
    assert.equal(labels.length, parts('test-').reduce((s, p) => s + p.rows, 0));
    for (const c of oneVsRest(preds, labels, 3)) assert.ok(c.auc >= 0.8, `class ${c.classIndex}: AUC ${c.auc.toFixed(4)}`);
    assert.deepEqual(ctx.output.outputs().map((o) => o.name), ['history.json', 'labels.bin', 'model.json', 'predictions.bin', 'timing.json', 'weights.bin']);
    assert.deepEqual(ctx.output.outputs().filter((o) => o.volatile).map((o) => o.name), ['timing.json'], 'only the wall-clock figures are volatile');
    const json = async (name: string) => JSON.parse(Buffer.from(await storage.get(ctx.output.keyFor(name))).toString('utf8')) as Record<string, unknown>;
    const epochs = (await json('history.json')).epochs as Array<Record<string, number>>;
    assert.deepEqual(Object.keys(epochs[0]!).sort(), ['accuracy', 'epoch', 'loss', 'valAccuracy', 'valLoss'], 'history.json holds no wall-clock figures');
    const timing = await json('timing.json');
    assert.ok(Number(timing.samplesPerSecond) > 0 && timing.resumedFromStep === null, JSON.stringify(timing));
    assert.equal(result.counts!.params, 2013);
  });

  test('early stopping: the stage stops once the validation loss has not improved for `patience` epochs', async () => {
    // minDelta far above any real improvement: after the first epoch nothing counts as better.
    const ctx = ctxFor(trainWith({ epochs: 20, batchSize: 256, earlyStopping: { patience: 2, minDelta: 100 } }), { features: data }, 'early');
    const result = await trainKind.run(ctx);
    const history = JSON.parse(Buffer.from(await storage.get(ctx.output.keyFor('history.json'))).toString('utf8')) as { epochs: unknown[] };
    assert.equal(history.epochs.length, 3, 'epoch 1, then two without improvement');
    assert.equal(result.counts!.steps, 3 * Math.ceil(result.counts!.trainEvents! / 256));
  });

  test('earlyStopDue follows the best validation loss, with minDelta and patience', () => {
    const h = (...losses: number[]) => losses.map((valLoss) => ({ valLoss }));
    const rule = { patience: 2, minDelta: 0.01 };
    assert.equal(earlyStopDue(h(1.0, 0.9, 0.8), rule), false);
    assert.equal(earlyStopDue(h(1.0, 0.9, 0.895, 0.899), rule), true, '0.895 is not better by more than 0.01');
    assert.equal(earlyStopDue(h(1.0, 0.9, 0.95, 0.85), rule), false, 'improved again at the last epoch');
    assert.equal(earlyStopDue(h(1.0, 1.1), rule), false, 'one epoch without improvement is within patience');
    assert.equal(earlyStopDue(h(1.0, 1.1, 1.2), undefined), false, 'no rule, no early stop');
  });

  test('model.json + weights.bin rebuild the trained model: same test-set predictions', async () => {
    const ctx = ctxFor(trainWith({ model: INCLUSIVE, epochs: 1 }), { features: data }, 'roundtrip');
    await trainKind.run(ctx);
    const get = async (name: string) => storage.get(ctx.output.keyFor(name));
    const built = decodeModel(Buffer.from(await get('model.json')).toString('utf8'), await get('weights.bin'));
    const needs = { hlf: true, particles: true, trim: true };
    const again = await evaluate(built, orderedRows(storage, parts('test-'), needs), parts('test-').reduce((s, p) => s + p.rows, 0), needs, 256);
    assert.deepEqual(Array.from(again.predictions), Array.from(new Float32Array(new Uint8Array(await get('predictions.bin')).buffer)));
    built.model.dispose();
  });

  for (const [name, spec] of [['hlf', HLF], ['inclusive (GRU, dropout)', INCLUSIVE]] as const) {
    test(`${name}: interrupted mid-epoch and resumed from the checkpoint = the uninterrupted run, bit for bit`, async () => {
      const cfg = { epochs: 2, batchSize: 64, learningRate: 1e-3, seed: 5, shuffleBuffer: 256, evalBatchSize: 256, checkpointSteps: 7, checkpointSeconds: 3600, trim: true };
      const run = async (folder: string, stopAfter?: number) => {
        const abort = new AbortController();
        const store = new CheckpointStore<TrainState>(storage, folder);
        const logs: string[] = [];
        const r = await train(spec, cfg, {
          data: storedData(storage, parts('train-'), parts('test-')), checkpoints: store, signal: abort.signal, log: (m) => logs.push(m),
          progress: (p) => {
            if (stopAfter !== undefined && p.done >= stopAfter) abort.abort();
          },
        });
        const weights = r.built.model.getWeights().map((w) => Array.from(w.dataSync()));
        r.built.model.dispose();
        return { r, weights, logs };
      };
      const clean = await run(`resume-${name}/clean`);
      const steps = clean.r.steps;
      const stopAt = Math.floor(steps * 0.75); // in the second epoch, between checkpoints
      await assert.rejects(run(`resume-${name}/cut`, stopAt), /training cancelled/);
      const resumed = await run(`resume-${name}/cut`);
      assert.ok(resumed.r.resumedFromStep !== null && resumed.r.resumedFromStep < stopAt && resumed.r.resumedFromStep > steps / 2, `resumed from step ${resumed.r.resumedFromStep} (cut at ${stopAt} of ${steps})`);
      assert.ok(resumed.logs.some((l) => /resuming from the checkpoint at step/.test(l)));
      assert.deepEqual(resumed.weights, clean.weights);
      assert.deepEqual(resumed.r.history.map((h) => [h.loss, h.accuracy, h.valLoss]), clean.r.history.map((h) => [h.loss, h.accuracy, h.valLoss]));
      assert.deepEqual(Array.from(resumed.r.predictions), Array.from(clean.r.predictions));
    });
  }

  test('a damaged newest checkpoint is skipped for the one before it', async () => {
    const store = new CheckpointStore<{ n: number }>(storage, 'ckpt-damaged', 3);
    await store.save(10, { n: 10 }, [{ name: 'a', shape: [2], values: Float32Array.of(1, 2) }]);
    await store.save(20, { n: 20 }, [{ name: 'a', shape: [2], values: Float32Array.of(3, 4) }]);
    await storage.put('ckpt-damaged/step-000000020/tensors.bin', new Uint8Array(8)); // bytes no longer match state.json
    const warnings: string[] = [];
    const latest = await store.latest((m) => warnings.push(m));
    assert.equal(latest?.step, 10);
    assert.deepEqual(Array.from(latest.tensors[0]!), [1, 2]);
    assert.match(warnings.join(), /step 20 is unusable \(tensors\.bin does not match/);
  });

  test('train → evaluate: metrics, figures and a report; AUCs match the saved predictions', async () => {
    const inputs: Record<string, StageManifest> = {};
    for (const [id, spec, epochs] of [['train-a', HLF, 2], ['train-b', INCLUSIVE, 1]] as const) {
      const ctx = ctxFor(trainWith({ model: spec, epochs }), { features: data }, id);
      const r = await trainKind.run(ctx);
      inputs[id] = { kind: 'train', outputs: ctx.output.outputs(), counts: r.counts } as unknown as StageManifest;
    }
    const ctx = ctxFor(evaluateKind.withSchema.parse({ pngWidth: 400 }), inputs, 'eval');
    const r = await evaluateKind.run(ctx);
    const names = ctx.output.outputs().map((o) => o.name);
    for (const n of ['metrics.json', 'report.md', 'roc-qcd.svg', 'roc-ttbar.png', 'roc-wjets.svg', 'rejection-ttbar.svg', 'rejection-wjets.png', 'loss-train-a.png', 'accuracy-train-b.svg', 'confusion-train-b.png']) assert.ok(names.includes(n), `${n} in ${names.join(', ')}`);
    const metrics = JSON.parse(Buffer.from(await storage.get(ctx.output.keyFor('metrics.json'))).toString()) as { models: Array<{ stage: string; auc: number[]; confusion: number[][]; testEvents: number; workingPoints: WorkingPoint[][] }> };
    const preds = new Float32Array(new Uint8Array(await storage.get(inputs['train-a']!.outputs.find((o) => o.name === 'predictions.bin')!.key)).buffer);
    const labels = new Int8Array(new Uint8Array(await storage.get(inputs['train-a']!.outputs.find((o) => o.name === 'labels.bin')!.key)).buffer);
    assert.deepEqual(metrics.models[0]!.auc, oneVsRest(preds, labels, 3).map((c) => c.auc));
    assert.deepEqual(metrics.models[0]!.workingPoints, JSON.parse(JSON.stringify([0, 1, 2].map((c) => workingPoints(preds, labels, 3, c)))) as WorkingPoint[][], 'working points per class at 99/95/90 %');
    const summary = r.summary as Record<string, { workingPoints: Array<Array<{ target: number; fpr: number }>> }>;
    assert.deepEqual(summary['train-a']!.workingPoints[1]!.map((w) => w.target), [0.99, 0.95, 0.9]);
    assert.match(r.report!, /\| at 99 % signal efficiency \| QCD: FPR \| QCD: rejection \|/);
    assert.equal(metrics.models[0]!.confusion.flat().reduce((a, b) => a + b, 0), metrics.models[0]!.testEvents);
    assert.match(r.report!, /\| model \| params \| AUC QCD \| AUC ttbar \| AUC W\+jets \| accuracy \| test events \|/);
    assert.match(r.report!, /\| hlf \| 2013 \| 0\.\d{4} \| 0\.\d{4} \| 0\.\d{4} \|/);
    const report = Buffer.from(await storage.get(ctx.output.keyFor('report.md'))).toString();
    assert.match(report, /!\[ROC, ttbar vs rest\]\(roc-ttbar\.png\)/);
    assert.match(report, /## Working points[\s\S]*at 95 % signal efficiency[\s\S]*The paper's claim[\s\S]*rejection-ttbar\.png/);
    const png = await storage.get(ctx.output.keyFor('roc-ttbar.png'));
    assert.deepEqual(Array.from(png.subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]);
  });

  test('a train stage without a features input says what it needs', async () => {
    await assert.rejects(trainKind.run(ctxFor(trainWith({}), {}, 'none')), /needs exactly one "features" stage among its needs, found 0/);
  });
});
