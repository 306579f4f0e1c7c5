/**
 * Orchestration overhead: how long the engine itself takes per stage, with a
 * stage kind that does nothing (`noop`), on a real Temporal dev server and a
 * worker process, local storage.
 *
 *   node dist/bench/orchestration.js [--runs N]
 *
 * Reports (median of N runs):
 *   - fresh run of `noop6` (6 chained stages, all executed): wall / 6 = per-stage overhead,
 *     back to back and after 3 s of idle server
 *   - fully cached rerun of `noop6`: workflow wall time, and the whole
 *     `topoflow run noop6` command (process start, validation, connect, follow)
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { startTemporalDevServer } from '../infra/temporal.js';
import { projectRoot } from '../infra/tools.js';
import { loadPipelinesFile } from '../config/load.js';
import { configVocabulary } from '../stages/configVocabulary.js';
import { loadRegistry } from '../stages/index.js';
import { startRun } from '../cli/runs.js';
import type { RunResult } from '../protocol/protocol.js';

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1] || 5);
const tmp = mkdtempSync(join(tmpdir(), 'topoflow-bench-'));
// A copy, so its relative storage root lands in the temporary folder.
const specFile = join(tmp, 'pipelines.yaml');
copyFileSync(join(projectRoot, 'pipelines.yaml'), specFile);
const cli = join(projectRoot, 'bin', 'topoflow.js');

const server = await startTemporalDevServer({ dbFile: join(tmp, 'temporal.db'), headless: true, extraArgs: (process.env.BENCH_SERVER_ARGS ?? '').split(' ').filter(Boolean) });
const env = { ...process.env, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace };
const worker = spawn(process.execPath, [cli, 'worker', '--file', specFile], { env, stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise<void>((resolve) => worker.stdout.on('data', (d: Buffer) => d.toString().includes('polling') && resolve()));
const connection = await Connection.connect({ address: server.address });
const client = new Client({ connection, namespace: server.namespace });

try {
  const file = loadPipelinesFile(specFile, configVocabulary(await loadRegistry()));
  const spec = file.pipelines.noop6!;
  const storage = file.storage;
  const stages = Object.keys(spec.stages).length;
  let seq = 0;
  const timedRun = async (tag: string): Promise<{ ms: number; result: RunResult }> => {
    const t0 = performance.now();
    const id = `bench-${++seq}`;
    await startRun(client, id, { pipeline: spec, params: { tag }, storage });
    const result = (await client.workflow.getHandle(id).result()) as RunResult;
    return { ms: performance.now() - t0, result };
  };

  await timedRun('warm-up'); // first run pays for worker caches and SQLite warm-up
  const fresh: number[] = [];
  const cached: number[] = [];
  for (let i = 0; i < runs; i++) {
    const f = await timedRun(`fresh-${i}`);
    if (Object.values(f.result.stages).some((s) => s.status !== 'completed')) throw new Error('fresh run did not execute every stage');
    fresh.push(f.ms);
    const c = await timedRun(`fresh-${i}`);
    if (Object.values(c.result.stages).some((s) => s.status !== 'cached')) throw new Error('rerun was not fully cached');
    cached.push(c.ms);
  }

  // Runs are rarely back to back: the same fresh run after the server has been idle for 3 s.
  const idleFresh: number[] = [];
  for (let i = 0; i < runs; i++) {
    await sleep(3000);
    idleFresh.push((await timedRun(`idle-${i}`)).ms);
  }

  // The whole command a user types, against the running server (no embedded start).
  const cliMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, '--file', specFile, 'run', 'noop6', '--set', `tag=fresh-0`, '--json'], {
      env: { ...env, TOPOFLOW_DATA: tmp },
      encoding: 'utf8',
    });
    cliMs.push(performance.now() - t0);
    const out = JSON.parse(r.stdout) as { status: string; stages: Record<string, { status: string }> };
    if (r.status !== 0 || Object.values(out.stages).some((s) => s.status !== 'cached')) throw new Error(`CLI rerun not cached: ${r.stdout}${r.stderr}`);
  }

  // Baseline: the same number of sequential activity round trips (prepare + 6 stages) in a bare
  // Temporal workflow with an in-process worker, on the same server.
  const rawWorker = await Worker.create({
    connection: await NativeConnection.connect({ address: server.address }),
    taskQueue: 'raw-baseline',
    workflowsPath: fileURLToPath(new URL('./rawChainWorkflow.js', import.meta.url)),
    activities: { nothing: async () => {} },
  });
  const rawMs = await rawWorker.runUntil(async () => {
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      await client.workflow.execute('rawChain', { taskQueue: 'raw-baseline', workflowId: `raw-${i}`, args: [stages + 1] });
      times.push(performance.now() - t0);
    }
    return times;
  });

  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows = [
    ['fresh run, 6 no-op stages (workflow wall)', med(fresh)],
    ['  per stage', med(fresh) / stages],
    ['fresh run after 3 s idle, 6 no-op stages (workflow wall)', med(idleFresh)],
    ['  per stage', med(idleFresh) / stages],
    ['fully cached rerun, 6 stages (workflow wall)', med(cached)],
    ['  per stage', med(cached) / stages],
    ['fully cached rerun, whole `topoflow run noop6 --json` command', med(cliMs)],
    [`baseline: bare Temporal workflow, ${stages + 1} sequential no-op activities, back to back`, med(rawMs)],
  ] as const;
  console.log(`\n| measurement (median of ${runs}) | ms |\n|---|---:|`);
  for (const [what, ms] of rows) console.log(`| ${what} | ${ms.toFixed(0)} |`);
  console.log(`\nraw fresh: ${fresh.map((x) => x.toFixed(0)).join(', ')}\nraw idle fresh: ${idleFresh.map((x) => x.toFixed(0)).join(', ')}\nraw cached: ${cached.map((x) => x.toFixed(0)).join(', ')}\nraw baseline: ${rawMs.map((x) => x.toFixed(0)).join(', ')}\nraw cli: ${cliMs.map((x) => x.toFixed(0)).join(', ')}`);
} finally {
  await connection.close();
  worker.kill('SIGTERM');
  await new Promise((r) => worker.once('exit', r));
  await server.stop();
  await sleep(100);
  rmSync(tmp, { recursive: true, force: true });
}
