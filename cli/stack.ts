/**
 * The embedded stack: a Temporal dev server (SQLite in the data folder, with
 * the Web UI), one worker process for the `topoflow` queue (workflows and CPU
 * stages) and train workers for the `train` queue (TOPOFLOW_TRAIN_WORKERS,
 * default one per core up to 2; tfjs uses one core per process). Used when no cluster is configured.
 * `topoflow up` keeps one in the foreground; other commands reuse it, or start
 * their own for the duration of the command (read-only ones: the server alone). One stack per data folder: its
 * owner holds the folder's lock (stackLock.ts), and other commands ask the
 * owner for the stack's address. The owner restarts a worker that dies.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync, closeSync } from 'node:fs';
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
import { acquireDataFolderLock, askStackOwner, type DataFolderLock } from './stackLock.js';
import { UsageError } from './globals.js';

export interface Stack {
  target: TemporalTarget;
  client: Client;
  uiUrl?: string;
  /** True when this process started the servers (they stop on close()). */
  owned: boolean;
  /** Where the embedded stack's server and workers log (absent for a cluster). */
  logsDir?: string;
  /** Runs `ask` (a workflow query) where a worker can answer it: on a stack without workers, under one in this process. */
  answerQueries<T>(ask: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface StackOptions {
  dataDir: string;
  specFile: string;
  log: (line: string) => void;
  /** For commands that only read: with no stack running, serve the folder's state without starting workers. */
  readOnly?: boolean;
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
  const deadline = Date.now() + 180_000;
  for (;;) {
    const owner = await askStackOwner(opts.dataDir);
    if (owner && owner !== 'starting') {
      const stack = await connectTo({ connection: { address: owner.address }, namespace: owner.namespace }, false, async () => {}, owner.uiUrl).catch((err: unknown) => {
        throw new Error(`the stack of ${opts.dataDir} (process ${owner.ownerPid}) does not answer at ${owner.address}: ${(err as Error).message}`);
      });
      return { ...stack, logsDir: logsFolder(opts.dataDir) };
    }
    if (owner === null) {
      const lock = await acquireDataFolderLock(opts.dataDir);
      if (lock) return opts.readOnly ? startReadOnlyStack(opts, lock) : startStack(opts, lock);
    }
    // Another command is starting this folder's stack (or just took the lock): wait for it.
    if (Date.now() > deadline) throw new Error(`the stack of ${opts.dataDir} is still starting after 3 minutes (see ${logsFolder(opts.dataDir)}/)`);
    await sleep(500);
  }
}

/** Starts server + workers as the data folder's owner; the caller owns them (close() stops them). */
export async function startStack(opts: StackOptions, heldLock?: DataFolderLock): Promise<Stack> {
  const lock = heldLock ?? (await acquireDataFolderLock(opts.dataDir));
  if (!lock) {
    const owner = await askStackOwner(opts.dataDir);
    const who = owner && owner !== 'starting' ? `process ${owner.ownerPid}, Temporal at ${owner.address}` : 'starting';
    throw new UsageError(`a stack for the data folder ${opts.dataDir} is already running (${who}): commands use it as it is; stop it first to start another`);
  }
  try {
    return await startOwnedStack(opts, lock);
  } catch (err) {
    await lock.release();
    throw err;
  }
}

async function startOwnedStack(opts: StackOptions, lock: DataFolderLock): Promise<Stack> {
  mkdirSync(logsFolder(opts.dataDir), { recursive: true });
  const port = await portOr(Number(process.env.TOPOFLOW_TEMPORAL_PORT ?? 7233));
  const uiPort = await portOr(Number(process.env.TOPOFLOW_UI_PORT ?? port + 1000));
  opts.log(`starting Temporal dev server on 127.0.0.1:${port} (state: ${join(opts.dataDir, 'temporal.db')})`);
  const server = await startTemporalDevServer({ dbFile: join(opts.dataDir, 'temporal.db'), port, uiPort, logFile: join(logsFolder(opts.dataDir), 'temporal.log') });
  const target: TemporalTarget = { connection: { address: server.address }, namespace: server.namespace };
  const workers: SupervisedWorker[] = [];
  // stack.json: for people and scripts; commands ask the lock's owner instead.
  const writeState = () => {
    const state: StackState = { address: server.address, serverPid: server.pid, workerPids: workers.map((w) => w.pid), ...(server.uiUrl ? { uiUrl: server.uiUrl } : {}) };
    writeFileSync(stateFile(opts.dataDir), JSON.stringify(state, null, 2));
  };
  // On a failed start the caller (startStack) releases the lock; on close() this does.
  const stopProcesses = async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await server.stop();
    rmSync(stateFile(opts.dataDir), { force: true });
  };
  const stopAll = async () => {
    await stopProcesses();
    await lock.release();
  };
  try {
    const supervise = (queue: string, logName: string) =>
      new SupervisedWorker(() => spawnWorker(server.address, server.namespace, opts, queue, logName), `the ${queue} worker (${logName})`, opts.log, writeState);
    const worker = supervise(DEFAULT_TASK_QUEUE, 'worker.log');
    workers.push(worker);
    for (let i = 0; i < trainWorkers(); i++) workers.push(supervise(TRAIN_TASK_QUEUE, `train-worker-${i + 1}.log`));
    writeState();
    const stack = { ...(await connectTo(target, true, stopAll, server.uiUrl)), logsDir: logsFolder(opts.dataDir) };
    await waitForWorker(stack.client, target.namespace, worker.child, join(logsFolder(opts.dataDir), 'worker.log'));
    lock.publish({ address: server.address, namespace: server.namespace, ownerPid: process.pid, ...(server.uiUrl ? { uiUrl: server.uiUrl } : {}) });
    return stack;
  } catch (err) {
    await stopProcesses();
    throw err;
  }
}

