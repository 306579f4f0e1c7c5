/**
 * The parts of a sweep that load TensorFlow.js or hold data: drawing and
 * storing the sample, and running one trial on it. Kept apart from the stage
 * kind so that only processes that tune load them.
 */
import type { Storage } from '../../storage/index.js';
import { StorageNotFoundError } from '../../storage/index.js';
import { useBackend } from '../backend.js';
import { backendChoice, type BackendChoice } from '../backendChoice.js';
import type { DataNeeds, PartRef } from '../data.js';
import { usesInput, type ModelSpec } from '../modelSpec.js';
import type { TrainConfig } from '../trainer.js';
import { decodeSample, drawSample, encodeSample, type SampleSettings, type TuningSample } from './sample.js';
import { runTrial, type FoldScores, type TrialIO } from './trial.js';

/** Draws the sample into `key` unless a sweep over the same content already did. */
export async function ensureSample(storage: Storage, key: string, parts: PartRef[], needs: DataNeeds, s: SampleSettings, log: (m: string) => void): Promise<void> {
  if (await storage.stat(key)) {
    log(`reusing the tuning sample ${storage.uri(key)}`);
    return;
  }
  const sample = await drawSample(storage, parts, needs, s);
  await storage.putIfAbsent(key, encodeSample(sample));
  log(`drew a ${s.fraction} class-stratified sample: ${sample.rows.length} rows in ${s.folds} folds`);
}

/** The last sample read, per process: a worker runs many trials on the same one. */
let cached: { key: string; sample: TuningSample } | undefined;

async function loadSample(storage: Storage, key: string): Promise<TuningSample> {
  if (cached?.key === key) return cached.sample;
  let bytes: Uint8Array;
  try {
    bytes = await storage.get(key);
  } catch (err) {
    if (err instanceof StorageNotFoundError) throw new Error(`the tuning sample ${storage.uri(key)} is missing (deleted while the sweep ran?); re-run the stage with --force`);
    throw err;
  }
  cached = { key, sample: decodeSample(bytes) };
  return cached.sample;
}

export async function trialJob(storage: Storage, sampleKey: string, spec: ModelSpec, cfg: TrainConfig, backend: BackendChoice, io: TrialIO): Promise<{ folds: FoldScores[]; backend: string }> {
  const active = await useBackend(backendChoice(backend), { recurrent: usesInput(spec, 'particles') });
  const sample = await loadSample(storage, sampleKey);
  return { folds: await runTrial(sample, spec, cfg, io), backend: active.name };
}
