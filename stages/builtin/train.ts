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
 *
 * With `workers: N` > 1 the stage is a fan-out of rounds instead
 * (trainDistributed.ts): the same outputs, trained data-parallel. With
 * `backend: torch` the Python kernel trains (ml/torchClassifier.ts): the same
 * outputs plus model.pt.
 */
import type { SimpleStageKind } from '../kind.js';
import { featuresData } from './featuresInput.js';
import { settingsOf, TRAIN_VERSION, TrainWith } from './trainSettings.js';
import { distributedTrain } from './trainDistributed.js';
import { writeFiles } from './writeFiles.js';

export type { TrainWith } from './trainSettings.js';

export const train: SimpleStageKind<TrainWith> = {
  type: 'simple',
  name: 'train',
  version: TRAIN_VERSION,
  description: 'Stage 4: trains one classifier (HLF dense net, particle GRU, inclusive GRU+HLF) with checkpoints',
  withSchema: TrainWith,
  queue: 'train',
  inputRefs: { tuned: 'tune' },
  fanoutFor: (w) => (w.workers !== undefined && w.workers > 1 ? distributedTrain : undefined),

  async run(ctx) {
    const data = featuresData(ctx.stageId, ctx.inputs, ctx.with.data);
    const settings = await settingsOf(ctx);
    // TensorFlow.js (or the torch kernel's runner) loads only here: the CLI and other stages do not pay for it.
    const { backend, device, ...common } = settings;
    const trained =
      backend === 'torch'
        ? await (await import('../../ml/torchClassifier.js')).trainTorchClassifier(ctx.storage, { ...common, backend, device: device ?? 'auto' }, data, ctx.checkpointFolder, ctx)
        : await (await import('../../ml/classifier.js')).trainClassifier(ctx.storage, { ...common, backend }, data, ctx.checkpointFolder, ctx);
    await writeFiles(ctx.output, trained.files);
    // Shown in the run's summary and `topoflow status` (not part of the content hash).
    const resumed = trained.resumedFromStep === null ? {} : { report: `resumed from step ${trained.resumedFromStep} (its newest checkpoint) after an attempt was lost, e.g. to a dead worker` };
    return { counts: trained.counts, summary: trained.summary, ...resumed };
  },
};
