/**
 * The `train` stage's settings: its `with` schema, and the settings a run
 * trains with (its own keys over a tune stage's best trial over the defaults).
 * Shared by the single-process kind (train.ts) and its data-parallel form
 * (trainDistributed.ts).
 */
import { z } from 'zod';
import type { StageContext } from '../kind.js';
import { ModelSpec } from '../../ml/modelSpec.js';
import { TorchDevice, TrainBackendChoice } from '../../ml/backendChoice.js';
import type { ClassifierSettings } from '../../ml/classifier.js';
import { TRAIN_DEFAULTS, TrainParams } from './trainParams.js';
import { bestTrial } from './tuneOutputs.js';

/**
 * The code version of `train` in both its forms (bump it whenever a stage's
 * outputs for the same inputs would change). 8: a dense-only model (hlf)
 * trains without the gradient tape (ml/denseStep.ts): the same within float
 * tolerance, not the same bits.
 */
export const TRAIN_VERSION = '8';

export const TrainWith = TrainParams.partial()
  .extend({
    /** A model from the file's `models:` section (by name) or an inline definition; with `tuned`, the best trial's unless given. */
    model: ModelSpec.optional(),
    /** A `tune` stage among needs: its best trial's model and settings, for what this stage does not set itself. */
    tuned: z.string().optional(),
    seed: z.number().int().nonnegative().default(42),
    /** `auto`: tfjs-node-gpu, tfjs-node, wasm, cpu: the first that loads (TOPOFLOW_BACKEND overrides auto); `torch`: the Python kernel (kernels/torch/). */
    backend: TrainBackendChoice.default('auto'),
    /** With `backend: torch`: `auto` (the default) trains on CUDA when torch sees a GPU, else on the CPU. No default here, so other stages' keys do not change. */
    device: TorchDevice.optional(),
    evalBatchSize: z.number().int().min(1).default(256),
    /** Checkpoint every this many steps, and at least every `checkpointSeconds`, and after every epoch. */
    checkpointSteps: z.number().int().min(1).default(200),
    checkpointSeconds: z.number().positive().default(60),
    /** Trim masked particle padding per batch (exact under Masking(0); much faster). */
    trim: z.boolean().default(true),
    /** Stop early once the validation loss has not improved by more than `minDelta` for `patience` epochs; `epochs` is then a maximum. */
    earlyStopping: z.strictObject({ patience: z.number().int().min(1), minDelta: z.number().nonnegative().default(0) }).optional(),
    /** Learning-rate steps: from epoch `fromEpoch` (1-based) on, `learningRate × factor`; e.g. the seed's distributed runs: [{fromEpoch: 4, factor: 0.4}, {fromEpoch: 6, factor: 0.2}]. */
    lrSchedule: z.array(z.strictObject({ fromEpoch: z.number().int().min(1), factor: z.number().positive().max(1000) })).min(1).optional(),
    /** The input stage whose train/test parts to use (default: the one `features` stage among needs). */
    data: z.string().optional(),
    /** Data-parallel training over this many train workers, in synchronised rounds (1: one process, as without it). */
    workers: z.number().int().min(1).max(1024).optional(),
    /** With workers > 1: global steps between synchronisations (1: fully synchronous SGD). */
    syncEvery: z.number().int().min(1).optional(),
    /** With workers > 1: `linear` multiplies the learning rate by the number of workers (the seed's distributed runs did). */
    lrScaling: z.enum(['none', 'linear']).optional(),
  })
  .superRefine((w, ctx) => {
    if (w.device !== undefined && w.backend !== 'torch') ctx.addIssue({ code: 'custom', path: ['device'], message: '`device` applies to `backend: torch` only (the TensorFlow.js back ends choose their device by name: tensorflow-gpu)' });
    if (w.backend === 'torch' && (w.workers ?? 1) > 1) ctx.addIssue({ code: 'custom', path: ['workers'], message: 'data-parallel training (workers > 1) runs on the TensorFlow.js back ends only, not on `backend: torch`' });
    if (w.lrSchedule !== undefined && w.backend === 'torch') ctx.addIssue({ code: 'custom', path: ['lrSchedule'], message: '`lrSchedule` applies to the TensorFlow.js back ends only (not yet to `backend: torch`)' });
    if (w.model === undefined && w.tuned === undefined) ctx.addIssue({ code: 'custom', path: ['model'], message: 'missing required key "model" (a model name or definition), or `tuned: <a tune stage>`' });
    if ((w.workers ?? 1) === 1) {
      for (const key of ['syncEvery', 'lrScaling'] as const) {
        if (w[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `"${key}" applies to data-parallel training only: set "workers" to 2 or more, or remove it` });
      }
    }
  })
  // `workers: 1` is the default written out: the same stage, so the same cache key.
  .transform(({ workers, ...w }): typeof w & { workers?: number } => (workers === undefined || workers === 1 ? w : { ...w, workers }));
export type TrainWith = z.output<typeof TrainWith>;

/** What a train stage trains with: a TensorFlow.js back end (ml/classifier.ts) or torch (ml/torchClassifier.ts, with `device`). */
export type TrainSettings = Omit<ClassifierSettings, 'backend'> & Pick<TrainWith, 'backend' | 'device'>;

/** The stage's own settings over the best trial's (with `tuned`) over TRAIN_DEFAULTS. */
export async function settingsOf(ctx: Pick<StageContext<TrainWith>, 'stageId' | 'with' | 'inputs' | 'storage'>): Promise<TrainSettings> {
  const own = Object.fromEntries(Object.entries(ctx.with).filter(([, v]) => v !== undefined)) as TrainWith;
  if (ctx.with.tuned === undefined) return { ...TRAIN_DEFAULTS, ...own, model: own.model! };
  const best = await bestTrial(ctx.storage, ctx.stageId, ctx.with.tuned, ctx.inputs[ctx.with.tuned]);
  return { ...TRAIN_DEFAULTS, ...best.train, ...own, model: own.model ?? best.model };
}
