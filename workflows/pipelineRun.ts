/**
 * pipelineRun: one run of a pipeline DAG.
 *
 *   validate input → prepare (load + resolve the spec, in an activity)
 *   → run every stage whose needs are done, in parallel
 *   → a stage that fails after its retries holds until an operator sends
 *     `retry` (optionally with new params), `skip` or `abort`.
 *
 * Stages are cached by content (see runtime/stageRunner.ts), so re-running a
 * pipeline, or resuming a failed one, only runs what is not done yet. The
 * run's state and its transitions live in runState.ts; a long run continues
 * as new carrying that state (continuation.ts).
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import { RUN_ABORTED, type RunResult } from '../protocol/protocol.js';
import { continueAsNewDue, continueRun, parseCarried } from './continuation.js';
import { handleControls, progressQuery } from './controls.js';
import { invalidInput, parseInput, pipelineNameOf, prepareRun } from './runInput.js';
import { RunState } from './runState.js';
import { StageLifecycles } from './stageLifecycle.js';
import { publishRunAttributes, publishStageChange, runKindOf, showDetails, upsertRunAttributes } from './visibility.js';

export async function pipelineRun(rawInput: unknown, carried?: unknown): Promise<RunResult> {
  const input = parseInput(rawInput);
  const run = carried === undefined
    ? new RunState({ runId: wf.workflowInfo().workflowId, pipeline: pipelineNameOf(input), runKind: runKindOf(input.runKind), startedAt: Date.now(), params: input.params ?? {} }, publishStageChange)
    : RunState.restore(parseCarried(carried), publishStageChange);
  wf.setHandler(progressQuery, () => run.progress);
  const prepare = () => prepareRun(input, run.paramOverrides);

  if (carried === undefined) {
    const badForce = run.start(await prepare(), input.force);
    if (badForce) throw invalidInput(badForce);
    upsertRunAttributes(run.progress);
  } else {
    publishRunAttributes(run);
  }
  showDetails(run.progress);

  // Operator actions and stages that end bump `tick`: the scheduling loop below wakes on it.
  const stagesScope = new wf.CancellationScope();
  let tick = 0;
  const changed = () => void tick++;
  handleControls(run, stagesScope, changed);

  const stages = new StageLifecycles(run, stagesScope, prepare, changed);
  for (const id of run.stagesAtHold()) stages.launch(id, true);
  // Continue as new only with work left: before starting a stage, or while every active stage is held.
  const continueNow = () => continueAsNewDue(run, stages.allHeld, tick > 0);
  for (;;) {
    for (const id of run.startable()) {
      if (continueNow()) await continueRun(rawInput, run);
      stages.launch(id, false);
    }
    if (!stages.anyRunning) break;
    if (continueNow()) await continueRun(rawInput, run);
    const seen = tick;
    await wf.condition(() => tick !== seen || continueNow());
  }
  await wf.condition(wf.allHandlersFinished);

  const result = run.finish();
  showDetails(run.progress);
  if (result.status === 'aborted') throw ApplicationFailure.nonRetryable(`${RUN_ABORTED}${run.abortReason}`, 'Aborted', result);
  return result;
}
