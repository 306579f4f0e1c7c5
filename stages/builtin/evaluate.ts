/**
 * `evaluate`: scores every trained model among its needs on the test set
 * (the predictions each `train` stage saved), seed-pipeline.md §6: per class
 * one-vs-rest ROC and AUC, accuracy, confusion matrix, the working points
 * (false-positive rate and background rejection at 99/95/90 % signal
 * efficiency, ml/workingPoint.ts) and the loss/accuracy curves per epoch.
 * Writes metrics.json, SVG and PNG figures, and report.md; the run's summary
 * ends with the AUC table and the 99 % working points.
 */
import { z } from 'zod';
import type { SimpleStageKind } from '../kind.js';
import { BadInputError } from '../../common/errors.js';
import { writeFiles } from './writeFiles.js';

const With = z.strictObject({
  /** Points kept per stored ROC curve (the AUC always uses the full curve). */
  rocPoints: z.number().int().min(3).max(100_000).default(500),
  /** Also render each figure to PNG (SVG is always written). */
  png: z.boolean().default(true),
  /** PNG width in pixels. */
  pngWidth: z.number().int().min(100).max(8000).default(1200),
});
export type EvaluateWith = z.infer<typeof With>;

export const evaluate: SimpleStageKind<EvaluateWith> = {
  type: 'simple',
  name: 'evaluate',
  version: '2',
  description: 'ROC/AUC per class, accuracy, confusion matrices and training curves of the trained models; SVG/PNG figures and a report',
  withSchema: With,

  async run(ctx) {
    const models = Object.entries(ctx.inputs).filter(([, m]) => m.kind === 'train');
    if (!models.length) throw new BadInputError(`stage "${ctx.stageId}": none of its needs is a train stage (needs: ${Object.keys(ctx.inputs).join(', ') || 'none'})`);
    const { scoreModels } = await import('../../ml/report.js');
    const scored = await scoreModels(ctx.storage, models.map(([stageId, manifest]) => ({ stageId, outputs: manifest.outputs })), ctx.with, ctx);
    await writeFiles(ctx.output, scored.files);
    return { counts: scored.counts, summary: scored.summary, report: scored.report };
  },
};
