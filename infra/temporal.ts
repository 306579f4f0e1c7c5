/**
 * Temporal plumbing outside workflows: launching a local dev server (tests, the
 * CLI's `--dev` mode) and turning TEMPORAL_* environment variables into client
 * connection options for a real cluster.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { connect as tcpConnect, createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Connection, type TLSConfig } from '@temporalio/client';
import { freePort } from './ports.js';
import { toolPath } from './tools.js';

/** Custom search attributes every topoflow namespace needs (name → type). */
export const SEARCH_ATTRIBUTES = {
  PipelineName: 'Keyword',
  RunKind: 'Keyword',
  CurrentStage: 'Keyword',
} as const;

export type SearchAttributeName = keyof typeof SEARCH_ATTRIBUTES;

export interface TemporalDevServerOptions {
  /** SQLite file holding the server's state; reusing it keeps workflows across restarts. */
  dbFile: string;
  /** Front-end gRPC port; a free one when omitted. */
  port?: number;
  /** Web UI port; a free one when omitted (ignored when headless). */
  uiPort?: number;
  /** No Web UI. */
  headless?: boolean;
  /** Namespace to create and wait for (default "default"). */
  namespace?: string;
  /** Server output goes here (appended) instead of an in-memory ring buffer. */
  logFile?: string;
  /** More `temporal server start-dev` arguments. */
  extraArgs?: string[];
  /** How long to wait for the server to be ready, in ms (default 60 000). */
  readyTimeoutMs?: number;
}

export interface TemporalDevServer {
  /** gRPC address, "127.0.0.1:PORT". */
  address: string;
  /** Web UI, when not headless. */
  uiUrl?: string;
  namespace: string;
  pid: number;
  port: number;
  dbFile: string;
  logFile?: string;
  /** The last `lines` lines of server output (from logFile when one is used). */
  outputTail(lines?: number): string;
  /** SIGTERM, wait for exit; SIGKILL after 10 s. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit (simulates a crash). Idempotent. */
  kill(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const RING_LINES = 200;
const ERROR_TAIL_LINES = 20;

/** Keeps the last `size` lines of a stream of text chunks. */
class LineRing {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly size: number) {}
  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > this.size) this.lines.splice(0, this.lines.length - this.size);
  }
  tail(n: number): string {
    const all = this.partial ? [...this.lines, this.partial] : this.lines;
    return all.slice(-n).join('\n');
  }
}

function fileTail(path: string, n: number): string {
  try {
    const text = readFileSync(path, 'utf8');
    return text.split('\n').filter((l, i, a) => l !== '' || i < a.length - 1).slice(-n).join('\n');
  } catch {
    return '';
  }
}

/** Servers still running, killed if this process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms?: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((res) => {
    let timer: NodeJS.Timeout | undefined;
    const onExit = () => {
      if (timer) clearTimeout(timer);
      res(true);
    };
    child.once('exit', onExit);
    if (ms !== undefined) {
      timer = setTimeout(() => {
        child.off('exit', onExit);
        res(false);
      }, ms);
    }
  });
}

/** Whether something accepts TCP connections on 127.0.0.1:port (cheap, unlike a gRPC connection). */
function tcpListening(port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((res) => {
    const socket = tcpConnect({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      res(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

async function ping(address: string, port: number, namespace: string, deadlineMs: number): Promise<void> {
  // Until the front end listens, don't build gRPC connections (they linger until their timeout).
  if (!(await tcpListening(port, deadlineMs))) throw new Error(`nothing listens on ${address} yet`);
  const connection = await Connection.connect({ address, connectTimeout: deadlineMs });
  try {
    await connection.withDeadline(Date.now() + deadlineMs, async () => {
      await connection.workflowService.getSystemInfo({});
      await connection.workflowService.describeNamespace({ namespace });
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      const missing = Object.keys(SEARCH_ATTRIBUTES).filter((k) => !customAttributes?.[k]);
      if (missing.length) throw new Error(`search attributes not registered yet: ${missing.join(', ')}`);
    });
  } finally {
    await connection.close();
  }
}

/** Throws a StartError when something already listens on 127.0.0.1:port. */
async function checkPortFree(port: number, what: string): Promise<void> {
  await new Promise<void>((res, rej) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) =>
      rej(
        err.code === 'EADDRINUSE'
          ? new StartError(`cannot start the temporal dev server: ${what} 127.0.0.1:${port} is already in use`, true)
          : err,
      ),
    );
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => res()));
  });
}

class StartError extends Error {
  constructor(
    message: string,
    readonly portInUse: boolean,
  ) {
    super(message);
  }
}

/** The environment less TEMPORAL_* (a user's cluster address, TLS or API key must not leak into the dev server). */
function serverEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('TEMPORAL_')) delete env[name];
  return env;
}

