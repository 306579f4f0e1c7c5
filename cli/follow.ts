/**
 * Follows a run until it ends or holds: live per-stage progress (bars on a
 * terminal, plain lines otherwise; the run's state with its activities'
 * heartbeat reports merged in), then the summary table or JSON.
 */
import { WorkflowFailedError, type Client, type WorkflowExecutionDescription, type WorkflowHandle } from '@temporalio/client';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { innermostMessage } from '../protocol/errors.js';
import { NAMES, type RunProgress, type RunResult, type StageState } from '../protocol/protocol.js';
import { etaText, progressText, shownStatus, STATUS_ICON } from '../protocol/stageDisplay.js';
import { CLASS_NAMES } from '../hep/layout.js';
import { liveProgress, withLiveProgress } from './liveProgress.js';

export interface FollowOptions {
  json: boolean;
  /** Write live output here (stderr keeps stdout clean for --json). */
  out: NodeJS.WriteStream;
  pollMs?: number;
  /** Off a terminal: a progress line per running stage at least this often (default 20 s). */
  lineEveryMs?: number;
  /** How long to keep reconnecting to an unreachable server before giving up (default 5 minutes). */
  reconnectForMs?: number;
}

export type FollowEnd = { kind: 'closed'; status: 'completed' | 'failed' | 'aborted'; progress: RunProgress | null; error?: string } | { kind: 'held'; progress: RunProgress };

/** Exit codes: 0 done, 1 failed/aborted, 3 held (waiting for an operator). */
export function exitCodeOf(end: FollowEnd): number {
  if (end.kind === 'held') return 3;
  return end.status === 'completed' ? 0 : 1;
}

export async function followRun(client: Client, runId: string, opts: FollowOptions): Promise<FollowEnd> {
  const handle = client.workflow.getHandle(runId);
  const view = opts.out.isTTY && !opts.json ? new TtyView(opts.out) : new LineView(opts.json ? null : opts.out, opts.lineEveryMs);
  const closing = new CloseWatch(client, handle);
  const reconnect = new Reconnect(opts);
  try {
    for (;;) {
      let desc: WorkflowExecutionDescription;
      let progress: RunProgress | null;
      try {
        // A deadline per poll: with the server gone, calls would otherwise wait silently for it.
        [desc, progress] = await client.withDeadline(Date.now() + POLL_DEADLINE_MS, async () => {
          const d = await handle.describe();
          return [d, await progressNow(client, handle, d)] as const;
        });
        reconnect.succeeded();
      } catch (err) {
        await reconnect.afterFailure(err);
        continue;
      }
      if (progress) view.update(progress);
      // A run that continues as new goes on under the same id.
      if (desc.status.name !== 'RUNNING' && desc.status.name !== 'CONTINUED_AS_NEW') return await closed(handle, progress);
      if (progress?.status === 'held') return { kind: 'held', progress };
      await Promise.race([sleep(opts.pollMs ?? 500), closing.closed()]);
    }
  } finally {
    closing.stop();
  }
}

/**
 * Wakes the follower as soon as the run closes instead of at the next poll: a
 * long poll for the result, cancelled when following ends (left pending, it
 * would be retried on a closed connection and crash the process). The client
 * adds an abort listener to the signal for every long-poll call it makes and
 * never removes it (one per history event the poll wakes on), so the wait is
 * renewed with a fresh signal every minute: a run of hours would otherwise
 * pile up listeners. Within the minute a busy run (a stage of 72 shards
 * completing) can still add more than Node's default of ten, so the signal
 * has no cap; its listeners go with it when it is renewed.
 */
export class CloseWatch {
  private controller = new AbortController();
  private wait: Promise<void> = Promise.resolve();
  private since = 0;

  constructor(private readonly client: Client, private readonly handle: ReturnType<Client['workflow']['getHandle']>) {
    this.renew();
  }

  /** Resolves when the run closes (or the wait is renewed: one early poll). */
  closed(): Promise<void> {
    if (Date.now() - this.since > RENEW_WAIT_MS) this.renew();
    return this.wait;
  }

  stop(): void {
    this.controller.abort();
  }

