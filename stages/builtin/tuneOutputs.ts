/**
 * best.json, the result of a `tune` stage that a `train` stage with
 * `tuned: <stage>` reads: the winning trial's concrete model and train
 * settings, its score with the spread over folds, and the runners-up.
 */
import { z } from 'zod';
import type { StageManifest } from '../../protocol/manifest.js';
import { BadInputError } from '../../common/errors.js';
import { ModelSpec } from '../../ml/modelSpec.js';
import type { Storage } from '../../storage/index.js';
import { getVerified } from '../../storage/verified.js';
import { TrainParams } from './trainParams.js';

export const BEST_FILE = 'best.json';

const Ranked = z.object({
  id: z.number().int(),
  rung: z.number().int(),
  point: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])),
  epochs: z.number().int(),
  mean: z.number().nullable(),
  std: z.number().nullable(),
  folds: z.array(z.number().nullable()),
});

export const BestTrialFile = z.object({
  format: z.literal('topoflow.tune-best/1'),
  metric: z.enum(['auc', 'accuracy', 'loss']),
  higherIsBetter: z.boolean(),
  search: z.enum(['grid', 'random', 'halving']),
  candidates: z.number().int(),
  trials: z.number().int(),
  pruned: z.number().int(),
  best: Ranked,
  model: ModelSpec,
  train: TrainParams,
  top: z.array(Ranked),
});
export type BestTrialFile = z.infer<typeof BestTrialFile>;

/** The best trial of the tune stage `tuneId` (a need of `stageId`), checked against its manifest record. */
export async function bestTrial(storage: Storage, stageId: string, tuneId: string, manifest: StageManifest | undefined): Promise<BestTrialFile> {
  const entry = manifest?.kind === 'tune' ? manifest.outputs.find((o) => o.name === BEST_FILE) : undefined;
  if (!manifest || !entry) {
    const why = !manifest ? 'is not among its needs' : manifest.kind !== 'tune' ? `is a "${manifest.kind}" stage, not a tune stage` : `has no ${BEST_FILE}`;
    throw new BadInputError(`stage "${stageId}": tuned: "${tuneId}" ${why}`);
  }
  const parsed = BestTrialFile.safeParse(JSON.parse(Buffer.from(await getVerified(storage, entry)).toString('utf8')));
  if (!parsed.success) throw new BadInputError(`stage "${stageId}": ${entry.uri} is not a readable ${BEST_FILE}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