/**
 * Starts `temporal server start-dev` on 127.0.0.1 with SQLite persistence in
 * `dbFile` and the topoflow search attributes, and resolves once the namespace
 * is served. Throws with the last lines of the server output when it exits
 * early or is not ready within 60 s.
 */
export async function startTemporalDevServer(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  // Ports picked here could be taken by someone else before the server binds
  // them: retry with fresh ones when we chose them.
  const attempts = opts.port === undefined && (opts.headless || opts.uiPort === undefined) ? 3 : 1;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(opts);
    } catch (err) {
      if (!(err instanceof StartError) || !err.portInUse || attempt >= attempts) throw err;
    }
  }
}

async function startOnce(opts: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const namespace = opts.namespace ?? 'default';
  const dbFile = resolve(opts.dbFile);
  const logFile = opts.logFile === undefined ? undefined : resolve(opts.logFile);
  const port = opts.port ?? (await freePort());
  const uiPort = opts.headless ? undefined : (opts.uiPort ?? (await freePort()));
  const address = `127.0.0.1:${port}`;
  const binary = toolPath('temporal');
  // A server already on that port would answer our readiness checks for us.
  await checkPortFree(port, 'gRPC port');
  if (uiPort !== undefined) await checkPortFree(uiPort, 'UI port');

  const args = ['server', 'start-dev', '--db-filename', dbFile, '--ip', '127.0.0.1', '--port', String(port)];
  args.push(...(uiPort === undefined ? ['--headless'] : ['--ui-port', String(uiPort)]));
  args.push('--namespace', namespace, '--log-level', 'warn');
  for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) args.push('--search-attribute', `${name}=${type}`);
  args.push(...(opts.extraArgs ?? []));

  mkdirSync(dirname(dbFile), { recursive: true });
  let ring: LineRing | undefined;
  let logFd: number | undefined;
  if (logFile) {
    mkdirSync(dirname(logFile), { recursive: true });
    logFd = openSync(logFile, 'a');
  } else {
    ring = new LineRing(RING_LINES);
  }
  const outputTail = (n = ERROR_TAIL_LINES): string =>
    logFile ? fileTail(logFile, n) : (ring?.tail(n) ?? '');

  let child: ChildProcess;
  try {
    child = spawn(binary, args, {
      stdio: ['ignore', logFd ?? 'pipe', logFd ?? 'pipe'],
      env: serverEnv(),
    });
  } finally {
    if (logFd !== undefined) closeSync(logFd); // the child holds its own copy
  }
  for (const stream of [child.stdout, child.stderr]) {
    stream?.setEncoding('utf8');
    stream?.on('data', (chunk: string) => ring?.push(chunk));
  }

  // Early exit or spawn failure: settles once, whatever happens first.
  const failed = new Promise<string>((res) => {
    child.once('error', (err) => res(`could not run ${binary}: ${err.message}`));
    child.once('exit', (code, signal) => res(`exited early (${signal ?? `code ${code}`})`));
  });
  if (child.pid !== undefined) track(child);

  const describe = () => `temporal dev server (${binary} ${args.join(' ')})`;
  const fail = async (why: string): Promise<never> => {
    if (!exited(child)) {
      child.kill('SIGKILL');
      await waitExit(child, 5_000);
    }
    await sleep(50); // let the last output arrive
    const tail = outputTail(ERROR_TAIL_LINES);
    throw new StartError(
      `${describe()} ${why}` + (tail ? `; last lines of its output:\n${tail}` : '; it printed nothing'),
      /address already in use/i.test(tail),
    );
  };

  const deadline = Date.now() + (opts.readyTimeoutMs ?? READY_TIMEOUT_MS);
  let lastError = '';
  let ready = false;
  let failure: string | undefined;
  void failed.then((why) => {
    failure = why;
  });
  while (!ready) {
    if (failure !== undefined) return fail(failure);
    const left = deadline - Date.now();
    if (left <= 0) return fail(`was not ready within ${opts.readyTimeoutMs ?? READY_TIMEOUT_MS} ms (last error: ${lastError})`);
    const outcome = await Promise.race([
      ping(address, port, namespace, Math.min(2_000, Math.max(left, 100))).then(
        () => 'ready' as const,
        (err: unknown) => {
          lastError = err instanceof Error ? err.message : String(err);
          return 'retry' as const;
        },
      ),
      failed.then(() => 'failed' as const),
    ]);
    if (outcome === 'ready') ready = !exited(child);
    else if (outcome === 'retry') await Promise.race([sleep(100), failed]);
  }

  const pid = child.pid!;
  const stop = async (): Promise<void> => {
    if (exited(child)) return;
    child.kill('SIGTERM');
    if (!(await waitExit(child, STOP_GRACE_MS))) {
      child.kill('SIGKILL');
      await waitExit(child);
    }
  };
  const kill = async (): Promise<void> => {
    if (exited(child)) return;
    child.kill('SIGKILL');
    await waitExit(child);
  };
  return {
    address,
    ...(uiPort === undefined ? {} : { uiUrl: `http://127.0.0.1:${uiPort}` }),
    namespace,
    pid,
    port,
    dbFile,
    ...(logFile === undefined ? {} : { logFile }),
    outputTail,
    stop,
    kill,
  };
}

