/** CLI commands that start, follow and steer pipeline runs. */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { loadPipelinesFile, type PipelinesFile } from '../config/load.js';
import { parseSetArgs } from '../config/params.js';
import type { Params, PipelineSpec } from '../config/spec.js';
import { DEFAULT_TASK_QUEUE, NAMES, RUN_ABORTED, SA_PIPELINE_NAME, SA_RUN_KIND, type PipelineRunInput, type RunProgress, type RunResult } from '../protocol/protocol.js';
import { runNews } from '../protocol/runNews.js';
import { prepareRun } from '../runtime/prepare.js';
import { configVocabulary } from '../stages/configVocabulary.js';
import { stageKinds } from './kinds.js';
import { exitCodeOf, followRun, jsonSummary, progressNow, queryProgress, summaryTable, type FollowEnd } from './follow.js';
import { openStack, type Stack } from './stack.js';
import { UsageError, type Globals } from './globals.js';
import type { Storage } from '../storage/index.js';

/** Pipeline runs, one row each: a run that continued as new lists its earlier executions too. */
const RUNS_QUERY = `WorkflowType = '${NAMES.workflow}' AND ExecutionStatus != 'ContinuedAsNew'`;

export interface RunOptions {
  set: string[];
  force: string[];
  json: boolean;
  id?: string;
}

/** Loads and fully validates a pipeline from the file, as the workers will see it. */
export async function resolvePipeline(g: Globals, name: string, sets: string[]): Promise<{ file: PipelinesFile; spec: PipelineSpec; params: Params }> {
  const registry = await stageKinds();
  const file = loadPipelinesFile(g.file, configVocabulary(registry));
  const spec = file.pipelines[name];
  if (!spec) throw new UsageError(`${g.file}: no pipeline named "${name}"; expected one of: ${Object.keys(file.pipelines).sort().join(', ')}`);
  const params = parseSetArgs(sets, spec.params);
  prepareRun({ pipeline: spec, params, storage: file.storage }, { registry, defaultSpecFile: g.file });
  return { file, spec, params };
}

export async function runCommand(g: Globals, pipeline: string, opts: RunOptions): Promise<number> {
  const { file, spec, params } = await resolvePipeline(g, pipeline, opts.set);
  const unknown = opts.force.filter((id) => !(id in spec.stages));
  if (unknown.length) throw new UsageError(`--force: unknown stage ${unknown.join(', ')}; stages of "${pipeline}": ${Object.keys(spec.stages).join(', ')}`);
  const input: PipelineRunInput = { pipeline: spec, params, storage: file.storage, force: opts.force, runKind: 'manual' };
  return withStack(g, async (stack) => {
    const runId = opts.id ?? newRunId(pipeline);
    await startRun(stack.client, runId, input);
    g.log(`run ${runId} started${stack.uiUrl ? ` — ${runUrl(stack, runId)}` : ''}${stack.logsDir ? ` (stage logs, e.g. training epochs: ${stack.logsDir}/)` : ''}`);
    return report(stack.client, runId, opts.json, g);
  });
}

export async function startRun(client: Client, runId: string, input: PipelineRunInput): Promise<void> {
  const name = typeof input.pipeline === 'string' ? input.pipeline : input.pipeline.name;
  await client.workflow.start(NAMES.workflow, {
    taskQueue: DEFAULT_TASK_QUEUE,
    workflowId: runId,
    args: [input],
    typedSearchAttributes: [
      { key: SA_PIPELINE_NAME, value: name },
      { key: SA_RUN_KIND, value: input.runKind ?? 'manual' },
    ],
  });
}

/** Follows a run, prints the summary (or JSON), returns the exit code. */
async function report(client: Client, runId: string, json: boolean, g: Globals): Promise<number> {
  const end = await followRun(client, runId, { json, out: process.stderr });
  if (json) {
    process.stdout.write(`${JSON.stringify(jsonSummary(runId, end))}\n`);
  } else {
    if (end.progress) process.stdout.write(`\n${summaryTable(end.progress)}\n`);
    process.stdout.write(`${endLine(runId, end)}\n`);
  }
  g.log('');
  return exitCodeOf(end);
}

