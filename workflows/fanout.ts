/**
 * A fan-out stage as a child workflow: plan the shards, run them with a
 * bounded sliding window, then commit the stage manifest. Completed shards are
 * committed in storage, so a retried or continued run skips them.
 */
import * as wf from '@temporalio/workflow';
import type { FanoutPlan, ShardOutcome, StageOutcome, StageRequest } from '../engine/protocol.js';
import { stageActivities } from './activityOptions.js';

export interface StageFanoutInput {
  req: StageRequest;
  startedAt: number;
  /** Set when continuing as new. */
  plan?: FanoutPlan;
  done?: number[];
}

export async function stageFanout(input: StageFanoutInput): Promise<StageOutcome> {
  const acts = stageActivities(input.req.stage);
  let plan = input.plan;
  if (!plan) {
    const planned = await acts.planFanout(input.req);
    if ('cached' in planned) return planned.cached;
    plan = planned.plan;
  }
  const done = new Set(input.done ?? []);
  const running = new Map<number, Promise<void>>();
  let failure: unknown;

  for (let index = 0; index < plan.shardCount && failure === undefined; index++) {
    if (done.has(index)) continue;
    while (running.size >= plan.window) await Promise.race(running.values());
    if (failure !== undefined) break;
    const task = acts
      .runShard(input.req, plan.key, index)
      .then((r: ShardOutcome) => void done.add(r.index))
      .catch((err: unknown) => void (failure ??= err))
      .finally(() => running.delete(index));
    running.set(index, task);
    if (wf.workflowInfo().continueAsNewSuggested) {
      await Promise.all(running.values());
      if (failure === undefined) {
        await wf.continueAsNew<typeof stageFanout>({ ...input, plan, done: [...done] });
      }
    }
  }
  await Promise.all(running.values());
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error('a shard failed');
  return acts.commitFanout(input.req, plan, input.startedAt);
}