/** What connectionOptionsFromEnv returns: spread into Connection.connect, plus the namespace. */
export interface EnvConnectionOptions {
  address: string;
  namespace: string;
  tls?: TLSConfig;
  apiKey?: string;
}

function readEnvFile(env: NodeJS.ProcessEnv, name: string): Buffer | undefined {
  const path = env[name];
  if (path === undefined || path === '') return undefined;
  if (!existsSync(path)) throw new Error(`${name} points to ${path}, which does not exist`);
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`${name} points to ${path}, which cannot be read: ${(err as Error).message}`);
  }
}

/**
 * Connection options for an existing Temporal cluster from the environment, or
 * null when TEMPORAL_ADDRESS is unset (callers then start a dev server).
 *
 * - TEMPORAL_ADDRESS      host:port (required)
 * - TEMPORAL_NAMESPACE    default "default"
 * - TEMPORAL_TLS          "true"/"1" to use TLS, "false"/"0" to refuse it
 * - TEMPORAL_TLS_CERT, TEMPORAL_TLS_KEY   client certificate and key files (mTLS; both or neither)
 * - TEMPORAL_TLS_CA       server CA certificate file (optional)
 * - TEMPORAL_TLS_SERVER_NAME  SNI / host-name override (optional)
 * - TEMPORAL_API_KEY      API key (Temporal Cloud); implies TLS. Never logged.
 *
 * Throws a readable Error (naming the variable and path) for bad settings.
 */
export function connectionOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): EnvConnectionOptions | null {
  const address = env.TEMPORAL_ADDRESS?.trim();
  if (!address) return null;
  const namespace = env.TEMPORAL_NAMESPACE?.trim() || 'default';

  const tlsFlag = env.TEMPORAL_TLS?.trim().toLowerCase();
  let tlsWanted: boolean | undefined;
  if (tlsFlag === undefined || tlsFlag === '') tlsWanted = undefined;
  else if (['true', '1', 'yes', 'on'].includes(tlsFlag)) tlsWanted = true;
  else if (['false', '0', 'no', 'off'].includes(tlsFlag)) tlsWanted = false;
  else throw new Error(`TEMPORAL_TLS must be "true" or "false" (got "${env.TEMPORAL_TLS}")`);

  const hasCert = Boolean(env.TEMPORAL_TLS_CERT);
  const hasKey = Boolean(env.TEMPORAL_TLS_KEY);
  if (hasCert !== hasKey) {
    throw new Error(
      hasCert
        ? 'TEMPORAL_TLS_CERT is set but TEMPORAL_TLS_KEY is not: mTLS needs both the client certificate and its key'
        : 'TEMPORAL_TLS_KEY is set but TEMPORAL_TLS_CERT is not: mTLS needs both the client certificate and its key',
    );
  }
  const crt = readEnvFile(env, 'TEMPORAL_TLS_CERT');
  const key = readEnvFile(env, 'TEMPORAL_TLS_KEY');
  const ca = readEnvFile(env, 'TEMPORAL_TLS_CA');
  const serverName = env.TEMPORAL_TLS_SERVER_NAME?.trim();
  const apiKey = env.TEMPORAL_API_KEY?.trim() || undefined;

  const needsTls = Boolean(crt || ca || serverName || apiKey);
  if (tlsWanted === false && needsTls) {
    const why = apiKey ? 'TEMPORAL_API_KEY' : crt ? 'TEMPORAL_TLS_CERT' : ca ? 'TEMPORAL_TLS_CA' : 'TEMPORAL_TLS_SERVER_NAME';
    throw new Error(`TEMPORAL_TLS=false contradicts ${why}, which needs TLS`);
  }

  const result: EnvConnectionOptions = { address, namespace };
  if (tlsWanted || needsTls) {
    const tls: TLSConfig = {};
    if (crt && key) tls.clientCertPair = { crt, key };
    if (ca) tls.serverRootCACertificate = ca;
    if (serverName) tls.serverNameOverride = serverName;
    result.tls = tls;
  }
  if (apiKey) result.apiKey = apiKey;
  return result;
}
