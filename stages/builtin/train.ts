/**
 * `train`: stage 4, one classifier (seed-pipeline.md §5) on stage 2's output.
 * Runs on the `train` task queue by default, so training can live on its own
 * (bigger) machines. Streams the train parts batch by batch, validates on the
 * test parts after every epoch, checkpoints to storage and resumes from the
 * newest checkpoint when a retried attempt starts.
 *
 * Outputs: model.json (spec, layout of weights.bin), weights.bin (float32),
 * history.json (per-epoch loss/accuracy, train and validation), timing.json
 * (volatile: per-epoch seconds and samples/s, the step a retry resumed from),
 * predictions.bin (float32 softmax outputs on the test set, n × 3, test-file
 * order) with labels.bin (int8) for `evaluate`.
 */
import { z } from 'zod';
import type { SimpleStageKind, StageContext } from '../kind.js';
import { ModelSpec } from '../../ml/modelSpec.js';
import { BackendChoice } from '../../ml/backendChoice.js';
import type { ClassifierSettings } from '../../ml/classifier.js';
import { featuresData } from './featuresInput.js';
import { TRAIN_DEFAULTS, TrainParams } from './trainParams.js';
import { bestTrial } from './tuneOutputs.js';
import { writeFiles } from './writeFiles.js';

const With = TrainParams.partial()
  .extend({
    /** A model from the file's `models:` section (by name) or an inline definition; with `tuned`, the best trial's unless given. */
    model: ModelSpec.optional(),
    /** A `tune` stage among needs: its best trial's model and settings, for what this stage does not set itself. */
    tuned: z.string().optional(),
    seed: z.number().int().nonnegative().default(42),
    /** `auto`: tfjs-node-gpu, tfjs-node, wasm, cpu: the first that loads (TOPOFLOW_BACKEND overrides auto). */
    backend: BackendChoice.default('auto'),
    evalBatchSize: z.number().int().min(1).default(256),
    /** Checkpoint every this many steps, and at least every `checkpointSeconds`, and after every epoch. */
    checkpointSteps: z.number().int().min(1).default(200),
    checkpointSeconds: z.number().positive().default(60),
    /** Trim masked particle padding per batch (exact under Masking(0); much faster). */
    trim: z.boolean().default(true),
    /** Stop early once the validation loss has not improved by more than `minDelta` for `patience` epochs; `epochs` is then a maximum. */
    earlyStopping: z.strictObject({ patience: z.number().int().min(1), minDelta: z.number().nonnegative().default(0) }).optional(),
    /** The input stage whose train/test parts to use (default: the one `features` stage among needs). */
    data: z.string().optional(),
  })
  .superRefine((w, ctx) => {
    if (w.model === undefined && w.tuned === undefined) ctx.addIssue({ code: 'custom', path: ['model'], message: 'missing required key "model" (a model name or definition), or `tuned: <a tune stage>`' });
  });
export type TrainWith = z.infer<typeof With>;

export const train: SimpleStageKind<TrainWith> = {
  type: 'simple',
  name: 'train',
  version: '7',
  description: 'Stage 4: trains one classifier (HLF dense net, particle GRU, inclusive GRU+HLF) with checkpoints',
  withSchema: With,
  queue: 'train',
  inputRefs: { tuned: 'tune' },

  async run(ctx) {
    const data = featuresData(ctx.stageId, ctx.inputs, ctx.with.data);
    const settings = await settingsOf(ctx);
    // TensorFlow.js loads only here: the CLI and other stages do not pay for it.
    const { trainClassifier } = await import('../../ml/classifier.js');
    const trained = await trainClassifier(ctx.storage, settings, data, ctx.checkpointFolder, ctx);
    await writeFiles(ctx.output, trained.files);
    // Shown in the run's summary and `topoflow status` (not part of the content hash).
    const resumed = trained.resumedFromStep === null ? {} : { report: `resumed from step ${trained.resumedFromStep} (its newest checkpoint) after an attempt was lost, e.g. to a dead worker` };
    return { counts: trained.counts, summary: trained.summary, ...resumed };
  },
};

/** The stage's own settings over the best trial's (with `tuned`) over TRAIN_DEFAULTS. */
async function settingsOf(ctx: StageContext<TrainWith>): Promise<ClassifierSettings> {
  const own = Object.fromEntries(Object.entries(ctx.with).filter(([, v]) => v !== undefined)) as TrainWith;
  if (ctx.with.tuned === undefined) return { ...TRAIN_DEFAULTS, ...own, model: own.model! };
  const best = await bestTrial(ctx.storage, ctx.stageId, ctx.with.tuned, ctx.inputs[ctx.with.tuned]);
  return { ...TRAIN_DEFAULTS, ...best.train, ...own, model: own.model ?? best.model };
}
