/**
 * Temporal activities: thin wrappers that add heartbeats (which carry the live
 * progress), cancellation, coarse progress signals and error classification
 * around the plain functions in runtime/. Created per worker with its
 * dependencies injected.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Client } from '@temporalio/client';
import { ZodError } from 'zod';
import { ConfigError } from '../config/errors.js';
import type { StorageSpec } from '../storage/spec.js';
import { DEFAULT_PROGRESS_INTERVAL_MS, NAMES, type FanoutPlan, type PrepareRunRequest, type PreparedRun, type ShardOutcome, type StageOutcome, type StageProgressSignal, type StageRequest } from '../protocol/protocol.js';
import { openStorage, type Storage } from '../storage/index.js';
import type { KindRegistry } from '../stages/registry.js';
import { prepareRun } from '../runtime/prepare.js';
import { commitFanout, lookupCached, mergePrepass, planFanout, planNextRound, runPrepassShard, runShard, runSimpleStage, type RunnerEnv } from '../runtime/stageRunner.js';
import { BadInputError } from '../common/errors.js';
import { canonicalJson } from '../common/hash.js';
import { ProgressSignals } from './progressSignals.js';

export interface ActivityDeps {
  registry: KindRegistry;
  defaultSpecFile: string;
  /** Used to signal coarse progress to the pipeline workflow; optional. */
  client?: Client;
  /** Minimum interval between progress signals per activity (the worker also flushes heartbeats this often). */
  progressIntervalMs?: number;
}

export type Activities = ReturnType<typeof createActivities>;

export function createActivities(deps: ActivityDeps) {
  const storages = new Map<string, Storage>();
  const storageFor = (spec: StorageSpec) => {
    const id = canonicalJson(spec);
    let s = storages.get(id);
    if (!s) storages.set(id, (s = openStorage(spec)));
    return s;
  };

  return {
    async prepareRun(req: PrepareRunRequest): Promise<PreparedRun> {
      return classify(() => prepareRun(req, { registry: deps.registry, defaultSpecFile: deps.defaultSpecFile }));
    },
    /** Runs as a local activity on the workflow's worker: a cached stage never waits for a stage worker. */
    async checkCache(req: StageRequest): Promise<StageOutcome | null> {
      return classify(() => lookupCached(req, { storage: storageFor(req.storage), registry: deps.registry }));
    },
    async runStage(req: StageRequest): Promise<StageOutcome> {
      return withActivityEnv(req, deps, storageFor(req.storage), (env) => runSimpleStage(req, env), { signalsRun: true });
    },
    async planFanout(req: StageRequest): Promise<{ cached: StageOutcome } | { plan: FanoutPlan }> {
      return withActivityEnv(req, deps, storageFor(req.storage), (env) => planFanout(req, env), { signalsRun: true });
    },
    async runShard(req: StageRequest, key: string, index: number): Promise<ShardOutcome> {
      return withActivityEnv(req, deps, storageFor(req.storage), (env) => runShard(req, key, index, env));
    },
    async runPrepassShard(req: StageRequest, key: string, index: number): Promise<void> {
      return withActivityEnv(req, deps, storageFor(req.storage), (env) => runPrepassShard(req, key, index, env));
    },
    async mergePrepass(req: StageRequest, plan: FanoutPlan): Promise<void> {
      return withActivityEnv(req, deps, storageFor(req.storage), (env) => mergePrepass(req, plan, env));
    },
    async planNextRound(req: StageRequest, plan: FanoutPlan): Promise<FanoutPlan> {
      return withActivityEnv(req, deps, storageFor(req.storage), (env) => planNextRound(req, plan, env));
    },
    async commitFanout(req: StageRequest, plan: FanoutPlan, startedAt: number): Promise<StageOutcome> {
      return withActivityEnv(req, deps, storageFor(req.storage), (env) => commitFanout(req, plan, startedAt, env));
    },
  };
}

/**
 * Heartbeats for the whole call (so a killed worker is noticed fast) carrying
 * the latest progress report, cancellation, and, for the activity that stands
 * for the stage in the run (`signalsRun`: a simple stage's, a fan-out's plan),
 * coarse progress signals; a fan-out's other activities report through their
 * heartbeats and their child workflow only.
 */
async function withActivityEnv<T>(req: StageRequest, deps: ActivityDeps, storage: Storage, fn: (env: RunnerEnv) => Promise<T>, opts: { signalsRun?: boolean } = {}): Promise<T> {
  const ctx = Context.current();
  // Until the stage reports, its heartbeats say where it runs.
  let last: StageProgressSignal = { stageId: req.stage.id, done: 0, message: `started on a ${ctx.info.taskQueue} worker` };
  const beatEvery = Math.max(200, Math.min(5_000, (ctx.info.heartbeatTimeoutMs ?? 6_000) / 3));
  ctx.heartbeat(last);
  const beat = setInterval(() => ctx.heartbeat(last), beatEvery);
  const client = opts.signalsRun ? deps.client : undefined;
  const signals = client && new ProgressSignals((p) => {
    client.workflow.getHandle(req.runId).signal(NAMES.progressSignal, p).catch((err: unknown) => {
      ctx.log.debug('progress signal failed', { error: String(err) });
    });
  }, deps.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS);
  // Tells the run that a worker took the stage: until then the CLI shows it as queued.
  signals?.started(last);
  try {
    return await classify(() =>
      fn({
        registry: deps.registry,
        storage,
        signal: ctx.cancellationSignal,
        // Stage messages (back end chosen, epochs, resumes) go to the worker's own log, whatever the SDK's log level.
        log: (m: string) => {
          console.log(`${new Date().toISOString()} ${req.runId} ${m}`);
        },
        onProgress: (p) => {
          last = p;
          ctx.heartbeat(p);
          signals?.report(p);
        },
      }),
    );
  } finally {
    clearInterval(beat);
  }
}

/** Bad input will not get better by retrying: fail non-retryably with a readable message. */
async function classify<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ConfigError) throw ApplicationFailure.nonRetryable(err.message, 'InvalidSpec');
    if (err instanceof BadInputError) throw ApplicationFailure.nonRetryable(err.message, 'BadInput');
    if (err instanceof ZodError) throw ApplicationFailure.nonRetryable(err.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '), 'BadInput');
    throw err;
  }
}
