/**
 * A throw-away MinIO server on 127.0.0.1 (tests, local development), with
 * generated credentials.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { CreateBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { freePort } from './ports.js';
import { toolPath } from './tools.js';

export interface MinioServer {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  accessKey: string;
  secretKey: string;
  pid: number;
  /** SIGTERM, then SIGKILL after 10 s; resolves once the process has exited. */
  stop(): Promise<void>;
  /** Creates the bucket; no error if it already exists. */
  createBucket(name: string): Promise<void>;
}

export interface StartMinioOptions {
  dataDir: string;
  /** Default: a free port (and a retry with another one should it be taken meanwhile). */
  port?: number;
}

const READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 10_000;
const START_ATTEMPTS = 3;
const LOG_TAIL_LINES = 30;

class PortInUseError extends Error {}

export async function startMinio(options: StartMinioOptions): Promise<MinioServer> {
  const bin = toolPath('minio');
  await mkdir(options.dataDir, { recursive: true });
  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    let consolePort = await freePort();
    while (consolePort === port) consolePort = await freePort();
    try {
      return await startOnce(bin, options.dataDir, port, consolePort);
    } catch (err) {
      const retry = err instanceof PortInUseError && options.port === undefined && attempt < START_ATTEMPTS;
      if (!retry) throw err;
    }
  }
}

async function startOnce(bin: string, dataDir: string, port: number, consolePort: number): Promise<MinioServer> {
  const accessKey = `topoflow-${randomBytes(4).toString('hex')}`;
  const secretKey = randomBytes(20).toString('hex');
  const args = ['server', dataDir, '--quiet'];
  args.push('--address', `127.0.0.1:${port}`, '--console-address', `127.0.0.1:${consolePort}`);
  const child = spawn(bin, args, { env: minioEnv(accessKey, secretKey), stdio: ['ignore', 'pipe', 'pipe'] });
  const tail = captureTail(child);
  const proc = trackExit(child);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitReady(endpoint, proc, tail);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return {
    endpoint,
    accessKey,
    secretKey,
    pid: child.pid ?? -1,
    stop: () => proc.stop(),
    createBucket: (name) => createBucket(endpoint, { accessKeyId: accessKey, secretAccessKey: secretKey }, name),
  };
}

/** The caller's environment without MINIO_* settings, plus the test server's own. */
function minioEnv(accessKey: string, secretKey: string): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('MINIO_')));
  return { ...env, MINIO_ROOT_USER: accessKey, MINIO_ROOT_PASSWORD: secretKey, MINIO_BROWSER: 'off' };
}

/** The last lines of stdout and stderr, for error messages. */
function captureTail(child: ChildProcess): () => string {
  const lines: string[] = [];
  const keep = (data: Buffer) => {
    lines.push(...data.toString('utf8').split('\n').filter((line) => line.trim() !== ''));
    lines.splice(0, Math.max(0, lines.length - LOG_TAIL_LINES));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => (lines.length > 0 ? lines.join('\n') : '(no output)');
}

interface TrackedProcess {
  /** Set once the process is gone (or could not start). */
  exitReason(): string | undefined;
  exited: Promise<void>;
  stop(): Promise<void>;
}

function trackExit(child: ChildProcess): TrackedProcess {
  let reason: string | undefined;
  // A crashed test runner must not leave the server behind.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolveExit) => {
    const done = (why: string) => {
      reason ??= why;
      process.off('exit', killOnExit);
      resolveExit();
    };
    child.once('exit', (code, signal) => done(signal ? `killed by ${signal}` : `exit code ${code}`));
    child.once('error', (err) => done(`could not run: ${err.message}`));
  });
  const stop = async () => {
    if (reason !== undefined) return;
    child.kill('SIGTERM');
    const timer = sleep(STOP_GRACE_MS, 'timeout' as const, { ref: false });
    if ((await Promise.race([exited, timer])) === 'timeout') child.kill('SIGKILL');
    await exited;
  };
  return { exitReason: () => reason, exited, stop };
}

async function waitReady(endpoint: string, proc: TrackedProcess, tail: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const reason = proc.exitReason();
    if (reason !== undefined) {
      const output = tail();
      const ErrorType = /already in use/i.test(output) ? PortInUseError : Error;
      throw new ErrorType(`minio stopped before it was ready (${reason}); its last output:\n${output}`);
    }
    if (await isLive(endpoint)) return;
    await Promise.race([sleep(100), proc.exited]);
  }
  throw new Error(`minio at ${endpoint} was not ready after ${READY_TIMEOUT_MS / 1000} s; its last output:\n${tail()}`);
}

async function isLive(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/minio/health/live`, { signal: AbortSignal.timeout(2000) });
    await res.body?.cancel();
    return res.status === 200;
  } catch {
    return false; // not listening yet
  }
}

async function createBucket(endpoint: string, credentials: S3ClientConfig['credentials'], name: string): Promise<void> {
  const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials });
  try {
    await client.send(new CreateBucketCommand({ Bucket: name }));
  } catch (err) {
    if ((err as Error).name !== 'BucketAlreadyOwnedByYou') throw err;
  } finally {
    client.destroy();
  }
}
