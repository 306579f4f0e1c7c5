/**
 * pipelineRun: one run of a pipeline DAG.
 *
 *   validate input → prepare (load + resolve the spec, in an activity)
 *   → run every stage whose needs are done, in parallel
 *   → a stage that fails after its retries holds until an operator sends
 *     `retry` (optionally with new params), `skip` or `abort`.
 *
 * Stages are cached by content (see runtime/stageRunner.ts), so re-running a
 * pipeline, or resuming a failed one, only runs what is not done yet.
 */
import * as wf from '@temporalio/workflow';
import { ApplicationFailure, defineSearchAttributeKey } from '@temporalio/common';
import { downstreamOf } from '../config/dag.js';
import type { Params } from '../config/spec.js';
import {
  AbortUpdateInput, NAMES, PipelineRunInput, RetryUpdateInput, SA_CURRENT_STAGE, SA_PIPELINE_NAME, SA_RUN_KIND, SkipUpdateInput,
  type PreparedRun, type ResolvedStage, type RunProgress, type RunResult, type StageOutcome, type StageProgressSignal, type StageRequest, type StageState,
} from '../protocol/protocol.js';
import { cacheActivities, controlActivities, stageActivities } from './activityOptions.js';
import { renderDetails } from './details.js';
import { innermostMessage } from '../protocol/errors.js';
import { stageFanout } from './fanout.js';

export const progressQuery = wf.defineQuery<RunProgress>(NAMES.progressQuery);
export const progressSignal = wf.defineSignal<[StageProgressSignal]>(NAMES.progressSignal);
export const retryUpdate = wf.defineUpdate<string, [RetryUpdateInput]>(NAMES.retryUpdate);
export const skipUpdate = wf.defineUpdate<string, [SkipUpdateInput]>(NAMES.skipUpdate);
export const abortUpdate = wf.defineUpdate<string, [AbortUpdateInput]>(NAMES.abortUpdate);

const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', 'DATETIME');

type OperatorAction = { type: 'retry' } | { type: 'skip' };

