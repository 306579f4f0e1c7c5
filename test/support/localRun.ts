/**
 * Runs a prepared pipeline in this process on the runtime's stage runner,
 * without Temporal: stages in topological order, fan-out shards one after
 * another, round after round. For tests that need whole runs in fresh processes.
 */
import type { PreparedRun, StageOutcome, StageRequest } from '../../protocol/protocol.js';
import { commitFanout, mergePrepass, planFanout, planNextRound, runPrepassShard, runShard, runSimpleStage, type RunnerEnv } from '../../runtime/stageRunner.js';

/** Every stage's outcome, by stage id. */
export async function runLocally(plan: PreparedRun, env: RunnerEnv, runId = 'local-run'): Promise<Record<string, StageOutcome>> {
  const outcomes: Record<string, StageOutcome> = {};
  for (const stage of plan.stages) {
    const inputs = Object.fromEntries(stage.needs.map((id) => {
      const done = outcomes[id]!;
      return [id, { manifestKey: done.manifestKey, contentHash: done.contentHash }];
    }));
    const req: StageRequest = { runId, pipeline: plan.pipeline, stage, storage: plan.storage, inputs, force: false };
    outcomes[stage.id] = stage.kindType === 'simple' ? await runSimpleStage(req, env) : await runFanout(req, env);
  }
  return outcomes;
}

/** The steps of workflows/fanout.ts, one shard at a time. */
async function runFanout(req: StageRequest, env: RunnerEnv): Promise<StageOutcome> {
  const startedAt = Date.now();
  const planned = await planFanout(req, env);
  if ('cached' in planned) return planned.cached;
  const { plan } = planned;
  if (plan.prepass) {
    for (let i = 0; i < plan.shardCount; i++) await runPrepassShard(req, plan.key, i, env);
    await mergePrepass(req, plan, env);
  }
  let current = plan;
  for (let from = 0; ; ) {
    for (let i = from; i < current.shardCount; i++) await runShard(req, current.key, i, env);
    if (!current.rounds) break;
    const next = await planNextRound(req, current, env);
    if (next.shardCount === current.shardCount) break;
    from = current.shardCount;
    current = next;
  }
  return commitFanout(req, current, startedAt, env);
}
