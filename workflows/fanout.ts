/**
 * A fan-out stage as a child workflow: plan the shards, optionally run the
 * kind's prepass over them and merge it, run the shards with a bounded sliding
 * window, then commit the stage manifest. Completed shards (and prepass
 * results) are committed in storage, so a retried or continued run skips them.
 * The pipeline run hears of the shards done at each tenth (shardProgress.ts).
 */
import * as wf from '@temporalio/workflow';
import type { FanoutPlan, StageOutcome, StageRequest } from '../protocol/protocol.js';
import { stageActivities } from './activityOptions.js';
import { shardProgress } from './shardProgress.js';

export interface StageFanoutInput {
  req: StageRequest;
  startedAt: number;
  /** Set when continuing as new. */
  plan?: FanoutPlan;
  done?: number[];
  /** Set when continuing as new after the prepass. */
  prepassDone?: boolean;
  /** Set when continuing as new: the round the loop was in (kinds with rounds). */
  round?: number;
}

export async function stageFanout(input: StageFanoutInput): Promise<StageOutcome> {
  const acts = stageActivities(input.req.stage);
  let plan: FanoutPlan;
  if (input.plan) {
    plan = input.plan;
  } else {
    const planned = await acts.planFanout(input.req);
    if ('cached' in planned) return planned.cached;
    plan = planned.plan;
  }
  const { key } = plan;
  if (plan.prepass && !input.prepassDone) {
    // Plans recorded before planning-time reuse have no prepassReady / done: the same commands as before.
    await slidingWindow(plan.shardCount, plan.window, new Set(plan.prepassReady ?? []), (i) => acts.runPrepassShard(input.req, key, i), () => false);
    await acts.mergePrepass(input.req, plan);
  }
  const done = new Set([...(input.done ?? []), ...(plan.done ?? [])]);
  let inFlight = 0;
  const pace = { lastSignal: -Infinity };
  for (let round = input.round ?? 0; ; round++) {
    const shardDone = shardProgress(input.req, plan.shardCount, done.size, () => inFlight, plan.rounds ? round : undefined, pace);
    const runShard = (i: number) => {
      inFlight++;
      return acts.runShard(input.req, key, i).finally(() => inFlight--).then(shardDone);
    };
    const suggested = await slidingWindow(plan.shardCount, plan.window, done, runShard, () => wf.workflowInfo().continueAsNewSuggested);
    if (suggested) await wf.continueAsNew<typeof stageFanout>({ ...input, plan, done: [...done], prepassDone: true, round });
    if (!plan.rounds) break;
    const next: FanoutPlan = await acts.planNextRound(input.req, plan);
    if (next.shardCount === plan.shardCount) break;
    plan = next;
  }
  return acts.commitFanout(input.req, plan, input.startedAt);
}

/**
 * Runs `task(i)` for every index not in `done` (adding each as it completes),
 * at most `window` at a time. Stops early, once in-flight tasks settle, when
 * `stop()` says so (returns true then); rethrows the first failure.
 */
async function slidingWindow(count: number, window: number, done: Set<number>, task: (i: number) => Promise<unknown>, stop: () => boolean): Promise<boolean> {
  const running = new Map<number, Promise<void>>();
  let failure: unknown;
  let stopped = false;
  for (let index = 0; index < count && failure === undefined && !stopped; index++) {
    if (done.has(index)) continue;
    while (running.size >= window) await Promise.race(running.values());
    if (failure !== undefined) break;
    const i = index;
    running.set(i, task(i)
      .then(() => void done.add(i))
      .catch((err: unknown) => void (failure ??= err))
      .finally(() => running.delete(i)));
    if (stop()) {
      await Promise.all(running.values());
      stopped = failure === undefined;
    }
  }
  await Promise.all(running.values());
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error('a shard failed');
  return stopped;
}
