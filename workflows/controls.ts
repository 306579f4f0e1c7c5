/** The run's query, signal and updates (names in engine/protocol.ts), wired to its RunState. */
import * as wf from '@temporalio/workflow';
import {
  AbortUpdateInput, NAMES, RetryUpdateInput, SkipUpdateInput, type RunProgress, type StageProgressSignal,
} from '../protocol/protocol.js';
import type { RunState } from './runState.js';
import { showDetails } from './visibility.js';

export const progressQuery = wf.defineQuery<RunProgress>(NAMES.progressQuery);
export const progressSignal = wf.defineSignal<[StageProgressSignal]>(NAMES.progressSignal);
export const retryUpdate = wf.defineUpdate<string, [RetryUpdateInput]>(NAMES.retryUpdate);
export const skipUpdate = wf.defineUpdate<string, [SkipUpdateInput]>(NAMES.skipUpdate);
export const abortUpdate = wf.defineUpdate<string, [AbortUpdateInput]>(NAMES.abortUpdate);

/**
 * Operators' updates and stages' progress signals. Validators reject what
 * cannot be done (the operator sees why); `changed` wakes the workflow's
 * scheduling loop; abort also cancels the running stages.
 */
export function handleControls(run: RunState, stages: wf.CancellationScope, changed: () => void): void {
  const acted = (verb: string, ids: string[]) => {
    changed();
    return `${verb} ${ids.join(', ')}`;
  };
  wf.setHandler(retryUpdate, (req) => acted('retrying', run.retry(req)), {
    validator: (req: RetryUpdateInput) => {
      RetryUpdateInput.parse(req);
      run.checkRetry(req);
    },
  });
  wf.setHandler(skipUpdate, (req) => acted('skipping', run.skip(req)), {
    validator: (req: SkipUpdateInput) => {
      SkipUpdateInput.parse(req);
      run.checkSkip(req);
    },
  });
  wf.setHandler(abortUpdate, (req) => {
    run.abort(req.reason);
    stages.cancel();
    changed();
    return 'aborting';
  }, { validator: (req) => void AbortUpdateInput.parse(req) });
  wf.setHandler(progressSignal, (p) => {
    if (run.stageProgress(p)) showDetails(run.progress);
  });
}
