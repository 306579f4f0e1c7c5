/**
 * One trial of a sweep: a concrete model and train settings, trained k times
 * (once per fold held out) on a tuning sample in memory, scored on the held-out
 * fold. No checkpoints: a trial is short, and a lost attempt is simply redone.
 */
import { CLASSES } from '../../hep/layout.js';
import { accuracy, argmaxRows, oneVsRest } from '../metrics.js';
import type { ModelSpec } from '../modelSpec.js';
import { train, type TrainConfig } from '../trainer.js';
import { memoryData } from '../trainingData.js';
import { foldSplit, type TuningSample } from './sample.js';

/** What the sweep can optimise: mean one-vs-rest AUC, accuracy (higher is better) or cross-entropy (lower). */
export type TuneMetric = 'auc' | 'accuracy' | 'loss';
export const higherIsBetter = (m: TuneMetric) => m !== 'loss';

export interface FoldScores {
  auc: number;
  accuracy: number;
  loss: number;
  /** Epochs trained (fewer than asked when early stopping ended it). */
  epochs: number;
}

export interface TrialIO {
  /** Steps of the fold being trained, and a line on it. */
  progress(p: { done: number; total: number; message: string }): void;
  log(message: string): void;
  signal: AbortSignal;
}

export async function runTrial(sample: TuningSample, spec: ModelSpec, cfg: TrainConfig, io: TrialIO): Promise<FoldScores[]> {
  const scores: FoldScores[] = [];
  for (let f = 0; f < sample.folds; f++) {
    const { train: rows, test } = foldSplit(sample, f);
    const result = await train(spec, cfg, {
      data: memoryData(rows, test),
      progress: (p) => io.progress({ done: p.done, total: p.total, message: `fold ${f + 1}/${sample.folds} · ${p.message}` }),
      log: () => undefined,
      signal: io.signal,
    });
    result.built.model.dispose();
    scores.push(foldScores(result.predictions, result.labels, result.history.length, result.history[result.history.length - 1]?.valLoss ?? Number.NaN));
  }
  return scores;
}

export function foldScores(predictions: Float32Array, labels: Int8Array, epochs: number, loss: number): FoldScores {
  const aucs = oneVsRest(predictions, labels, CLASSES).map((c) => c.auc);
  return { auc: mean(aucs), accuracy: accuracy(labels, argmaxRows(predictions, CLASSES)), loss, epochs };
}

export const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

/** Sample standard deviation (n − 1), 0 for fewer than two values. */
export function std(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
}
