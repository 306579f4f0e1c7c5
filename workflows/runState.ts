/**
 * The state of one pipeline run, and every change to it: stages becoming
 * ready, running, held, retried, skipped, failed; operator actions; the run's
 * status and result. Pure (no Temporal, no Node built-ins), so it is tested
 * without a server; the workflow (pipelineRun.ts) does the waiting and the
 * activities, and publishes each stage change through `onStageChange`.
 */
import { downstreamOf } from '../config/dag.js';
import type { Params, RunKind } from '../config/spec.js';
import type {
  PreparedRun, RetryUpdateInput, RunProgress, RunResult, SkipUpdateInput, StageOutcome, StageProgressSignal, StageRequest, StageState,
} from '../protocol/protocol.js';

/** What an operator asked for a held stage. */
export type OperatorAction = 'retry' | 'skip';

export interface RunStart {
  runId: string;
  /** The pipeline's name as the input gives it (the prepared plan's name replaces it). */
  pipeline: string;
  runKind: RunKind;
  startedAt: number;
  /** The input's param overrides. */
  params: Params;
}

/**
 * What a run carries into its next execution when it continues as new: all of
 * its state (taken where no stage has work in flight, see pipelineRun.ts).
 */
export interface RunSnapshot {
  progress: RunProgress;
  overrides: Params;
  abortedWith?: string;
  prepared: PreparedRun;
  forced: string[];
  actions: Record<string, OperatorAction>;
  /** Operator retries per stage so far: the number of its next attempt (fan-out child ids stay unique). */
  attempts: Record<string, number>;
}

const isDone = (s: StageState) => s.status === 'completed' || s.status === 'cached';
const isDead = (s: StageState) => s.status === 'skipped' || s.status === 'failed';

export class RunState {
  /** What the `progress` query answers; stages by id, in plan order. */
  readonly progress: RunProgress;
  /** Overrides for the pipeline's params: the input's, then each retry's on top. */
  private overrides: Params;
  /** Set by the abort update; from then on nothing new starts. */
  private abortedWith: string | undefined;
  /** Set by `start`; `replan` replaces it. */
  private prepared: PreparedRun | undefined;
  /** Stages that re-run even when cached (the forced ones and their downstream); first attempt only. */
  private forced = new Set<string>();
  /** Operator actions for held stages, until the stage takes them. */
  private readonly actions = new Map<string, OperatorAction>();
  /** Attempts per stage beyond the first (each operator retry adds one). */
  private readonly attempts = new Map<string, number>();

  constructor(start: RunStart, private readonly onStageChange: (run: RunState) => void = () => {}) {
    this.progress = { runId: start.runId, pipeline: start.pipeline, runKind: start.runKind, status: 'preparing', order: [], stages: {}, params: {}, startedAt: start.startedAt };
    this.overrides = start.params;
  }

  /** The state a run carried into this execution (the inverse of `snapshot`). */
  static restore(s: RunSnapshot, onStageChange?: (run: RunState) => void): RunState {
    const p = s.progress;
    const run = new RunState({ runId: p.runId, pipeline: p.pipeline, runKind: p.runKind, startedAt: p.startedAt, params: s.overrides }, onStageChange);
    Object.assign(run.progress, p);
    run.abortedWith = s.abortedWith;
    run.prepared = s.prepared;
    run.forced = new Set(s.forced);
    for (const [id, action] of Object.entries(s.actions)) run.actions.set(id, action);
    for (const [id, n] of Object.entries(s.attempts)) run.attempts.set(id, n);
    return run;
  }

  /** Everything the run needs to go on in a new execution. */
  snapshot(): RunSnapshot {
    return {
      progress: this.progress,
      overrides: this.overrides,
      ...(this.abortedWith !== undefined ? { abortedWith: this.abortedWith } : {}),
      prepared: this.plan,
      forced: [...this.forced],
      actions: Object.fromEntries(this.actions),
      attempts: Object.fromEntries(this.attempts),
    };
  }

  get paramOverrides(): Params {
    return this.overrides;
  }

  get abortReason(): string | undefined {
    return this.abortedWith;
  }

  get aborted(): boolean {
    return this.abortedWith !== undefined;
  }

