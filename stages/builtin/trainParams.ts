/**
 * The settings of a training run that a sweep may tune (a `tune` stage's
 * `space` names them). They have no schema defaults in `train`: `tuned:`
 * fills the ones a stage leaves out from the best trial, then TRAIN_DEFAULTS
 * the rest, so only what a stage writes overrides the sweep.
 */
import { z } from 'zod';

export const TrainParams = z.strictObject({
  epochs: z.number().int().min(1).max(10_000),
  batchSize: z.number().int().min(1).max(65_536),
  learningRate: z.number().positive().max(10),
  /** Rows in the shuffle buffer (each epoch also shuffles parts and row groups). */
  shuffleBuffer: z.number().int().min(1),
});
export type TrainParams = z.infer<typeof TrainParams>;

export const TRAIN_DEFAULTS: TrainParams = { epochs: 5, batchSize: 128, learningRate: 1e-3, shuffleBuffer: 2048 };

export const TRAIN_PARAM_NAMES = Object.keys(TrainParams.shape) as Array<keyof TrainParams>;