export async function pipelineRun(rawInput: unknown): Promise<RunResult> {
  const parsed = PipelineRunInput.safeParse(rawInput);
  if (!parsed.success) {
    throw ApplicationFailure.nonRetryable(`invalid pipelineRun input: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`, 'InvalidInput');
  }
  const input = parsed.data;
  const info = wf.workflowInfo();
  const runId = info.workflowId;
  const runKind = input.runKind ?? (info.typedSearchAttributes.get(SCHEDULED_START) ? 'scheduled' : 'manual');
  const progress: RunProgress = {
    runId,
    pipeline: typeof input.pipeline === 'string' ? input.pipeline : input.pipeline.name,
    runKind,
    status: 'preparing',
    order: [],
    stages: {},
    params: {},
    startedAt: Date.now(),
  };
  const render = () => wf.setCurrentDetails(renderDetails(progress, Date.now()));
  wf.setHandler(progressQuery, () => progress);

  let paramOverrides: Params = input.params ?? {};
  const prepare = () =>
    controlActivities()
      .prepareRun({ pipeline: input.pipeline, params: paramOverrides, ...(input.specFile ? { specFile: input.specFile } : {}), ...(input.storage ? { storage: input.storage } : {}) })
      .catch((err: unknown) => {
        throw ApplicationFailure.nonRetryable(innermostMessage(err), 'InvalidSpec');
      });
  let plan: PreparedRun = await prepare();
  const stageById = (id: string) => plan.stages.find((s) => s.id === id)!;

  progress.pipeline = plan.pipeline;
  progress.params = plan.params;
  progress.order = plan.stages.map((s) => s.id);
  for (const s of plan.stages) progress.stages[s.id] = { status: 'pending', uses: s.uses, needs: s.needs };
  const unknownForce = input.force.filter((id) => !progress.stages[id]);
  if (unknownForce.length) {
    throw ApplicationFailure.nonRetryable(`--force names unknown stage(s) ${unknownForce.join(', ')}; stages of "${plan.pipeline}": ${progress.order.join(', ')}`, 'InvalidInput');
  }
  const forced = downstreamOf(Object.fromEntries(plan.stages.map((s) => [s.id, s])), input.force);
  wf.upsertSearchAttributes([
    { key: SA_PIPELINE_NAME, value: plan.pipeline },
    { key: SA_RUN_KIND, value: runKind },
  ]);
  progress.status = 'running';
  render();

  // --- operator controls --------------------------------------------------
  const stagesScope = new wf.CancellationScope();
  const actions = new Map<string, OperatorAction>();
  let abortReason: string | undefined;
  let tick = 0;
  const changed = () => void tick++;
  const heldIds = (stage?: string) => progress.order.filter((id) => progress.stages[id]?.status === 'held' && (!stage || id === stage));
  const requireHeld = (stage?: string) => {
    if (heldIds(stage).length === 0) {
      throw new Error(stage ? `stage "${stage}" is not held (held: ${heldIds().join(', ') || 'none'})` : 'no stage is held');
    }
  };
  wf.setHandler(retryUpdate, (req: RetryUpdateInput) => {
    if (req.params) paramOverrides = { ...paramOverrides, ...req.params };
    const ids = heldIds(req.stage);
    for (const id of ids) {
      actions.set(id, { type: 'retry' });
      setStage(id, { status: 'running', error: undefined });
    }
    changed();
    return `retrying ${ids.join(', ')}`;
  }, {
    validator: (req: RetryUpdateInput) => {
      RetryUpdateInput.parse(req);
      requireHeld(req.stage);
      if (req.params) {
        const unknown = Object.keys(req.params).filter((k) => !(k in plan.params));
        if (unknown.length) throw new Error(`unknown param(s) ${unknown.join(', ')}; params of "${plan.pipeline}": ${Object.keys(plan.params).join(', ') || 'none'}`);
      }
    },
  });
  wf.setHandler(skipUpdate, (req: SkipUpdateInput) => {
    const ids = heldIds(req.stage);
    for (const id of ids) {
      actions.set(id, { type: 'skip' });
      setStage(id, { status: 'skipped', reason: 'skipped by operator', error: undefined });
    }
    changed();
    return `skipping ${ids.join(', ')}`;
  }, { validator: (req: SkipUpdateInput) => { SkipUpdateInput.parse(req); requireHeld(req.stage); } });
  wf.setHandler(abortUpdate, (req) => {
    abortReason = req.reason ?? 'aborted by operator';
    stagesScope.cancel();
    changed();
    return 'aborting';
  }, { validator: (req) => void AbortUpdateInput.parse(req) });
  wf.setHandler(progressSignal, (p) => {
    const s = progress.stages[p.stageId];
    if (s?.status === 'running') {
      s.progress = p;
      render();
    }
  });

  // --- the DAG --------------------------------------------------------------
  const setStage = (id: string, patch: Partial<StageState>) => {
    const s = progress.stages[id]!;
    Object.assign(s, patch);
    if (patch.status && patch.status !== 'running') delete s.progress;
    const current = progress.order.filter((x) => ['running', 'held'].includes(progress.stages[x]!.status));
    wf.upsertSearchAttributes([{ key: SA_CURRENT_STAGE, value: current.join(',') }]);
    progress.status = heldIds().length ? 'held' : 'running';
    render();
  };

  const inputsOf = (stage: ResolvedStage): StageRequest['inputs'] =>
    Object.fromEntries(stage.needs.map((n) => {
      const o = progress.stages[n]!.outcome!;
      return [n, { manifestKey: o.manifestKey, contentHash: o.contentHash }];
    }));

  const executeOnce = async (stage: ResolvedStage, attempt: number): Promise<StageOutcome> => {
    const req: StageRequest = { runId, pipeline: plan.pipeline, stage, storage: plan.storage, inputs: inputsOf(stage), force: forced.has(stage.id) && attempt === 0 };
    if (!req.force) {
      const cached = await cacheActivities().checkCache(req);
      if (cached) return cached;
    }
    if (stage.kindType === 'simple') return stageActivities(stage).runStage(req);
    return wf.executeChild(stageFanout, {
      args: [{ req, startedAt: Date.now() }],
      workflowId: `${runId}/${stage.id}/${attempt}`,
      taskQueue: info.taskQueue,
    });
  };

  const runStage = async (id: string): Promise<void> => {
    const startedAt = Date.now();
    setStage(id, { status: 'running', startedAt });
    for (let attempt = 0; ; attempt++) {
      try {
        const outcome = await executeOnce(stageById(id), attempt);
        setStage(id, { status: outcome.status, reason: outcome.reason, outcome, seconds: (Date.now() - startedAt) / 1000, error: undefined });
        return;
      } catch (err) {
        if (abortReason !== undefined || wf.isCancellation(err)) {
          setStage(id, { status: 'failed', error: abortReason ?? 'cancelled', seconds: (Date.now() - startedAt) / 1000 });
          return;
        }
        setStage(id, { status: 'held', error: innermostMessage(err) });
        await wf.CancellationScope.nonCancellable(() => wf.condition(() => actions.has(id) || abortReason !== undefined));
        const action = actions.get(id);
        actions.delete(id);
        if (abortReason !== undefined || !action) {
          setStage(id, { status: 'failed', error: `${progress.stages[id]!.error} (aborted)`, seconds: (Date.now() - startedAt) / 1000 });
          return;
        }
        if (action.type === 'skip') {
          setStage(id, { status: 'skipped', reason: 'skipped by operator', error: undefined, seconds: (Date.now() - startedAt) / 1000 });
          return;
        }
        if (Object.keys(paramOverrides).length) {
          plan = await prepare();
          progress.params = plan.params;
        }
        setStage(id, { status: 'running', error: undefined });
      }
    }
  };

  let running = 0;
  const isDone = (id: string) => ['completed', 'cached'].includes(progress.stages[id]!.status);
  const isDead = (id: string) => ['skipped', 'failed'].includes(progress.stages[id]!.status);
  for (;;) {
    for (const stage of plan.stages) {
      const s = progress.stages[stage.id]!;
      if (s.status !== 'pending') continue;
      const dead = stage.needs.find(isDead);
      if (dead !== undefined || abortReason !== undefined) {
        setStage(stage.id, { status: 'skipped', reason: abortReason !== undefined ? 'run aborted' : `upstream "${dead}" did not complete` });
      } else if (stage.needs.every(isDone)) {
        running++;
        void stagesScope.run(() => runStage(stage.id)).finally(() => {
          running--;
          changed();
        });
      }
    }
    if (running === 0) break;
    const seen = tick;
    await wf.condition(() => tick !== seen);
  }
  await wf.condition(wf.allHandlersFinished);

  const result: RunResult = {
    runId,
    pipeline: plan.pipeline,
    status: abortReason !== undefined ? 'aborted' : progress.order.some((id) => progress.stages[id]!.status === 'failed') ? 'failed' : 'completed',
    stages: Object.fromEntries(progress.order.map((id) => {
      const s = progress.stages[id]!;
      return [id, {
        status: s.status,
        seconds: s.seconds ?? 0,
        ...(s.reason ? { reason: s.reason } : {}),
        ...(s.error ? { error: s.error } : {}),
        outputs: s.outcome?.outputs ?? [],
        ...(s.outcome ? { manifestUri: s.outcome.manifestUri, counts: s.outcome.counts } : {}),
      }];
    })),
  };
  progress.status = result.status;
  if (abortReason !== undefined) progress.message = abortReason;
  render();
  if (result.status === 'aborted') throw ApplicationFailure.nonRetryable(`run aborted: ${abortReason}`, 'Aborted', result);
  return result;
}

