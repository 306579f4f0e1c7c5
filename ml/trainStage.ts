/**
 * The `train` stage's body, kept apart from stages/builtin/train.ts so that
 * TensorFlow.js loads only in processes that train.
 */
import type { StageContext, StageResult } from '../stages/kind.js';
import type { TrainWith } from '../stages/builtin/train.js';
import { useBackend } from './backend.js';
import { backendChoice } from './backendChoice.js';
import { CheckpointStore } from './checkpoint.js';
import { verifyParts, type PartRef } from './data.js';
import { train, type TrainState } from './trainer.js';
import { encodeModel } from './modelFile.js';

export async function runTraining(ctx: StageContext<TrainWith>, trainParts: PartRef[], testParts: PartRef[]): Promise<StageResult> {
  const w = ctx.with;
  const backend = await useBackend(backendChoice(w.backend));
  ctx.log(`training "${w.model.name ?? 'model'}" on the ${backend.name} back end: ${backend.description}`);
  // Every attempt checks its inputs: a retry may follow a worker that a damaged part crashed.
  await verifyParts(ctx.storage, [...trainParts, ...testParts], (done, total) => ctx.progress({ done, total, unit: 'parts verified' }));
  const result = await train(w.model, w, {
    storage: ctx.storage,
    train: trainParts,
    test: testParts,
    checkpoints: new CheckpointStore<TrainState>(ctx.storage, ctx.checkpointFolder),
    progress: (p) => ctx.progress(p),
    log: (m) => ctx.log(m),
    signal: ctx.signal,
  });
  const { json, weights, params } = encodeModel(result.built.model, w.model, { seed: w.seed, backend: backend.name });
  await ctx.output.write('weights.bin', weights);
  await ctx.output.write('model.json', json);
  // The metrics are a function of the data, spec and seed; wall-clock figures go apart, as a volatile output.
  const epochs = result.history.map(({ trainSeconds: _s, samplesPerSecond: _r, ...metrics }) => metrics);
  await ctx.output.write('history.json', `${JSON.stringify({ model: w.model.name ?? null, backend: backend.name, epochs }, null, 1)}\n`);
  const timing = {
    backend: backend.name,
    resumedFromStep: result.resumedFromStep,
    samplesPerSecond: Math.round(mean(result.history.map((h) => h.samplesPerSecond))),
    epochs: result.history.map((h) => ({ epoch: h.epoch, trainSeconds: h.trainSeconds, samplesPerSecond: h.samplesPerSecond })),
  };
  await ctx.output.write('timing.json', `${JSON.stringify(timing, null, 1)}\n`, { volatile: true });
  await ctx.output.write('predictions.bin', bytesOf(result.predictions), { rows: result.labels.length });
  await ctx.output.write('labels.bin', bytesOf(result.labels), { rows: result.labels.length });
  result.built.model.dispose();
  const last = result.history[result.history.length - 1]!;
  return {
    counts: { params, steps: result.steps, testEvents: result.labels.length, trainEvents: trainParts.reduce((s, p) => s + p.rows, 0) },
    summary: {
      model: w.model.name ?? null,
      backend: backend.name,
      params,
      valAccuracy: last.valAccuracy,
      valLoss: last.valLoss,
    },
  };
}

const bytesOf = (a: Float32Array | Int8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