export function endLine(runId: string, end: FollowEnd): string {
  if (end.kind === 'held') {
    return `run ${runId} is HELD waiting for an operator. Fix the cause, then: topoflow retry ${runId} [--set k=v]  |  topoflow skip ${runId}  |  topoflow abort ${runId}`;
  }
  // "run X aborted: <reason>", not "aborted: run aborted: <reason>".
  const error = end.status === 'aborted' && end.error?.startsWith(RUN_ABORTED) ? end.error.slice(RUN_ABORTED.length) : end.error;
  return `run ${runId} ${end.status}${error ? `: ${error}` : ''}`;
}

export async function resumeCommand(g: Globals, runId: string, json: boolean): Promise<number> {
  return withStack(g, async (stack) => {
    const handle = stack.client.workflow.getHandle(runId);
    const desc = await handle.describe();
    if (desc.status.name === 'RUNNING') {
      const p = await queryProgress(handle);
      if (p?.status === 'held') await handle.executeUpdate(NAMES.retryUpdate, { args: [{}] });
      return report(stack.client, runId, json, g);
    }
    if (desc.status.name === 'COMPLETED') {
      g.log(`run ${runId} already completed; nothing to resume`);
      return 0;
    }
    const input = await originalInput(stack.client, runId);
    // Finished stages are found in the cache; forcing them again would redo them.
    await startRun(stack.client, runId, { ...input, force: [] });
    g.log(`run ${runId} (${desc.status.name.toLowerCase()}) restarted; completed stages come from the cache`);
    return report(stack.client, runId, json, g);
  });
}

async function originalInput(client: Client, runId: string): Promise<PipelineRunInput> {
  const history = await client.workflow.getHandle(runId).fetchHistory();
  const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  if (!payload) throw new Error(`cannot read the input of run ${runId} from its history`);
  return defaultPayloadConverter.fromPayload<PipelineRunInput>(payload);
}

export async function retryCommand(g: Globals, runId: string, opts: { stage?: string; set: string[]; json: boolean }): Promise<number> {
  return withStack(g, async (stack) => {
    const handle = stack.client.workflow.getHandle(runId);
    const progress = await requireProgress(stack.client, runId);
    const params = opts.set.length ? parseSetArgs(opts.set, progress.params) : undefined;
    g.log(await handle.executeUpdate<string, [unknown]>(NAMES.retryUpdate, { args: [{ ...(opts.stage ? { stage: opts.stage } : {}), ...(params ? { params } : {}) }] }));
    return report(stack.client, runId, opts.json, g);
  });
}

export async function skipCommand(g: Globals, runId: string, opts: { stage?: string; json: boolean }): Promise<number> {
  return withStack(g, async (stack) => {
    const handle = stack.client.workflow.getHandle(runId);
    g.log(await handle.executeUpdate<string, [unknown]>(NAMES.skipUpdate, { args: [opts.stage ? { stage: opts.stage } : {}] }));
    return report(stack.client, runId, opts.json, g);
  });
}

export async function abortCommand(g: Globals, runId: string, opts: { reason?: string; json: boolean }): Promise<number> {
  return withStack(g, async (stack) => {
    const handle = stack.client.workflow.getHandle(runId);
    g.log(await handle.executeUpdate<string, [unknown]>(NAMES.abortUpdate, { args: [opts.reason ? { reason: opts.reason } : {}] }));
    const code = await report(stack.client, runId, opts.json, g);
    return code === 1 ? 0 : code; // an aborted run is the expected outcome here
  });
}

export async function statusCommand(g: Globals, runId: string | undefined, json: boolean, verbose = false): Promise<number> {
  return withReadStack(g, async (stack) => {
    const id = runId ?? (await latestRunId(stack.client));
    if (!id) {
      g.log('no runs yet');
      return 0;
    }
    const handle = stack.client.workflow.getHandle(id);
    const desc = await handle.describe().catch((err: unknown) => {
      throw err instanceof WorkflowNotFoundError ? new UsageError(`no run ${id}`) : err;
    });
    const progress = present(await stack.answerQueries(() => progressNow(stack.client, handle, desc)), id);
    if (json) process.stdout.write(`${JSON.stringify({ ...progress, runId: id, workflowStatus: desc.status.name })}\n`);
    else process.stdout.write(`${progress.pipeline} ${id}: ${progress.status} (workflow ${desc.status.name.toLowerCase()}, started ${desc.startTime.toISOString()})\n${summaryTable(progress, { verbose })}\n`);
    return 0;
  });
}

