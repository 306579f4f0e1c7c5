/** One attempt at a stage: its cached outcome, else its activity (simple kinds) or its fan-out child workflow. */
import * as wf from '@temporalio/workflow';
import type { StageOutcome, StageRequest } from '../protocol/protocol.js';
import { cacheActivities, stageActivities } from './activityOptions.js';
import { stageFanout } from './fanout.js';

export async function attemptStage(req: StageRequest, attempt: number): Promise<StageOutcome> {
  if (!req.force) {
    const cached = await cacheActivities().checkCache(req);
    if (cached) return cached;
  }
  if (req.stage.kindType === 'simple') return stageActivities(req.stage).runStage(req);
  return wf.executeChild(stageFanout, {
    args: [{ req, startedAt: Date.now() }],
    workflowId: `${req.runId}/${req.stage.id}/${attempt}`,
    taskQueue: wf.workflowInfo().taskQueue,
  });
}
