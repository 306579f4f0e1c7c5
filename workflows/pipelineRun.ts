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
import { innermostMessage } from '../protocol/errors.js';
import { RUN_ABORTED, type RunResult } from '../protocol/protocol.js';
import { continueAsNewDue, continueRun, parseCarried } from './continuation.js';
import { handleControls, progressQuery } from './controls.js';
import { invalidInput, parseInput, pipelineNameOf, prepareRun } from './runInput.js';
import { RunState } from './runState.js';
import { attemptStage } from './stageAttempt.js';
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

  // Stages being run, and how many of them wait at their hold (nothing in flight for those).
  let running = 0;
  let atHold = 0;

  /** One attempt; true when it failed and the stage now holds. */
  const attempt = async (id: string): Promise<boolean> => {
    try {
      const n = run.attemptOf(id);
      const outcome = await attemptStage(run.stageRequest(id, n), n);
      run.stageFinished(id, outcome, Date.now());
      return false;
    } catch (err) {
      if (run.aborted || wf.isCancellation(err)) {
        run.stageCancelled(id, Date.now());
        return false;
      }
      run.stageHeld(id, innermostMessage(err));
      return true;
    }
  };

  /** Waits for the operator; true when the stage is to run again. */
  const afterHold = async (id: string): Promise<boolean> => {
    atHold++;
    // Not cancellable: an abort ends the hold through the run's state, and the stage records it.
    await wf.CancellationScope.nonCancellable(() => wf.condition(() => run.holdEnded(id)));
    atHold--;
    if (run.takeAction(id, Date.now()) !== 'retry') return false;
    if (run.hasParamOverrides) run.replan(await prepare());
    run.stageRetrying(id);
    return true;
  };

  /** A stage from its start, or (`held`) from its hold in a continued run, until it ends. */
  const runStage = async (id: string, held: boolean): Promise<void> => {
    if (!held) run.stageStarted(id, Date.now());
    else if (!(await afterHold(id))) return;
    while (await attempt(id)) {
      if (!(await afterHold(id))) return;
    }
  };

  const launch = (id: string, held: boolean) => {
    running++;
    void stagesScope.run(() => runStage(id, held)).finally(() => {
      running--;
      changed();
    });
  };

  for (const id of run.stagesAtHold()) launch(id, true);
  // Continue as new only with work left: before starting a stage, or while every active stage is held.
  const continueNow = () => continueAsNewDue(run, running === atHold, tick > 0);
  for (;;) {
    for (const id of run.startable()) {
      if (continueNow()) await continueRun(rawInput, run);
      launch(id, false);
    }
    if (running === 0) break;
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