  private renew(): void {
    this.controller.abort();
    this.controller = new AbortController();
    setMaxListeners(0, this.controller.signal);
    this.since = Date.now();
    this.wait = this.client.withAbortSignal(this.controller.signal, () => this.handle.result()).then(() => undefined, () => undefined);
  }
}

const RENEW_WAIT_MS = 60_000;

const POLL_DEADLINE_MS = 10_000;

/** Keeps following through a server restart or a network blip: says so, backs off, gives up after a while. */
class Reconnect {
  private since: number | null = null;
  private delayMs = 500;

  constructor(private readonly opts: FollowOptions) {}

  succeeded(): void {
    if (this.since !== null) this.opts.out.write(`reconnected to Temporal after ${((Date.now() - this.since) / 1000).toFixed(1)} s\n`);
    this.since = null;
    this.delayMs = 500;
  }

  /** Rethrows what is not a lost connection, and a connection lost for too long. */
  async afterFailure(err: unknown): Promise<void> {
    if (!isUnavailable(err)) throw err;
    const now = Date.now();
    this.since ??= now;
    const limit = this.opts.reconnectForMs ?? 300_000;
    if (now - this.since > limit) throw new Error(`lost the connection to Temporal for more than ${Math.round(limit / 1000)} s: ${(err as Error).message}`);
    this.opts.out.write(`reconnecting to Temporal (${(err as Error).message.split('\n')[0]}); retrying in ${(this.delayMs / 1000).toFixed(1)} s\n`);
    await sleep(this.delayMs);
    this.delayMs = Math.min(10_000, this.delayMs * 2);
  }
}

/** gRPC UNAVAILABLE (14), DEADLINE_EXCEEDED (4) or a refused/reset connection: the server may come back. */
function isUnavailable(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (code === 14 || code === 4 || /UNAVAILABLE|DEADLINE_EXCEEDED|ECONNREFUSED|ECONNRESET|No connection established/i.test(e.message)) return true;
  }
  return false;
}

async function closed(handle: WorkflowHandle, progress: RunProgress | null): Promise<FollowEnd> {
  try {
    const result = (await handle.result()) as RunResult;
    return { kind: 'closed', status: result.status, progress };
  } catch (err) {
    const error = err instanceof WorkflowFailedError ? innermostMessage(err) : String(err);
    return { kind: 'closed', status: /aborted/.test(error) ? 'aborted' : 'failed', progress, error };
  }
}

/** The run's progress with the live reports of its running stages merged in; null while it cannot answer. */
export async function progressNow(client: Client, handle: WorkflowHandle, desc: WorkflowExecutionDescription): Promise<RunProgress | null> {
  const progress = await queryProgress(handle);
  if (!progress || desc.status.name !== 'RUNNING') return progress;
  return withLiveProgress(progress, await liveProgress(client, desc));
}

export async function queryProgress(handle: WorkflowHandle): Promise<RunProgress | null> {
  try {
    return await handle.query<RunProgress>(NAMES.progressQuery);
  } catch {
    return null; // not started yet, or no worker to answer
  }
}


// --- rendering ---------------------------------------------------------------

export function stageLine(id: string, s: StageState, width: number, now = Date.now()): string {
  const secs = s.seconds ?? (s.startedAt ? (now - s.startedAt) / 1000 : 0);
  const shown = shownStatus(s);
  let tail = s.reason ?? '';
  if (s.status === 'held' || s.status === 'failed') tail = s.error ?? '';
  if (shown === 'queued') tail = 'waiting for a worker';
  if (shown === 'running' && s.progress) {
    const { done, total } = s.progress;
    const bar = total ? `[${'#'.repeat(Math.round(Math.min(1, done / total) * 20)).padEnd(20, '-')}] ` : '';
    const { counted, text } = progressText(s.progress);
    const extra = [counted ? s.progress.message : undefined, etaText(s.progress)].filter(Boolean).join(', ');
    tail = `${bar}${text}${extra ? ` (${extra})` : ''}`;
  }
  return `${STATUS_ICON[shown]} ${id.padEnd(width)} ${shown.padEnd(9)} ${secs.toFixed(1).padStart(7)} s  ${tail}`;
}

