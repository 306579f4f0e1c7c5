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
import type { StageManifest } from '../../protocol/manifest.js';
import { BadInputError } from '../../common/errors.js';
import { ModelSpec } from '../../ml/modelSpec.js';
import { BackendChoice } from '../../ml/backendChoice.js';
import type { PartRef } from '../../ml/data.js';
import type { ClassifierData } from '../../ml/classifier.js';
import { writeFiles } from './writeFiles.js';

const With = z.strictObject({
  /** A model from the file's `models:` section (by name) or an inline definition. */
  model: ModelSpec,
  epochs: z.number().int().min(1).max(10_000).default(5),
  batchSize: z.number().int().min(1).max(65_536).default(128),
  learningRate: z.number().positive().max(10).default(1e-3),
  seed: z.number().int().nonnegative().default(42),
  /** `auto`: tfjs-node-gpu, tfjs-node, wasm, cpu: the first that loads (TOPOFLOW_BACKEND overrides auto). */
  backend: BackendChoice.default('auto'),
  /** Rows in the shuffle buffer (each epoch also shuffles parts and row groups). */
  shuffleBuffer: z.number().int().min(1).default(2048),
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
});
export type TrainWith = z.infer<typeof With>;

export const train: SimpleStageKind<TrainWith> = {
  type: 'simple',
  name: 'train',
  version: '5',
  description: 'Stage 4: trains one classifier (HLF dense net, particle GRU, inclusive GRU+HLF) with checkpoints',
  withSchema: With,
  queue: 'train',

  async run(ctx) {
    const data = datasetOf(ctx);
    // TensorFlow.js loads only here: the CLI and other stages do not pay for it.
    const { trainClassifier } = await import('../../ml/classifier.js');
    const trained = await trainClassifier(ctx.storage, ctx.with, data, ctx.checkpointFolder, ctx);
    await writeFiles(ctx.output, trained.files);
    // Shown in the run's summary and `topoflow status` (not part of the content hash).
    const resumed = trained.resumedFromStep === null ? {} : { report: `resumed from step ${trained.resumedFromStep} (its newest checkpoint) after an attempt was lost, e.g. to a dead worker` };
    return { counts: trained.counts, summary: trained.summary, ...resumed };
  },
};

function datasetOf(ctx: StageContext<TrainWith>): ClassifierData {
  const candidates = Object.entries(ctx.inputs).filter(([id, m]) => (ctx.with.data ? id === ctx.with.data : m.kind === 'features'));
  if (candidates.length !== 1) {
    const what = ctx.with.data ? `input "${ctx.with.data}" is not among its needs (${Object.keys(ctx.inputs).join(', ') || 'none'})` : `it needs exactly one "features" stage among its needs, found ${candidates.length}; name one with with.data`;
    throw new BadInputError(`stage "${ctx.stageId}": ${what}`);
  }
  const [id, manifest] = candidates[0]!;
  const parts = (prefix: string) => partsOf(manifest, prefix);
  const train = parts('train-');
  const test = parts('test-');
  if (!train.length || !test.length) throw new BadInputError(`stage "${ctx.stageId}": input "${id}" has no train-*.parquet or test-*.parquet outputs (is it a features stage?)`);
  return { train, test };
}

function partsOf(m: StageManifest, prefix: string): PartRef[] {
  return m.outputs
    .filter((o) => o.name.split('/').pop()!.startsWith(prefix) && o.name.endsWith('.parquet'))
    .map((o) => ({ key: o.key, rows: o.rows ?? 0, bytes: o.bytes, sha256: o.sha256 }))
    .sort((a, b) => (a.key < b.key ? -1 : 1));
}
