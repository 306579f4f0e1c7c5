/**
 * How many history events a pipeline run records: every execution of the
 * run's workflow id (continue-as-new makes more than one) and of its fan-out
 * children, on a fresh Temporal dev server with workers laid out as
 * `topoflow up` does (one for the `topoflow` queue, two one-slot `train` ones).
 *
 *   node dist/bench/runHistory.js [--pipeline demo] [--set k=v]...
 *
 * Prints one row per execution (events, signals among them) and the totals.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { startTemporalDevServer } from '../infra/temporal.js';
import { projectRoot } from '../infra/tools.js';
import { loadPipelinesFile } from '../config/load.js';
import { parseSetArgs } from '../config/params.js';
import { configVocabulary } from '../stages/configVocabulary.js';
import { loadRegistry } from '../stages/index.js';
import { startRun } from '../cli/runs.js';
import type { RunResult } from '../protocol/protocol.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
};
const sets = process.argv.flatMap((a, i) => (a === '--set' ? [process.argv[i + 1]!] : []));
const pipeline = arg('--pipeline', 'demo');
const tmp = mkdtempSync(join(tmpdir(), 'topoflow-history-'));
// A copy, so its relative storage root lands in the temporary folder.
const specFile = join(tmp, 'pipelines.yaml');
copyFileSync(join(projectRoot, 'pipelines.yaml'), specFile);
const cli = join(projectRoot, 'bin', 'topoflow.js');

const server = await startTemporalDevServer({ dbFile: join(tmp, 'temporal.db'), headless: true });
const env = { ...process.env, TEMPORAL_ADDRESS: server.address, TEMPORAL_NAMESPACE: server.namespace };
const workerArgs = [['--queues', 'topoflow'], ['--queues', 'train', '--slots', '1'], ['--queues', 'train', '--slots', '1']];
const workers = workerArgs.map((args) => spawn(process.execPath, [cli, 'worker', '--file', specFile, ...args], { env, stdio: ['ignore', 'pipe', 'inherit'] }));
await Promise.all(workers.map((w) => new Promise<void>((resolve) => w.stdout.on('data', (d: Buffer) => d.toString().includes('polling') && resolve()))));
const connection = await Connection.connect({ address: server.address });
const client = new Client({ connection, namespace: server.namespace });
const SIGNALED = proto.temporal.api.enums.v1.EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED;

try {
  const file = loadPipelinesFile(specFile, configVocabulary(await loadRegistry()));
  const spec = file.pipelines[pipeline];
  if (!spec) throw new Error(`no pipeline "${pipeline}" in pipelines.yaml`);
  const runId = `history-${pipeline}`;
  const t0 = performance.now();
  await startRun(client, runId, { pipeline: spec, params: parseSetArgs(sets, spec.params), storage: file.storage });
  const result = (await client.workflow.getHandle(runId).result()) as RunResult;
  const seconds = (performance.now() - t0) / 1000;

  let events = 0;
  let signals = 0;
  const rows: string[] = [];
  for await (const ex of client.workflow.list()) {
    const history = await client.workflow.getHandle(ex.workflowId, ex.runId).fetchHistory();
    const n = history.events?.length ?? 0;
    const s = history.events?.filter((e) => e.eventType === SIGNALED).length ?? 0;
    events += n;
    signals += s;
    rows.push(`| ${ex.workflowId} | ${ex.type} | ${ex.status.name.toLowerCase()} | ${n} | ${s} |`);
  }
  console.log(`\n${pipeline}: ${result.status} in ${seconds.toFixed(0)} s\n`);
  console.log('| workflow id | type | status | events | signals |\n|---|---|---|---:|---:|');
  for (const r of rows.sort()) console.log(r);
  console.log(`| total | | | ${events} | ${signals} |`);
} finally {
  await connection.close();
  await Promise.all(workers.map((w) => {
    w.kill('SIGTERM');
    return new Promise((r) => w.once('exit', r));
  }));
  await server.stop();
  await sleep(100);
  rmSync(tmp, { recursive: true, force: true });
}
