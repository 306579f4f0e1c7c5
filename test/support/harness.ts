/**
 * Integration-test harness: a real Temporal dev server (SQLite), worker
 * processes spawned like production ones (so they can be kill -9'd), and
 * helpers to start runs and wait on their progress.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import { startTemporalDevServer, type TemporalDevServer } from '../../infra/temporal.js';
import { projectRoot } from '../../infra/tools.js';
import { NAMES, type PipelineRunInput, type RunProgress, type RunResult } from '../../protocol/protocol.js';
import { startRun } from '../../cli/runs.js';

export const cliEntry = join(projectRoot, 'bin', 'topoflow.js');
export const testPlugins = join(projectRoot, 'dist', 'test', 'support', 'kinds.js');

export interface WorkerProc {
  child: ChildProcess;
  pid: number;
  output(): string;
  kill9(): Promise<void>;
  stop(): Promise<void>;
}

export class Harness {
  readonly tmp = mkdtempSync(join(tmpdir(), 'topoflow-it-'));
  server!: TemporalDevServer;
  client!: Client;
  private connection!: Connection;
  private workers: WorkerProc[] = [];
  private runSeq = 0;
  /** More `temporal server start-dev` arguments (e.g. lowered history limits), kept across restarts. */
  private serverArgs: string[] = [];

  async start(port?: number, serverArgs: string[] = []): Promise<void> {
    this.serverArgs = serverArgs;
    this.server = await startTemporalDevServer({ dbFile: join(this.tmp, 'temporal.db'), headless: true, extraArgs: serverArgs, ...(port ? { port } : {}) });
    this.connection = await Connection.connect({ address: this.server.address });
    this.client = new Client({ connection: this.connection, namespace: this.server.namespace });
  }

  /** Stops the server and starts it again on the same port and SQLite file. */
  async restartServer(): Promise<void> {
    const { port, dbFile } = this.server;
    await this.server.stop();
    this.server = await startTemporalDevServer({ dbFile, port, headless: true, extraArgs: this.serverArgs });
  }

  /** Stops the server for `ms` (longer than the client's own gRPC retries), then starts it again as restartServer does. */
  async outage(ms: number): Promise<void> {
    const { port, dbFile } = this.server;
    await this.server.stop();
    await sleep(ms);
    this.server = await startTemporalDevServer({ dbFile, port, headless: true });
  }

  /** Environment for child processes (CLI, workers) pointing at this server. */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return { ...process.env, TEMPORAL_ADDRESS: this.server.address, TEMPORAL_NAMESPACE: this.server.namespace, TOPOFLOW_PLUGINS: testPlugins, ...extra };
  }

  async startWorker(args: string[] = []): Promise<WorkerProc> {
    const child = spawn(process.execPath, [cliEntry, 'worker', '--file', join(projectRoot, 'test', 'fixtures', 'engine', 'pipelines.yaml'), ...args], { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 60_000;
    while (!out.includes('polling')) {
      if (child.exitCode !== null) throw new Error(`worker exited (${child.exitCode}):\n${out}`);
      if (Date.now() > deadline) throw new Error(`worker did not start:\n${out}`);
      await sleep(100);
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const proc: WorkerProc = {
      child,
      pid: child.pid!,
      output: () => out,
      kill9: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      },
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
        await exited;
        clearTimeout(t);
      },
    };
    this.workers.push(proc);
    return proc;
  }

  async run(input: PipelineRunInput, id?: string): Promise<string> {
    const runId = id ?? `it-${process.pid}-${++this.runSeq}-${Date.now()}`;
    await startRun(this.client, runId, input);
    return runId;
  }

  async result(runId: string): Promise<RunResult> {
    return (await this.client.workflow.getHandle(runId).result()) as RunResult;
  }

  async progress(runId: string): Promise<RunProgress | null> {
    try {
      return await this.client.workflow.getHandle(runId).query<RunProgress>(NAMES.progressQuery);
    } catch {
      return null;
    }
  }

  /** Polls the progress query until `pred` holds. */
  async waitFor(runId: string, pred: (p: RunProgress) => boolean, what: string, timeoutMs = 60_000): Promise<RunProgress> {
    const deadline = Date.now() + timeoutMs;
    let last: RunProgress | null = null;
    while (Date.now() < deadline) {
      last = await this.progress(runId);
      if (last && pred(last)) return last;
      await sleep(150);
    }
    throw new Error(`timed out waiting for ${what}; last progress: ${JSON.stringify(last)}`);
  }

  async stopWorkers(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.stop()));
    this.workers = [];
  }

  async stop(): Promise<void> {
    await this.stopWorkers();
    await this.connection?.close();
    await this.server?.stop();
  }
}