class TtyView {
  private lines = 0;
  constructor(private readonly out: NodeJS.WriteStream) {}
  update(p: RunProgress): void {
    const width = Math.max(5, ...p.order.map((id) => id.length));
    const cols = this.out.columns ?? 120;
    const rows = [`${p.pipeline} ${p.runId}: ${p.status}`, ...p.order.map((id) => stageLine(id, p.stages[id]!, width).slice(0, cols - 1))];
    if (this.lines) this.out.write(`\x1b[${this.lines}A`);
    for (const r of rows) this.out.write(`\x1b[2K${r}\n`);
    this.lines = rows.length;
  }
}

/**
 * Non-terminal output (CI logs, `| tee`): a line per stage status change, and
 * for a running stage one at a steady pace (progress, rate, ETA), so a long
 * training is never silent.
 */
export class LineView {
  private seen = new Map<string, string>();
  private printedAt = new Map<string, number>();
  constructor(
    private readonly out: Pick<NodeJS.WriteStream, 'write'> | null,
    private readonly everyMs = 20_000,
  ) {}

  update(p: RunProgress, now = Date.now()): void {
    const width = Math.max(5, ...p.order.map((id) => id.length));
    for (const id of p.order) {
      const s = p.stages[id]!;
      const sig = shownStatus(s);
      const due = sig === 'running' && now - (this.printedAt.get(id) ?? 0) >= this.everyMs;
      if (this.seen.get(id) === sig && !due) continue;
      this.seen.set(id, sig);
      this.printedAt.set(id, now);
      if (s.status !== 'pending') this.out?.write(`${stageLine(id, s, width, now)}\n`);
    }
  }
}

/** Rows of the summary fit this many columns (the rest is in --json and `status --verbose`). */
export const SUMMARY_COLUMNS = 100;

/**
 * The run's summary: a row per stage, then the stages' reports (e.g. the AUC
 * table) and where report files are. `verbose`: full reasons, counts and
 * manifest URIs, however long.
 */
export function summaryTable(p: RunProgress, opts: { verbose?: boolean } = {}): string {
  const width = Math.max(5, ...p.order.map((id) => id.length));
  const head = `${'stage'.padEnd(width + 2)} ${'status'.padEnd(9)} ${'time'.padStart(9)}  reason / outputs`;
  const rows = p.order.map((id) => {
    const s = p.stages[id]!;
    if (!opts.verbose) {
      const outs = s.outcome ? ` → ${s.outcome.outputCount} output(s)` : '';
      return fit(stageLine(id, s, width), SUMMARY_COLUMNS - outs.length) + outs;
    }
    const counts = s.outcome ? Object.entries(s.outcome.counts).slice(0, 4).map(([k, v]) => `${k} ${v}`).join(', ') : '';
    const outs = s.outcome ? ` → ${s.outcome.outputCount} output(s)${counts ? ` (${counts})` : ''}, ${s.outcome.manifestUri}` : '';
    return stageLine(id, s, width) + outs;
  });
  const reports = p.order.flatMap((id) => {
    const report = p.stages[id]!.outcome?.report;
    return report ? [`\n${id}:\n${report.trimEnd()}`] : [];
  });
  const files = p.order.flatMap((id) => (p.stages[id]!.outcome?.outputs ?? []).filter((o) => o.name === 'report.md').map((o) => `${id} report (figures beside it): ${o.uri}`));
  const hints = hintLines(p);
  return [head, ...rows, ...reports, ...(files.length ? ['', ...files] : []), ...(hints.length ? ['', ...hints] : [])].join('\n');
}

/**
 * One line per distinct `hint` in the summaries of stages that ran in this
 * run (not cached), naming the stages: e.g. a faster back end that only
 * needs building (ml/backend.ts, fasterBackendHint).
 */
export function hintLines(p: RunProgress): string[] {
  const byHint = new Map<string, string[]>();
  for (const id of p.order) {
    const { status, outcome } = p.stages[id]!;
    const summary = outcome?.summary;
    if (status !== 'completed' || !summary || typeof summary !== 'object' || Array.isArray(summary)) continue;
    const hint = (summary as Record<string, unknown>).hint;
    if (typeof hint === 'string' && hint) byHint.set(hint, [...(byHint.get(hint) ?? []), id]);
  }
  return [...byHint].map(([hint, ids]) => `note (${ids.join(', ')}): ${hint}`);
}

