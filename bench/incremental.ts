/**
 * Scheduled re-processing: the time of a scheduled run (a Temporal Schedule
 * triggered) over ingest → features with inputs by pattern, when nothing is
 * new and when 1 file is new among 100, against a from-scratch run over the
 * same 101 files. Real Temporal dev server, one `topoflow worker` process,
 * local storage and a local source directory.
 *
 *   node dist/bench/incremental.js [--files 100] [--events 300]
 *
 * Reports the workflow's wall time (start to close) and the ingest / features
 * reasons (what was read and what reused).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { startTemporalDevServer } from '../infra/temporal.js';
import { projectRoot } from '../infra/tools.js';
import { generateFile } from '../hep/generator/index.js';
import { createPipelineSchedule } from '../cli/schedules.js';
import { startRun } from '../cli/runs.js';
import type { PipelineRunInput, RunResult } from '../protocol/protocol.js';

const arg = (name: string, dflt: number) => Number(process.argv[process.argv.indexOf(name) + 1] || dflt);
const files = arg('--files', 100);
const events = arg('--events', 300);
const tmp = mkdtempSync(join(tmpdir(), 'topoflow-bench-'));
const specFile = join(tmp, 'pipelines.yaml');
copyFileSync(join(projectRoot, 'pipelines.yaml'), specFile);
const cli = join(projectRoot, 'bin', 'topoflow.js');

const server = await startTemporalDevServer({ dbFile: join(tmp, 'temporal.db'), headless: true });
const env = { ...process.env, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace };
const worker = spawn(process.execPath, [cli, 'worker', '--file', specFile], { env, stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise<void>((resolve) => worker.stdout.on('data', (d: Buffer) => d.toString().includes('polling') && resolve()));
const client = new Client({ connection: await Connection.connect({ address: server.address }), namespace: server.namespace });

const samples = ['qcd', 'ttbar', 'wjets'] as const;
const src = join(tmp, 'raw');
mkdirSync(src);
const put = (i: number) => {
  const sample = samples[i % 3]!;
  writeFileSync(join(src, `${sample}_${String(i).padStart(3, '0')}.root`), generateFile({ sample, seed: 11, fileIndex: i, events }));
};
const pipeline = {
  name: 'incremental',
  stages: {
    ingest: { uses: 'ingest', with: { inputs: [`${src}/*.root`], maxTracks: 60, maxPhotons: 20, maxNeutrals: 20, window: 2 } },
    features: { uses: 'features', needs: ['ingest'], with: { seed: 1, window: 2 } },
  },
} as unknown as PipelineRunInput['pipeline'];

/** A run's wall time by Temporal's clock (start to close), and its result. */
async function timed(id: string): Promise<{ s: number; result: RunResult }> {
  const handle = client.workflow.getHandle(id);
  const result = (await handle.result()) as RunResult;
  const d = await handle.describe();
  return { s: (d.closeTime!.getTime() - d.startTime.getTime()) / 1000, result };
}

let scheduleSeq = 0;
/** Triggers the schedule once and times the run it starts. */
async function scheduled(storage: { root: string }): Promise<{ s: number; result: RunResult }> {
  const scheduleId = `bench-${++scheduleSeq}`;
  await createPipelineSchedule(client, { scheduleId, pipeline: 'incremental', input: { pipeline, storage }, everyMs: 3_600_000, catchupWindowMs: 60_000 });
  const handle = client.schedule.getHandle(scheduleId);
  try {
    await handle.trigger();
    for (;;) {
      const action = (await handle.describe()).info.recentActions[0];
      if (action) return await timed(action.action.workflow.workflowId);
      await sleep(200);
    }
  } finally {
    await handle.delete();
  }
}

const stageCell = (r: RunResult, id: string) => {
  const st = r.stages[id]!;
  return st.status === 'cached' ? 'cached' : `${st.seconds.toFixed(1)} s`;
};
const line = (what: string, r: { s: number; result: RunResult }) =>
  `| ${what} | ${r.s.toFixed(1)} | ${stageCell(r.result, 'ingest')} | ${stageCell(r.result, 'features')} | ${Object.entries(r.result.stages).filter(([, st]) => st.status === 'completed').map(([id, st]) => `${id}: ${(st.reason ?? '').replace(/^.*?sources: /, '').replace(/^new key: /, '').replace(' from the content cache', '')}`).join('; ')} |`;

try {
  for (let i = 0; i < files; i++) put(i);
  const storage = { root: pathToFileURL(join(tmp, 'store')).href };
  const baseline = await scheduled(storage); // the 100 files, from scratch
  put(files); // one new file
  const oneNew = await scheduled(storage);
  const nothingNew = await scheduled(storage);
  // From scratch over the same 101 files, in a fresh store.
  const fresh = { root: pathToFileURL(join(tmp, 'fresh')).href };
  await startRun(client, 'bench-scratch', { pipeline, storage: fresh });
  const scratch = await timed('bench-scratch');
  console.log(`\n${files} + 1 files × ${events} events; ingest → features; times are the workflow's start to close\n`);
  console.log('| run | run s | ingest | features | what ran |\n|---|---:|---:|---:|---|');
  console.log(line(`scheduled, from scratch (${files} files)`, baseline));
  console.log(line(`scheduled, 1 new file among ${files}`, oneNew));
  console.log(line('scheduled, nothing new', nothingNew));
  console.log(line(`manual, from scratch over the ${files + 1} files (fresh store)`, scratch));
} finally {
  worker.kill('SIGTERM');
  await server.stop();
  rmSync(tmp, { recursive: true, force: true });
}
