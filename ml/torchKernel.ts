/**
 * Runs the torch training kernel (kernels/torch/train.py, README.md there has
 * the protocol) as a child process: the job goes in as one JSON line on stdin,
 * each stdout line is one message (zod-checked), stderr goes to the log. An
 * abort sends SIGTERM, then SIGKILL after `killAfterMs`. A kernel that fails
 * becomes one clear error: its own message, else its exit and stderr's last
 * line; never a Python traceback alone.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { BadInputError } from '../common/errors.js';

/** The repository root: this file runs from dist/ml/ (or ml/ under a TypeScript loader). */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), existsSync(join(dirname(fileURLToPath(import.meta.url)), '..', 'kernels')) ? '..' : '../..');
export const KERNEL_SCRIPT = join(ROOT, 'kernels', 'torch', 'train.py');
export const KERNEL_PROTOCOL = 1;

/**
 * The Python that runs the kernel: TOPOFLOW_TORCH_PYTHON (a machine that
 * already has torch), else the project's .venv-torch (infra/python-torch.sh).
 * Null, with the reason, when neither exists.
 */
export function torchPython(env: NodeJS.ProcessEnv = process.env): { python: string } | { problem: string } {
  const fromEnv = env.TOPOFLOW_TORCH_PYTHON;
  if (fromEnv) return existsSync(fromEnv) ? { python: fromEnv } : { problem: `TOPOFLOW_TORCH_PYTHON=${fromEnv} does not exist` };
  const venv = join(ROOT, '.venv-torch', 'bin', 'python');
  if (existsSync(venv)) return { python: venv };
  return { problem: 'no Python with torch: run `bash infra/python-torch.sh` (makes .venv-torch) or set TOPOFLOW_TORCH_PYTHON to a python that has torch, numpy and pyarrow' };
}

const Epoch = z.object({
  epoch: z.number().int(),
  loss: z.number(),
  accuracy: z.number(),
  valLoss: z.number(),
  valAccuracy: z.number(),
  trainSeconds: z.number(),
  samplesPerSecond: z.number(),
});
const Layout = z.array(z.object({ name: z.string(), shape: z.array(z.number().int()), offset: z.number().int() }));

export const KernelMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('hello'), torch: z.string(), device: z.string(), deviceType: z.string(), params: z.number().int(), weights: z.array(z.string()) }),
  z.object({ type: z.literal('log'), message: z.string() }),
  z.object({ type: z.literal('progress'), done: z.number(), total: z.number(), unit: z.string(), message: z.string() }),
  z.object({
    type: z.literal('done'),
    history: z.array(Epoch),
    steps: z.number().int(),
    resumedFromStep: z.number().int().nullable(),
    params: z.number().int(),
    weights: Layout,
    testRows: z.number().int(),
    device: z.string(),
    torch: z.string(),
  }),
  z.object({ type: z.literal('error'), kind: z.enum(['bad-input', 'failed']), message: z.string() }),
]);
export type KernelMessage = z.infer<typeof KernelMessage>;
export type KernelDone = Extract<KernelMessage, { type: 'done' }>;
export type KernelHello = Extract<KernelMessage, { type: 'hello' }>;

export interface KernelIO {
  log(message: string): void;
  progress(p: { done: number; total: number; unit: string; message: string }): void;
  signal: AbortSignal;
}

export interface KernelOptions {
  python: string;
  env?: NodeJS.ProcessEnv;
  /** After SIGTERM on abort, SIGKILL follows after this long. */
  killAfterMs?: number;
}

/** Thrown for a kernel that failed: `kind` says whether retrying can help. */
export class KernelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KernelError';
  }
}

/** Runs one job to its `done` message (and a clean exit); the kernel's `hello` is passed to `onHello`. */
export function runKernel(job: Record<string, unknown>, io: KernelIO, opts: KernelOptions, onHello: (h: KernelHello, pid: number) => void = () => {}): Promise<KernelDone> {
  return new Promise((resolve, reject) => {
    if (io.signal.aborted) return reject(new KernelError('training cancelled'));
    const child = spawn(opts.python, ['-u', KERNEL_SCRIPT], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...(opts.env ?? process.env), PYTHONUNBUFFERED: '1', PYTHONDONTWRITEBYTECODE: '1' } });
    let done: KernelDone | undefined;
    let failure: Extract<KernelMessage, { type: 'error' }> | undefined;
    let protocolProblem: string | undefined;
    const stderrTail: string[] = [];
    let killTimer: NodeJS.Timeout | undefined;
    let cancelled = false;

    const onAbort = () => {
      cancelled = true;
      child.kill('SIGTERM');
      killTimer = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 5_000);
    };
    io.signal.addEventListener('abort', onAbort, { once: true });

    createInterface({ input: child.stdout }).on('line', (line) => {
      let parsed: KernelMessage;
      try {
        parsed = KernelMessage.parse(JSON.parse(line));
      } catch (err) {
        protocolProblem ??= `the torch kernel wrote a line that is not a protocol message (${(err as Error).message.split('\n')[0]}): ${line.slice(0, 200)}`;
        return;
      }
      if (parsed.type === 'hello') onHello(parsed, child.pid ?? 0);
      else if (parsed.type === 'log') io.log(parsed.message);
      else if (parsed.type === 'progress') io.progress(parsed);
      else if (parsed.type === 'done') done = parsed;
      else failure = parsed;
    });
    createInterface({ input: child.stderr }).on('line', (line) => {
      io.log(`torch kernel: ${line}`);
      stderrTail.push(line);
      if (stderrTail.length > 20) stderrTail.shift();
    });
    child.stdin.on('error', () => {}); // a kernel that died early: its exit says why
    // stdin stays open while the kernel runs: its EOF tells the kernel that this process is gone.
    child.stdin.write(`${JSON.stringify({ protocol: KERNEL_PROTOCOL, ...job })}\n`);

    child.on('error', (err) => {
      io.signal.removeEventListener('abort', onAbort);
      reject(new KernelError(`cannot start the torch kernel with ${opts.python} (${err.message})`));
    });
    child.on('close', (code, signal) => {
      io.signal.removeEventListener('abort', onAbort);
      child.stdin.destroy();
      if (killTimer) clearTimeout(killTimer);
      if (cancelled) return reject(new KernelError('training cancelled'));
      if (failure) return reject(failure.kind === 'bad-input' ? new BadInputError(`torch back end: ${failure.message}`) : new KernelError(`torch back end: ${failure.message}`));
      if (done && code === 0) return resolve(done);
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      const last = lastMeaningfulLine(stderrTail);
      reject(new KernelError(`the torch kernel ${how} without finishing${protocolProblem ? `; ${protocolProblem}` : ''}${last ? `; its last words: ${last}` : ''}`));
    });
  });
}

/** A Python traceback's last line says what went wrong (`MemoryError`, `ModuleNotFoundError: No module named 'torch'`). */
function lastMeaningfulLine(lines: string[]): string | undefined {
  return [...lines].reverse().find((l) => l.trim() !== '')?.trim();
}