const fit = (line: string, columns: number) => (line.length <= columns ? line : `${line.slice(0, columns - 1)}…`);

export function jsonSummary(runId: string, end: FollowEnd): unknown {
  const p = end.progress;
  const stages = Object.fromEntries((p?.order ?? []).map((id) => {
    const s = p!.stages[id]!;
    return [id, { status: s.status, seconds: s.seconds ?? 0, ...(s.reason ? { reason: s.reason } : {}), ...(s.error ? { error: s.error } : {}), outputs: s.outcome?.outputs ?? [], ...(s.outcome ? { manifest: s.outcome.manifestUri, counts: s.outcome.counts } : {}), ...(s.outcome?.report ? { report: s.outcome.report } : {}) }];
  }));
  const metrics = p ? evaluationMetrics(p) : {};
  const tuning = p ? tuningResults(p) : {};
  const notes = p ? hintLines(p) : [];
  return { runId, status: end.kind === 'held' ? 'held' : end.status, ...(end.kind === 'closed' && end.error ? { error: end.error } : {}), stages, ...(Object.keys(metrics).length ? { metrics } : {}), ...(Object.keys(tuning).length ? { tuning } : {}), ...(notes.length ? { notes } : {}) };
}

/**
 * `tuning` of --json: per tune stage, its summary: `{ metric, search, best:
 * { point, mean, std, epochs }, top: [{ point, mean, std }] }` (best.json in
 * the stage's outputs has the rest).
 */
export function tuningResults(p: RunProgress): Record<string, unknown> {
  return Object.fromEntries(p.order.flatMap((id) => {
    const s = p.stages[id]!;
    return s.uses === 'tune' && s.outcome?.summary && typeof s.outcome.summary === 'object' ? [[id, s.outcome.summary]] : [];
  }));
}

/** What the evaluate summary holds per trained stage (`workingPoints[c]`: class c as signal, at 99 %, 95 %, 90 % efficiency). */
interface ScoredModel {
  model: string;
  auc: number[];
  accuracy: number;
  workingPoints?: Array<Array<Record<string, number | null>>>;
}

export interface EvaluationMetrics {
  model: string;
  auc: Record<string, number>;
  accuracy: number;
  /** By class name taken as signal: `{ target, threshold, efficiency, fpr, fprError, rejection, rejectionError, rejectionLowerLimit }` per working point. */
  workingPoints?: Record<string, Array<Record<string, number | null>>>;
}

/**
 * `metrics` of --json: per evaluate stage and trained stage, the model's name,
 * its one-vs-rest AUC by class name, its accuracy and its working points, e.g.
 * `{ evaluate: { "train-hlf": { model: "hlf", auc: { QCD: 0.98, ttbar: 0.97, "W+jets": 0.98 }, accuracy: 0.91,
 * workingPoints: { ttbar: [{ target: 0.99, fpr: 0.08, rejection: 12.5, … }, …], … } } } }`.
 */
export function evaluationMetrics(p: RunProgress): Record<string, Record<string, EvaluationMetrics>> {
  const out: Record<string, Record<string, EvaluationMetrics>> = {};
  for (const id of p.order) {
    const s = p.stages[id]!;
    if (s.uses !== 'evaluate' || !s.outcome?.summary || typeof s.outcome.summary !== 'object') continue;
    const scored = s.outcome.summary as unknown as Record<string, ScoredModel>;
    out[id] = Object.fromEntries(Object.entries(scored).map(([stage, m]) => [stage, {
      model: m.model,
      auc: Object.fromEntries(CLASS_NAMES.map((c, i) => [c, m.auc[i]!])),
      accuracy: m.accuracy,
      ...(m.workingPoints ? { workingPoints: Object.fromEntries(CLASS_NAMES.map((c, i) => [c, m.workingPoints![i] ?? []])) } : {}),
    }]));
  }
  return out;
}
