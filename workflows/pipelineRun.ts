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
 * run's state and its transitions live in runState.ts.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure } from '@temporalio/common';
import { innermostMessage } from '../protocol/errors.js';
import type { RunResult } from '../protocol/protocol.js';
import { handleControls, progressQuery } from './controls.js';
import { invalidInput, parseInput, pipelineNameOf, prepareRun } from './runInput.js';
import { RunState } from './runState.js';
import { attemptStage } from './stageAttempt.js';
import { publishStageChange, runKindOf, showDetails, upsertRunAttributes } from './visibility.js';

export async function pipelineRun(rawInput: unknown): Promise<RunResult> {
  const input = parseInput(rawInput);
  const run = new RunState({ runId: wf.workflowInfo().workflowId, pipeline: pipelineNameOf(input), runKind: runKindOf(input.runKind), startedAt: Date.now(), params: input.params ?? {} }, publishStageChange);
  wf.setHandler(progressQuery, () => run.progress);
  const prepare = () => prepareRun(input, run.paramOverrides);

  const badForce = run.start(await prepare(), input.force);
  if (badForce) throw invalidInput(badForce);
  upsertRunAttributes(run.progress);
  showDetails(run.progress);

  // Operator actions and stages that end bump `tick`: the scheduling loop below wakes on it.
  const stagesScope = new wf.CancellationScope();
  let tick = 0;
  const changed = () => void tick++;
  handleControls(run, stagesScope, changed);

  const runStage = async (id: string): Promise<void> => {
    run.stageStarted(id, Date.now());
    for (let attempt = 0; ; attempt++) {
      try {
        const outcome = await attemptStage(run.stageRequest(id, attempt), attempt);
        return run.stageFinished(id, outcome, Date.now());
      } catch (err) {
        if (run.aborted || wf.isCancellation(err)) return run.stageCancelled(id, Date.now());
        run.stageHeld(id, innermostMessage(err));
        // Not cancellable: an abort ends the hold through the run's state, and the stage records it.
        await wf.CancellationScope.nonCancellable(() => wf.condition(() => run.holdEnded(id)));
        if (run.takeAction(id, Date.now()) !== 'retry') return;
        if (run.hasParamOverrides) run.replan(await prepare());
        run.stageRetrying(id);
      }
    }
  };

  let running = 0;
  for (;;) {
    for (const id of run.startable()) {
      running++;
      void stagesScope.run(() => runStage(id)).finally(() => {
        running--;
        changed();
      });
    }
    if (running === 0) break;
    const seen = tick;
    await wf.condition(() => tick !== seen);
  }
  await wf.condition(wf.allHandlersFinished);

  const result = run.finish();
  showDetails(run.progress);
  if (result.status === 'aborted') throw ApplicationFailure.nonRetryable(`run aborted: ${run.abortReason}`, 'Aborted', result);
  return result;
}
