/**
 * Continue-as-new for pipelineRun. A run's history grows with its stages and
 * operator actions (see activities/progressSignals.ts for progress); when
 * Temporal suggests continuing as new, the run starts a new execution with the
 * same input and its state as a second argument. It only does so where no
 * stage has work in flight (no activity, child workflow or plan preparation):
 * between scheduling rounds, or while every active stage is held waiting for
 * an operator. The new execution resumes the held stages at their hold.
 */
import * as wf from '@temporalio/workflow';
import { z } from 'zod';
import { invalidInput, issuesText } from './runInput.js';
import type { RunSnapshot, RunState } from './runState.js';

/**
 * The state a previous execution carried. The run wrote it itself, so only
 * its shape is checked: a second argument typed into the Web UI's form fails
 * here rather than deep inside the run.
 */
const CarriedRun = z.object({
  progress: z.object({ runId: z.string(), order: z.array(z.string()), stages: z.record(z.string(), z.object({ status: z.string() }).passthrough()) }).passthrough(),
  overrides: z.record(z.string(), z.unknown()),
  abortedWith: z.string().optional(),
  prepared: z.object({ pipeline: z.string(), stages: z.array(z.object({ id: z.string() }).passthrough()) }).passthrough(),
  forced: z.array(z.string()),
  actions: z.record(z.string(), z.enum(['retry', 'skip'])),
  attempts: z.record(z.string(), z.number().int().nonnegative()),
});

export function parseCarried(raw: unknown): RunSnapshot {
  const parsed = CarriedRun.safeParse(raw);
  if (!parsed.success) throw invalidInput(`invalid pipelineRun carried state (the second argument, which only a continued run passes): ${issuesText(parsed.error)}`);
  return raw as RunSnapshot;
}

/**
 * Whether to continue as new now: Temporal suggests it, no stage has work in
 * flight, no update handler is running, and this execution got somewhere
 * (so a new one never continues at once).
 */
export const continueAsNewDue = (run: RunState, nothingInFlight: boolean, progressedHere: boolean): boolean =>
  wf.workflowInfo().continueAsNewSuggested && nothingInFlight && progressedHere && !run.aborted && wf.allHandlersFinished();

/** Ends this execution; the next one (pipelineRun's `carried` argument) starts from `run`'s state with the same input. */
export function continueRun(rawInput: unknown, run: RunState): Promise<never> {
  return wf.continueAsNew(rawInput, run.snapshot());
}