/**
 * Only the dev server, headless, on the folder's state, for the duration of a read-only command (no
 * worker processes to start, no waiting for a poller: see bench/RESULTS.md). Queries are answered by a
 * workflow worker in this process. The lock's owner never publishes this stack, so a command that needs
 * workers waits for it to end and then starts a full one.
 */
async function startReadOnlyStack(opts: StackOptions, lock: DataFolderLock): Promise<Stack> {
  let server: TemporalDevServer | undefined;
  // A read-only session writes no workflow state: killing the server is safe (SQLite's journal survives a
  // crash; the next start recovers) and spares the graceful shutdown's 1.2-1.4 s.
  const stop = async () => {
    await server?.kill();
    await lock.release();
  };
  try {
    server = await startTemporalDevServer({ dbFile: join(opts.dataDir, 'temporal.db'), headless: true, logFile: join(logsFolder(opts.dataDir), 'temporal.log') });
    const target: TemporalTarget = { connection: { address: server.address }, namespace: server.namespace };
    const stack = await connectTo(target, true, stop);
    // The worker SDK is loaded only when a query needs it (`list` does not).
    const answerQueries = async <T>(ask: () => Promise<T>) => (await import('../workers/queryWorker.js')).withWorkflowWorker(target, ask);
    return { ...stack, answerQueries };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A worker process that is started again when it dies (back-off 1 s, doubling to 30 s; reset after a minute of life). */
class SupervisedWorker {
  child: ChildProcess;
  private stopping = false;
  private delayMs = 1_000;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly spawnChild: () => ChildProcess,
    private readonly name: string,
    private readonly log: (line: string) => void,
    private readonly restarted: () => void,
  ) {
    this.child = this.start();
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    await stopChild(this.child);
  }

  private start(): ChildProcess {
    const child = this.spawnChild();
    const startedAt = Date.now();
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      if (Date.now() - startedAt > 60_000) this.delayMs = 1_000;
      this.log(`${this.name} (pid ${child.pid}) exited (${signal ?? `code ${code}`}); restarting it in ${this.delayMs / 1000} s`);
      this.timer = setTimeout(() => {
        this.child = this.start();
        this.log(`${this.name} restarted (pid ${this.child.pid})`);
        this.restarted();
      }, this.delayMs);
      this.timer.unref();
      this.delayMs = Math.min(30_000, this.delayMs * 2);
    });
    return child;
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
    answerQueries: (ask) => ask(),
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

/** Each of `workers` train workers' share of this machine's cores (at least one). */
export function trainCores(workers: number, cores = availableParallelism()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, workers)));
}

function spawnWorker(address: string, namespace: string, opts: StackOptions, queue: string, logName: string): ChildProcess {
  const logPath = join(logsFolder(opts.dataDir), logName);
  const fd = openSync(logPath, 'a');
  // A train worker takes one training at a time, and its share of the cores (what model replicas may use: ml/replicas.ts).
  const train = queue === TRAIN_TASK_QUEUE;
  const slots = train ? ['--slots', '1'] : [];
  const cores = train ? { TOPOFLOW_TRAIN_CORES: process.env.TOPOFLOW_TRAIN_CORES ?? String(trainCores(trainWorkers())) } : {};
  const child = spawn(process.execPath, [cliEntry, 'worker', '--queues', queue, ...slots, '--file', opts.specFile], {
    env: { ...process.env, TEMPORAL_ADDRESS: address, TEMPORAL_NAMESPACE: namespace, ...cores },
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
