/**
 * `topoflow schedule create|list|delete`: periodic re-processing with Temporal
 * Schedules. Overlap policy SKIP (a run still going when the next is due makes
 * the schedule skip that one) and a catch-up window (actions missed while the
 * server was down are run on its return only if they are this recent) are
 * Temporal's; `create` prints them and `list` shows them with the next times.
 */
import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { DURATION_RE, durationMs } from '../config/spec.js';
import { DEFAULT_TASK_QUEUE, NAMES, SA_PIPELINE_NAME, SA_RUN_KIND, type PipelineRunInput } from '../protocol/protocol.js';
import { resolvePipeline, withStack } from './runs.js';
import { UsageError, type Globals } from './globals.js';

export interface ScheduleCreateOptions {
  every?: string;
  cron?: string;
  set: string[];
  id?: string;
  catchupWindow?: string;
}

/** Catch-up window default: a run missed during a short outage still happens; a day-old one does not. */
const DEFAULT_CATCHUP = '10m';

export interface PipelineSchedule {
  scheduleId: string;
  pipeline: string;
  input: PipelineRunInput;
  everyMs?: number;
  cron?: string;
  catchupWindowMs: number;
}

/** Creates the Temporal Schedule (the CLI's and the tests' one way to do it). */
export async function createPipelineSchedule(client: Client, s: PipelineSchedule): Promise<void> {
  await client.schedule.create({
    scheduleId: s.scheduleId,
    spec: s.everyMs !== undefined ? { intervals: [{ every: s.everyMs }] } : { cronExpressions: [s.cron!] },
    action: {
      type: 'startWorkflow',
      workflowType: NAMES.workflow,
      // Temporal appends each action's scheduled time to this id.
      workflowId: `${s.pipeline}-scheduled`,
      taskQueue: DEFAULT_TASK_QUEUE,
      args: [{ ...s.input, runKind: 'scheduled' }],
      typedSearchAttributes: [
        { key: SA_PIPELINE_NAME, value: s.pipeline },
        { key: SA_RUN_KIND, value: 'scheduled' },
      ],
    },
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: s.catchupWindowMs },
  });
}

export async function scheduleCreate(g: Globals, pipeline: string, opts: ScheduleCreateOptions): Promise<number> {
  if (!!opts.every === !!opts.cron) throw new UsageError('schedule create: give exactly one of --every <duration> or --cron <expression>');
  if (opts.every && !DURATION_RE.test(opts.every)) throw new UsageError(`--every: "${opts.every}" is not a duration; expected e.g. 30s, 15m, 6h, 1d`);
  if (opts.every && durationMs(opts.every) < 1000) throw new UsageError('--every: the shortest interval is 1s');
  const catchup = opts.catchupWindow ?? DEFAULT_CATCHUP;
  if (!DURATION_RE.test(catchup) || durationMs(catchup) < 10_000) throw new UsageError(`--catchup-window: "${catchup}" is not a duration of at least 10s (Temporal's minimum); expected e.g. 10m, 1h`);
  const { file, spec, params } = await resolvePipeline(g, pipeline, opts.set);
  // The spec is embedded: scheduled runs are reproducible even if pipelines.yaml changes later.
  const input: PipelineRunInput = { pipeline: spec, params, storage: file.storage, runKind: 'scheduled' };
  const scheduleId = opts.id ?? `${pipeline}-schedule`;
  return withStack(g, async ({ client }) => {
    await createPipelineSchedule(client, { scheduleId, pipeline, input, catchupWindowMs: durationMs(catchup), ...(opts.every ? { everyMs: durationMs(opts.every) } : { cron: opts.cron! }) });
    process.stdout.write(`schedule ${scheduleId} created: pipeline ${pipeline} ${opts.every ? `every ${opts.every}` : `cron "${opts.cron}"`}; ` +
      `overlap: skip (a run still going when the next is due skips that one); catch-up window ${catchup} (runs missed while the server was down are made up only if this recent)\n`);
    return 0;
  });
}

export async function scheduleList(g: Globals, json: boolean): Promise<number> {
  return withStack(g, async ({ client }) => {
    const rows: Array<{ id: string; spec: string; paused: boolean; overlap: string; catchupWindow: string; next?: string; recent: number }> = [];
    for await (const s of client.schedule.list()) {
      const spec = [...(s.spec?.intervals ?? []).map((i) => `every ${shortDuration(i.every)}`), ...(s.spec?.calendars ?? []).map(() => 'calendar')].join(', ');
      // The listing has no policies: describe each (schedules are few).
      const d = await client.schedule.getHandle(s.scheduleId).describe();
      rows.push({
        id: s.scheduleId, spec, paused: s.state.paused,
        overlap: String(d.policies.overlap).toLowerCase().replace(/^schedule_overlap_policy_/, ''),
        catchupWindow: shortDuration(d.policies.catchupWindow),
        recent: d.info.recentActions.length,
        ...(s.info.nextActionTimes[0] ? { next: s.info.nextActionTimes[0].toISOString() } : {}),
      });
    }
    if (json) process.stdout.write(`${JSON.stringify(rows)}\n`);
    else if (!rows.length) process.stdout.write('no schedules\n');
    else for (const r of rows) process.stdout.write(`${r.id.padEnd(28)} ${r.spec.padEnd(20)} ${r.paused ? 'paused' : 'active'}  overlap: ${r.overlap}  catch-up: ${r.catchupWindow}  next: ${r.next ?? '-'}\n`);
    return 0;
  });
}

/** 2000 → "2s", 21600000 → "6h" (the largest whole unit); strings as Temporal gives them. */
function shortDuration(d: number | string): string {
  if (typeof d !== 'number') return d;
  const units: Array<[string, number]> = [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]];
  const [unit, ms] = units.find(([, ms]) => d % ms === 0) ?? ['ms', 1];
  return `${d / ms}${unit}`;
}

export async function scheduleDelete(g: Globals, id: string): Promise<number> {
  return withStack(g, async ({ client }) => {
    await client.schedule.getHandle(id).delete();
    process.stdout.write(`schedule ${id} deleted\n`);
    return 0;
  });
}