export async function listCommand(g: Globals, opts: { limit: number; json: boolean }): Promise<number> {
  return withReadStack(g, async (stack) => {
    const rows: ListRow[] = [];
    for await (const wf of stack.client.workflow.list({ query: RUNS_QUERY })) {
      const kind = String(wf.typedSearchAttributes.get(SA_RUN_KIND) ?? '');
      const status = wf.status.name.toLowerCase();
      // Scheduled runs say what they found new: the result is read from history (no worker needed).
      const news = kind === 'scheduled' && status === 'completed'
        ? await stack.client.workflow.getHandle(wf.workflowId, wf.runId).result().then((r) => runNews(r as RunResult), () => undefined)
        : undefined;
      rows.push({ runId: wf.workflowId, pipeline: String(wf.typedSearchAttributes.get(SA_PIPELINE_NAME) ?? ''), kind, status, started: wf.startTime.toISOString(), ...(news ? { news } : {}) });
      if (rows.length >= opts.limit) break;
    }
    if (opts.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
    else if (!rows.length) process.stdout.write('no runs yet\n');
    else for (const r of [LIST_HEADER, ...rows]) process.stdout.write(`${listLine(r)}\n`);
    return 0;
  });
}

interface ListRow { runId: string; pipeline: string; kind: string; status: string; started: string; news?: string }
const LIST_HEADER: ListRow = { started: 'started', status: 'status', kind: 'kind', pipeline: 'pipeline', runId: 'run id' };
/** One line of `list`; the header goes through it too, so the columns line up. */
const listLine = (r: ListRow) => `${r.started.padEnd(24)}  ${r.status.padEnd(11)} ${r.kind.padEnd(9)} ${r.pipeline.padEnd(16)} ${r.runId}${r.news ? `\n${' '.repeat(26)}new: ${r.news}` : ''}`;

/** The manifest keys (in `storage`) of a run's finished stages, or null when the run is unknown. */
export async function runStageManifests(g: Globals, runId: string, storage: Storage): Promise<string[] | null> {
  return withReadStack(g, async (stack) => {
    const progress = await stack.answerQueries(() => queryProgress(stack.client.workflow.getHandle(runId))).catch(() => null);
    if (!progress) return null;
    // Only stages whose manifest lives in this store (a run may have used another root).
    return Object.values(progress.stages).flatMap((s) => (s.outcome?.manifestUri === storage.uri(s.outcome?.manifestKey ?? '') ? [s.outcome.manifestKey] : []));
  });
}

async function latestRunId(client: Client): Promise<string | undefined> {
  for await (const wf of client.workflow.list({ query: RUNS_QUERY })) return wf.workflowId;
  return undefined;
}

async function requireProgress(client: Client, runId: string): Promise<RunProgress> {
  return present(await queryProgress(client.workflow.getHandle(runId)), runId);
}

function present(progress: RunProgress | null, runId: string): RunProgress {
  if (!progress) throw new UsageError(`run ${runId}: no progress available (unknown run id, or no worker running to answer)`);
  return progress;
}

export async function withStack<T>(g: Globals, fn: (stack: Stack) => Promise<T>, readOnly = false): Promise<T> {
  const stack = await openStack({ dataDir: g.dataDir, specFile: g.file, log: g.log, readOnly });
  try {
    return await fn(stack);
  } finally {
    await stack.close();
  }
}

/** For commands that only read: with no stack running, no workers are started for them. */
const withReadStack = <T>(g: Globals, fn: (stack: Stack) => Promise<T>): Promise<T> => withStack(g, fn, true);

export function newRunId(pipeline: string): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${pipeline}-${stamp}-${randomBytes(2).toString('hex')}`;
}

const runUrl = (stack: Stack, runId: string) => `${stack.uiUrl}/namespaces/${stack.target.namespace}/workflows/${encodeURIComponent(runId)}`;
