/**
 * `backend: torch`: trains one classifier with the Python training kernel
 * (kernels/torch/) and returns the same files as ml/classifier.ts, so the
 * stage's outputs, caching and `evaluate` are unchanged: weights.bin and
 * model.json (the weights are torch's tensors, named after the spec's places:
 * `particles_1_gru/weight_ih_l0`), history.json, timing.json (volatile),
 * predictions.bin, labels.bin, plus model.pt (the state dict, for torch users).
 * The kernel reads the parts and writes checkpoints in storage itself; this
 * side verifies the parts first, passes the job, relays progress and logs.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BadInputError } from '../common/errors.js';
import { LocalStorage, S3Storage, type Storage } from '../storage/index.js';
import type { TorchDevice } from './backendChoice.js';
import type { ClassifierData, ClassifierSettings, ClassifierSummary } from './classifier.js';
import { verifyParts, type PartRef } from './data.js';
import type { JobCallbacks, JobResult } from './job.js';
import { runKernel, torchPython } from './torchKernel.js';

export type TorchSettings = Omit<ClassifierSettings, 'backend'> & { backend: 'torch'; device: TorchDevice };

export async function trainTorchClassifier(
  storage: Storage,
  settings: TorchSettings,
  data: ClassifierData,
  checkpointFolder: string,
  io: JobCallbacks,
  env: NodeJS.ProcessEnv = process.env,
): Promise<JobResult<ClassifierSummary> & { resumedFromStep: number | null }> {
  const found = torchPython(env);
  if ('problem' in found) throw new BadInputError(`backend: torch: ${found.problem}`);
  await verifyParts(storage, [...data.train, ...data.test], (done, total) => io.progress({ done, total, unit: 'parts verified' }));
  const outDir = await mkdtemp(join(tmpdir(), 'topoflow-torch-'));
  try {
    const { model: spec, backend: _b, device, ...cfg } = settings;
    const job = {
      spec,
      ...cfg,
      earlyStopping: cfg.earlyStopping ?? null,
      device,
      threads: torchThreads(env),
      storage: kernelStorage(storage),
      train: data.train.map(partOf),
      test: data.test.map(partOf),
      checkpointFolder,
      outDir,
    };
    const threads = String(job.threads);
    const done = await runKernel(job, io, { python: found.python, env: { ...env, OMP_NUM_THREADS: threads, MKL_NUM_THREADS: threads } }, (h, pid) =>
      io.log(`training "${spec.name ?? 'model'}" on the torch back end: torch ${h.torch} on ${h.device}, ${h.params} parameters (kernel pid ${pid}, ${found.python})`),
    );
    const read = (name: string) => readFile(join(outDir, name));
    const backend = 'torch';
    const modelJson = { format: 'topoflow.model/1', spec, seed: settings.seed, backend, params: done.params, weights: done.weights, torch: { version: done.torch, device: done.device } };
    const epochs = done.history.map(({ trainSeconds: _s, samplesPerSecond: _r, ...metrics }) => metrics);
    const timing = {
      backend,
      device: done.device,
      resumedFromStep: done.resumedFromStep,
      samplesPerSecond: Math.round(mean(done.history.map((h) => h.samplesPerSecond))),
      epochs: done.history.map((h) => ({ epoch: h.epoch, trainSeconds: h.trainSeconds, samplesPerSecond: h.samplesPerSecond })),
    };
    const last = done.history[done.history.length - 1];
    if (!last) throw new Error('the torch kernel finished without a trained epoch');
    return {
      files: [
        { name: 'weights.bin', body: await read('weights.bin') },
        { name: 'model.json', body: `${JSON.stringify(modelJson, null, 1)}\n` },
        { name: 'model.pt', body: await read('model.pt') },
        { name: 'history.json', body: `${JSON.stringify({ model: spec.name ?? null, backend, epochs }, null, 1)}\n` },
        { name: 'timing.json', body: `${JSON.stringify(timing, null, 1)}\n`, volatile: true },
        { name: 'predictions.bin', body: await read('predictions.bin'), rows: done.testRows },
        { name: 'labels.bin', body: await read('labels.bin'), rows: done.testRows },
      ],
      counts: { params: done.params, steps: done.steps, testEvents: done.testRows, trainEvents: data.train.reduce((s, p) => s + p.rows, 0) },
      summary: { model: spec.name ?? null, backend, params: done.params, valAccuracy: last.valAccuracy, valLoss: last.valLoss },
      resumedFromStep: done.resumedFromStep,
    };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

/** Where the kernel finds the pipeline's storage; S3 credentials come from its environment, never from the job. */
export function kernelStorage(storage: Storage): Record<string, string | undefined> {
  if (storage instanceof LocalStorage) return { kind: 'local', root: storage.root };
  if (storage instanceof S3Storage) return { kind: 's3', bucket: storage.bucket, prefix: storage.prefix, endpoint: storage.endpoint, region: storage.region };
  throw new BadInputError('backend: torch supports local and S3 storage only');
}

/**
 * torch's intra-op threads: TOPOFLOW_THREADS, else one. These models are tiny
 * (a few thousand parameters), so extra threads mostly synchronise; on the
 * shared, loaded 2-core machine 2 threads trained 19-32x slower than 1 (bench/RESULTS.md).
 */
export function torchThreads(env: NodeJS.ProcessEnv): number {
  const n = Number(env.TOPOFLOW_THREADS);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, availableParallelism()) : 1;
}

const partOf = (p: PartRef) => ({ key: p.key, rows: p.rows, bytes: p.bytes });
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length);