  /**
   * Takes the prepared plan: every stage pending, the run running. Returns a
   * problem with `force` (stages the plan does not have), if any; the run
   * cannot start then. `forceName` is how the problem names the list: as the
   * run's input has it (the Web UI's form, the API) unless a caller that took
   * it from elsewhere, such as a command-line flag, says otherwise.
   */
  start(plan: PreparedRun, force: readonly string[], forceName = "the input's force list"): string | undefined {
    this.prepared = plan;
    const p = this.progress;
    p.pipeline = plan.pipeline;
    p.params = plan.params;
    p.order = plan.stages.map((s) => s.id);
    for (const s of plan.stages) p.stages[s.id] = { status: 'pending', uses: s.uses, needs: s.needs };
    const unknown = force.filter((id) => !p.stages[id]);
    if (unknown.length) return `${forceName} names unknown stage(s) ${unknown.join(', ')}; stages of "${plan.pipeline}": ${p.order.join(', ')}`;
    this.forced = downstreamOf(Object.fromEntries(plan.stages.map((s) => [s.id, s])), force);
    p.status = 'running';
    return undefined;
  }

  /** A plan prepared again with new param overrides (same stages, new `with`). */
  replan(plan: PreparedRun): void {
    this.prepared = plan;
    this.progress.params = plan.params;
  }

  get hasParamOverrides(): boolean {
    return Object.keys(this.overrides).length > 0;
  }

  stage(id: string): StageState {
    const s = this.progress.stages[id];
    if (!s) throw new Error(`no stage "${id}" in this run`);
    return s;
  }

  /** Held stages in plan order; only `stage` when given. */
  heldStages(stage?: string): string[] {
    return this.progress.order.filter((id) => this.progress.stages[id]?.status === 'held' && (!stage || id === stage));
  }

  /**
   * Stages at their hold: waiting for an operator, or acted on but not yet
   * going on. A continued run resumes these where they were.
   */
  stagesAtHold(): string[] {
    return this.progress.order.filter((id) => this.stage(id).status === 'held' || this.actions.has(id));
  }

  /** Attempts made before the current one (0 on the first): operator retries so far. */
  attemptOf(id: string): number {
    return this.attempts.get(id) ?? 0;
  }

  /** Stages running or held (the CurrentStage search attribute). */
  activeStages(): string[] {
    return this.progress.order.filter((id) => ['running', 'held'].includes(this.stage(id).status));
  }

  /**
   * Pending stages that can start now, in plan order. Pending stages that never
   * can (an upstream stage failed or was skipped, or the run is aborted) are
   * skipped on the way. Lazy: a caller that starts each stage before asking for
   * the next keeps skips and starts in plan order.
   */
  *startable(): Generator<string> {
    for (const stage of this.plan.stages) {
      if (this.stage(stage.id).status !== 'pending') continue;
      const dead = stage.needs.find((n) => isDead(this.stage(n)));
      if (dead !== undefined || this.aborted) {
        this.update(stage.id, { status: 'skipped', reason: this.aborted ? 'run aborted' : `upstream "${dead}" did not complete` });
      } else if (stage.needs.every((n) => isDone(this.stage(n)))) {
        yield stage.id;
      }
    }
  }

  /** What the stage's activities get for `attempt` (0 first): its resolved spec and its inputs' manifests. */
  stageRequest(id: string, attempt: number): StageRequest {
    const stage = this.plan.stages.find((s) => s.id === id);
    if (!stage) throw new Error(`no stage "${id}" in the plan`);
    const inputs = Object.fromEntries(stage.needs.map((n) => {
      const o = this.stage(n).outcome!;
      return [n, { manifestKey: o.manifestKey, contentHash: o.contentHash }];
    }));
    return { runId: this.progress.runId, pipeline: this.plan.pipeline, stage, storage: this.plan.storage, inputs, force: this.forced.has(id) && attempt === 0 };
  }

  stageStarted(id: string, now: number): void {
    this.update(id, { status: 'running', startedAt: now });
  }

  stageFinished(id: string, outcome: StageOutcome, now: number): void {
    this.update(id, { status: outcome.status, reason: outcome.reason, outcome, seconds: this.secondsOf(id, now), error: undefined });
  }

  /** Its work was cancelled (the run aborted). */
  stageCancelled(id: string, now: number): void {
    this.update(id, { status: 'failed', error: this.abortReason ?? 'cancelled', seconds: this.secondsOf(id, now) });
  }

  /** Failed after its retries: it waits for an operator. */
  stageHeld(id: string, error: string): void {
    this.update(id, { status: 'held', error });
  }

  /** A held stage can go on: an operator acted on it, or the run is aborting. */
  holdEnded(id: string): boolean {
    return this.actions.has(id) || this.aborted;
  }

