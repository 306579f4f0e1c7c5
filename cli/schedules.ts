/** `topoflow schedule create|list|delete`: periodic re-processing with Temporal Schedules. */
import { ScheduleOverlapPolicy } from '@temporalio/client';
import { DURATION_RE, durationMs } from '../config/spec.js';
import { DEFAULT_TASK_QUEUE, NAMES, SA_PIPELINE_NAME, SA_RUN_KIND, type PipelineRunInput } from '../protocol/protocol.js';
import { resolvePipeline, withStack } from './runs.js';
import { UsageError, type Globals } from './globals.js';

export interface ScheduleCreateOptions {
  every?: string;
  cron?: string;
  set: string[];
  id?: string;
}

export async function scheduleCreate(g: Globals, pipeline: string, opts: ScheduleCreateOptions): Promise<number> {
  if (!!opts.every === !!opts.cron) throw new UsageError('schedule create: give exactly one of --every <duration> or --cron <expression>');
  if (opts.every && !DURATION_RE.test(opts.every)) throw new UsageError(`--every: "${opts.every}" is not a duration; expected e.g. 30s, 15m, 6h, 1d`);
  if (opts.every && durationMs(opts.every) < 1000) throw new UsageError('--every: the shortest interval is 1s');
  const { file, spec, params } = await resolvePipeline(g, pipeline, opts.set);
  // The spec is embedded: scheduled runs are reproducible even if pipelines.yaml changes later.
  const input: PipelineRunInput = { pipeline: spec, params, storage: file.storage, runKind: 'scheduled' };
  const scheduleId = opts.id ?? `${pipeline}-schedule`;
  return withStack(g, async ({ client }) => {
    await client.schedule.create({
      scheduleId,
      spec: opts.every ? { intervals: [{ every: durationMs(opts.every) }] } : { cronExpressions: [opts.cron!] },
      action: {
        type: 'startWorkflow',
        workflowType: NAMES.workflow,
        workflowId: `${pipeline}-scheduled`,
        taskQueue: DEFAULT_TASK_QUEUE,
        args: [input],
        typedSearchAttributes: [
          { key: SA_PIPELINE_NAME, value: pipeline },
          { key: SA_RUN_KIND, value: 'scheduled' },
        ],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    });
    process.stdout.write(`schedule ${scheduleId} created: pipeline ${pipeline} ${opts.every ? `every ${opts.every}` : `cron "${opts.cron}"`}\n`);
    return 0;
  });
}

export async function scheduleList(g: Globals, json: boolean): Promise<number> {
  return withStack(g, async ({ client }) => {
    const rows: Array<{ id: string; spec: string; paused: boolean; next?: string }> = [];
    for await (const s of client.schedule.list()) {
      const spec = [...(s.spec?.intervals ?? []).map((i) => `every ${String(i.every)}`), ...(s.spec?.calendars ?? []).map(() => 'calendar')].join(', ');
      rows.push({ id: s.scheduleId, spec, paused: s.state.paused, ...(s.info.nextActionTimes[0] ? { next: s.info.nextActionTimes[0].toISOString() } : {}) });
    }
    if (json) process.stdout.write(`${JSON.stringify(rows)}\n`);
    else if (!rows.length) process.stdout.write('no schedules\n');
    else for (const r of rows) process.stdout.write(`${r.id.padEnd(28)} ${r.spec.padEnd(20)} ${r.paused ? 'paused' : 'active'}  next: ${r.next ?? '-'}\n`);
    return 0;
  });
}

export async function scheduleDelete(g: Globals, id: string): Promise<number> {
  return withStack(g, async ({ client }) => {
    await client.schedule.getHandle(id).delete();
    process.stdout.write(`schedule ${id} deleted\n`);
    return 0;
  });
}
