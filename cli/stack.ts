/**
 * The embedded stack: a Temporal dev server (SQLite in the data folder, with
 * the Web UI), one worker process for the `topoflow` queue (workflows and CPU
 * stages) and train workers for the `train` queue (TOPOFLOW_TRAIN_WORKERS,
 * default one per core up to 2; tfjs uses one core per process). Used when no cluster is configured.
 * `topoflow up` keeps one in the foreground; other commands reuse it, or start
 * their own for the duration of the command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { createServer } from 'node:net';
import { Client, Connection } from '@temporalio/client';
import proto from '@temporalio/proto';
import { startTemporalDevServer, type TemporalDevServer } from '../infra/temporal.js';
import { freePort } from '../infra/ports.js';
import { projectRoot } from '../infra/tools.js';
import { DEFAULT_TASK_QUEUE, TRAIN_TASK_QUEUE } from '../protocol/protocol.js';
import { clusterFromEnv, type TemporalTarget } from '../infra/temporalTarget.js';

export interface Stack {
  target: TemporalTarget;
  client: Client;
  uiUrl?: string;
  /** True when this process started the servers (they stop on close()). */
  owned: boolean;
  close(): Promise<void>;
}

export interface StackOptions {
  dataDir: string;
  specFile: string;
  log: (line: string) => void;
}

interface StackState {
  address: string;
  uiUrl?: string;
  serverPid: number;
  workerPids: number[];
}

const stateFile = (dataDir: string) => join(dataDir, 'stack.json');
/** Where the server's and the workers' logs go. */
export const logsFolder = (dataDir: string) => join(dataDir, 'logs');
export const cliEntry = join(projectRoot, 'bin', 'topoflow.js');

export async function openStack(opts: StackOptions): Promise<Stack> {
  const cluster = clusterFromEnv();
  if (cluster) return connectTo(cluster, false, async () => {});
  const reused = await reuseRunningStack(opts.dataDir);
  if (reused) return reused;
  return startStack(opts);
}

/** Starts server + worker; the caller owns them (close() stops both). */
export async function startStack(opts: StackOptions): Promise<Stack> {
  mkdirSync(logsFolder(opts.dataDir), { recursive: true });
  const port = await portOr(Number(process.env.TOPOFLOW_TEMPORAL_PORT ?? 7233));
  const uiPort = await portOr(Number(process.env.TOPOFLOW_UI_PORT ?? port + 1000));
  opts.log(`starting Temporal dev server on 127.0.0.1:${port} (state: ${join(opts.dataDir, 'temporal.db')})`);
  const server = await startTemporalDevServer({ dbFile: join(opts.dataDir, 'temporal.db'), port, uiPort, logFile: join(logsFolder(opts.dataDir), 'temporal.log') });
  const target: TemporalTarget = { connection: { address: server.address }, namespace: server.namespace };
  const workers: ChildProcess[] = [];
  try {
    const worker = spawnWorker(server.address, server.namespace, opts, DEFAULT_TASK_QUEUE, 'worker.log');
    workers.push(worker);
    for (let i = 0; i < trainWorkers(); i++) workers.push(spawnWorker(server.address, server.namespace, opts, TRAIN_TASK_QUEUE, `train-worker-${i + 1}.log`));
    const state: StackState = { address: server.address, serverPid: server.pid, workerPids: workers.map((w) => w.pid!), ...(server.uiUrl ? { uiUrl: server.uiUrl } : {}) };
    writeFileSync(stateFile(opts.dataDir), JSON.stringify(state, null, 2));
    const stack = await connectTo(target, true, async () => {
      await Promise.all(workers.map(stopChild));
      await server.stop();
      rmSync(stateFile(opts.dataDir), { force: true });
    }, server.uiUrl);
    await waitForWorker(stack.client, target.namespace, worker, join(logsFolder(opts.dataDir), 'worker.log'));
    return stack;
  } catch (err) {
    await Promise.all(workers.map(stopChild));
    await server.stop();
    rmSync(stateFile(opts.dataDir), { force: true });
    throw err;
  }
}

async function reuseRunningStack(dataDir: string): Promise<Stack | null> {
  if (!existsSync(stateFile(dataDir))) return null;
  const state = JSON.parse(readFileSync(stateFile(dataDir), 'utf8')) as StackState;
  if (!isAlive(state.serverPid) || !Array.isArray(state.workerPids) || !state.workerPids.every(isAlive)) return null;
  try {
    return await connectTo({ connection: { address: state.address }, namespace: 'default' }, false, async () => {}, state.uiUrl);
  } catch {
    return null;
  }
}

async function connectTo(target: TemporalTarget, owned: boolean, stop: () => Promise<void>, uiUrl?: string): Promise<Stack> {
  const connection = await Connection.connect({ ...target.connection, connectTimeout: 5_000 });
  const client = new Client({ connection, namespace: target.namespace });
  return {
    target,
    client,
    owned,
    ...(uiUrl ? { uiUrl } : {}),
    async close() {
      await connection.close();
      await stop();
    },
  };
}

/** Default: one per core, at most 2 (the CPU stages are done by the time training starts). */
function trainWorkers(): number {
  const n = Number(process.env.TOPOFLOW_TRAIN_WORKERS ?? Math.min(2, availableParallelism()));
  if (!Number.isInteger(n) || n < 0 || n > 64) throw new Error(`TOPOFLOW_TRAIN_WORKERS=${process.env.TOPOFLOW_TRAIN_WORKERS} is not a worker count (0-64)`);
  return n;
}

function spawnWorker(address: string, namespace: string, opts: StackOptions, queue: string, logName: string): ChildProcess {
  const logPath = join(logsFolder(opts.dataDir), logName);
  const fd = openSync(logPath, 'a');
  // A train worker takes one training at a time: tfjs runs on one core per process.
  const slots = queue === TRAIN_TASK_QUEUE ? ['--slots', '1'] : [];
  const child = spawn(process.execPath, [cliEntry, 'worker', '--queues', queue, ...slots, '--file', opts.specFile], {
    env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  return child;
}

/** Waits until the worker polls the workflow queue, so runs start promptly. */
export async function waitForWorker(client: Client, namespace: string, worker: ChildProcess | undefined, logPath: string, timeoutMs = 90_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (worker && worker.exitCode !== null) {
      throw new Error(`the worker exited with code ${worker.exitCode} while starting; see ${logPath}:\n${tail(logPath)}`);
    }
    const res = await client.workflowService.describeTaskQueue({
      namespace,
      taskQueue: { name: DEFAULT_TASK_QUEUE },
      taskQueueType: proto.temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
    });
    if ((res.pollers ?? []).length > 0) return;
    await sleep(250);
  }
  throw new Error(`no worker polled task queue "${DEFAULT_TASK_QUEUE}" within ${timeoutMs / 1000} s; see ${logPath}`);
}

function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The preferred port when free, else any free one. */
async function portOr(preferred: number): Promise<number> {
  const free = await new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen({ host: '127.0.0.1', port: preferred }, () => s.close(() => resolve(true)));
  });
  return free ? preferred : freePort();
}

export type { TemporalDevServer };
