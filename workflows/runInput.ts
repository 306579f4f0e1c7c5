/**
 * The run's boundary: its input, validated, and its plan, prepared by an
 * activity. Both fail the run non-retryably: retrying cannot fix either.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { z } from 'zod';
import type { Params } from '../config/spec.js';
import { innermostMessage } from '../protocol/errors.js';
import { PipelineRunInput, type PreparedRun } from '../protocol/protocol.js';
import { controlActivities } from './activityOptions.js';

/** The input after validation (defaults applied). */
export type RunInput = z.output<typeof PipelineRunInput>;

export const invalidInput = (message: string) => ApplicationFailure.nonRetryable(message, 'InvalidInput');

/** A zod error's issues on one line, each with its path. */
export const issuesText = (error: z.ZodError): string => error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');

export function parseInput(raw: unknown): RunInput {
  const parsed = PipelineRunInput.safeParse(raw);
  if (!parsed.success) throw invalidInput(`invalid pipelineRun input: ${issuesText(parsed.error)}`);
  return parsed.data;
}

/** The name to show until the plan gives the spec's own. */
export const pipelineNameOf = (input: RunInput): string => (typeof input.pipeline === 'string' ? input.pipeline : input.pipeline.name);

/** Loads and resolves the spec, with `params` over its defaults (the prepareRun activity). */
export function prepareRun(input: RunInput, params: Params): Promise<PreparedRun> {
  return controlActivities()
    .prepareRun({ pipeline: input.pipeline, params, ...(input.specFile ? { specFile: input.specFile } : {}), ...(input.storage ? { storage: input.storage } : {}) })
    .catch((err: unknown) => {
      throw ApplicationFailure.nonRetryable(innermostMessage(err), 'InvalidSpec');
    });
}