  /**
   * Takes the operator's action for a held stage whose hold ended. Returns
   * 'retry' when the stage runs again; otherwise the stage is done: skipped, or
   * failed when the run aborted.
   */
  takeAction(id: string, now: number): OperatorAction | 'aborted' {
    const action = this.actions.get(id);
    this.actions.delete(id);
    if (this.aborted || !action) {
      this.update(id, { status: 'failed', error: `${this.stage(id).error} (aborted)`, seconds: this.secondsOf(id, now) });
      return 'aborted';
    }
    if (action === 'skip') this.update(id, { status: 'skipped', reason: 'skipped by operator', error: undefined, seconds: this.secondsOf(id, now) });
    else this.attempts.set(id, this.attemptOf(id) + 1);
    return action;
  }

  stageRetrying(id: string): void {
    this.update(id, { status: 'running', error: undefined });
  }

  /** A running stage's progress report; false when the stage is not running (a late signal). */
  stageProgress(p: StageProgressSignal): boolean {
    const s = this.progress.stages[p.stageId];
    if (s?.status !== 'running') return false;
    s.progress = p;
    return true;
  }

  // --- operator actions (the updates) ---------------------------------------

  /** Throws, with a message for the operator, unless the retry can be taken. */
  checkRetry(req: RetryUpdateInput): void {
    this.requireHeld(req.stage);
    if (req.params) {
      const unknown = Object.keys(req.params).filter((k) => !(k in this.plan.params));
      if (unknown.length) throw new Error(`unknown param(s) ${unknown.join(', ')}; params of "${this.plan.pipeline}": ${Object.keys(this.plan.params).join(', ') || 'none'}`);
    }
  }

  /** Retries the held stage(s), with the new params on top of the overrides so far. Returns the stages. */
  retry(req: RetryUpdateInput): string[] {
    if (req.params) this.overrides = { ...this.overrides, ...req.params };
    const ids = this.heldStages(req.stage);
    for (const id of ids) {
      this.actions.set(id, 'retry');
      this.stageRetrying(id);
    }
    return ids;
  }

  /** Throws, with a message for the operator, unless the skip can be taken. */
  checkSkip(req: SkipUpdateInput): void {
    this.requireHeld(req.stage);
  }

  /** Skips the held stage(s); their downstream stages are skipped when next looked at. Returns the stages. */
  skip(req: SkipUpdateInput): string[] {
    const ids = this.heldStages(req.stage);
    for (const id of ids) {
      this.actions.set(id, 'skip');
      this.update(id, { status: 'skipped', reason: 'skipped by operator', error: undefined });
    }
    return ids;
  }

  abort(reason: string | undefined): void {
    this.abortedWith = reason ?? 'aborted by operator';
  }

  /** The run's result, once no stage is running or held; the progress shows the final status. */
  finish(): RunResult {
    const p = this.progress;
    const status = this.aborted ? 'aborted' : p.order.some((id) => this.stage(id).status === 'failed') ? 'failed' : 'completed';
    const stages = Object.fromEntries(p.order.map((id) => {
      const s = this.stage(id);
      return [id, {
        status: s.status,
        seconds: s.seconds ?? 0,
        ...(s.reason ? { reason: s.reason } : {}),
        ...(s.error ? { error: s.error } : {}),
        outputs: s.outcome?.outputs ?? [],
        ...(s.outcome ? { manifestUri: s.outcome.manifestUri, counts: s.outcome.counts } : {}),
      }];
    }));
    p.status = status;
    if (this.abortReason !== undefined) p.message = this.abortReason;
    return { runId: p.runId, pipeline: this.plan.pipeline, status, stages };
  }

  private get plan(): PreparedRun {
    if (!this.prepared) throw new Error('the run has no plan yet');
    return this.prepared;
  }

  private requireHeld(stage?: string): void {
    if (this.heldStages(stage).length === 0) {
      throw new Error(stage ? `stage "${stage}" is not held (held: ${this.heldStages().join(', ') || 'none'})` : 'no stage is held');
    }
  }

  private secondsOf(id: string, now: number): number {
    return (now - (this.stage(id).startedAt ?? now)) / 1000;
  }

  /** Every stage change goes through here: a stage that stops running drops its progress; the run is held while any stage is. */
  private update(id: string, patch: Partial<StageState>): void {
    const s = this.stage(id);
    Object.assign(s, patch);
    if (patch.status && patch.status !== 'running') delete s.progress;
    this.progress.status = this.heldStages().length ? 'held' : 'running';
    this.onStageChange(this);
  }
}
