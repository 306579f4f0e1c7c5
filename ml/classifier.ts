/**
 * Trains one classifier on stored train/test parts and returns the files that
 * describe it (model, weights, history, timings, test-set predictions). Kept
 * apart from the stage kind so that TensorFlow.js loads only in processes
 * that train.
 */
import type { Storage } from '../storage/index.js';
import { useBackend } from './backend.js';
import { backendChoice, type BackendChoice } from './backendChoice.js';
import { CheckpointStore } from './checkpoint.js';
import { verifyParts, type PartRef } from './data.js';
import type { JobCallbacks, JobResult } from './job.js';
import { usesInput, type ModelSpec } from './modelSpec.js';
import { needsOf, train, type EpochMetrics, type TrainConfig, type TrainState } from './trainer.js';
import type { BuiltModel } from './build.js';
import { streamedData } from './prefetch.js';
import { replicaCount } from './replicas.js';
import { encodeModel } from './modelFile.js';

export interface ClassifierSettings extends TrainConfig {
  model: ModelSpec;
  backend: BackendChoice;
}

export interface ClassifierData {
  train: PartRef[];
  test: PartRef[];
}

export type ClassifierSummary = {
  model: string | null;
  backend: string;
  params: number;
  valAccuracy: number;
  valLoss: number;
  /** A faster back end that only needs building (ActiveBackend.hint): the run's summary shows it. */
  hint?: string;
};

/**
 * `checkpointFolder` survives retries of the same job: a retried attempt
 * resumes from its newest checkpoint.
 */
export async function trainClassifier(
  storage: Storage,
  settings: ClassifierSettings,
  data: ClassifierData,
  checkpointFolder: string,
  io: JobCallbacks,
): Promise<JobResult<ClassifierSummary> & { resumedFromStep: number | null }> {
  const backend = await useBackend(backendChoice(settings.backend), { recurrent: usesInput(settings.model, 'particles') });
  io.log(`training "${settings.model.name ?? 'model'}" on the ${backend.name} back end: ${backend.description}`);
  // Every attempt checks its inputs: a retry may follow a worker that a damaged part crashed.
  await verifyParts(storage, [...data.train, ...data.test], (done, total) => io.progress({ done, total, unit: 'parts verified' }));
  const recurrent = usesInput(settings.model, 'particles');
  const stream = streamedData(storage, data.train, data.test, { recurrent });
  if (stream.prefetched) io.log('training batches are assembled on a worker thread, ahead of the step that uses them');
  const replicas = replicaCount(backend, { recurrent, trimmed: needsOf(settings.model, settings).trim });
  const result = await train(settings.model, settings, {
    replicas,
    data: stream,
    checkpoints: new CheckpointStore<TrainState>(storage, checkpointFolder),
    progress: (p) => io.progress(p),
    log: (m) => io.log(m),
    signal: io.signal,
  }).finally(() => stream.close?.());
  const out = classifierFiles(result.built, settings, backend.name, result.history, result.predictions, result.labels, { resumedFromStep: result.resumedFromStep, replicas, prefetched: stream.prefetched });
  result.built.model.dispose();
  return {
    ...out,
    ...(backend.hint ? { summary: { ...out.summary, hint: backend.hint } } : {}),
    counts: { ...out.counts, steps: result.steps, trainEvents: data.train.reduce((s, p) => s + p.rows, 0) },
    resumedFromStep: result.resumedFromStep,
  };
}

/**
 * The files a trained classifier is kept as, whether it trained in one process
 * or over rounds on many workers: model.json and weights.bin, history.json
 * (the per-epoch metrics: a function of data, spec and seed), timing.json
 * (wall-clock figures plus `timing`, volatile), and the test-set predictions.
 */
export function classifierFiles(
  built: BuiltModel,
  settings: Pick<ClassifierSettings, 'model' | 'seed'>,
  backend: string,
  history: EpochMetrics[],
  predictions: Float32Array,
  labels: Int8Array,
  timing: Record<string, unknown>,
): JobResult<ClassifierSummary> {
  const { json, weights, params } = encodeModel(built.model, settings.model, { seed: settings.seed, backend });
  const epochs = history.map(({ trainSeconds: _s, samplesPerSecond: _r, ...metrics }) => metrics);
  const timingFile = {
    backend,
    ...timing,
    samplesPerSecond: Math.round(mean(history.map((h) => h.samplesPerSecond))),
    epochs: history.map((h) => ({ epoch: h.epoch, trainSeconds: h.trainSeconds, samplesPerSecond: h.samplesPerSecond })),
  };
  const testRows = labels.length;
  const last = history[history.length - 1]!;
  return {
    files: [
      { name: 'weights.bin', body: weights },
      { name: 'model.json', body: json },
      { name: 'history.json', body: `${JSON.stringify({ model: settings.model.name ?? null, backend, epochs }, null, 1)}\n` },
      { name: 'timing.json', body: `${JSON.stringify(timingFile, null, 1)}\n`, volatile: true },
      { name: 'predictions.bin', body: bytesOf(predictions), rows: testRows },
      { name: 'labels.bin', body: bytesOf(labels), rows: testRows },
    ],
    counts: { params, testEvents: testRows },
    summary: { model: settings.model.name ?? null, backend, params, valAccuracy: last.valAccuracy, valLoss: last.valLoss },
  };
}

const bytesOf = (a: Float32Array | Int8Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
