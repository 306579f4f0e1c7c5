/**
 * Basket compression on worker threads, usable from synchronous code: jobs go
 * out with postMessage (the payload's buffer is transferred), results come
 * back on per-worker MessagePorts that are read synchronously with
 * receiveMessageOnPort, and the caller blocks with Atomics.wait on a shared
 * counter the workers bump after each result. The event loop is never needed,
 * so `TreeWriter.fill` stays synchronous.
 */
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import type { Compression } from './compression.js';

type Done = (stored: Uint8Array) => void;

interface Result {
  id: number;
  stored?: Uint8Array;
  error?: string;
}

/** Longest wait for any result before giving up (a worker that died cannot wake us). */
const STALL_MS = 120_000;

export class CompressionPool {
  private readonly workers: { worker: Worker; port: MessagePort }[] = [];
  private readonly signal: Int32Array;
  private readonly pending = new Map<number, Done>();
  private nextId = 0;
  private next = 0;
  private closed = false;

  constructor(threads: number, compression: Compression) {
    this.signal = new Int32Array(new SharedArrayBuffer(4));
    const url = new URL('./compressWorker.js', import.meta.url);
    for (let i = 0; i < threads; i++) {
      const { port1, port2 } = new MessageChannel();
      const worker = new Worker(url, {
        workerData: { port: port2, signal: this.signal.buffer, compression },
        transferList: [port2],
      });
      worker.unref();
      port1.unref();
      this.workers.push({ worker, port: port1 });
    }
  }

  get inFlight(): number {
    return this.pending.size;
  }

  /** Queues `data` (its buffer is transferred: do not reuse it); `done` runs from `poll`/`waitOne`. */
  submit(data: Uint8Array, done: Done): void {
    if (this.closed) throw new Error('compression pool closed');
    const id = this.nextId++;
    this.pending.set(id, done);
    const w = this.workers[this.next++ % this.workers.length]!;
    w.worker.postMessage({ id, data }, [data.buffer as ArrayBuffer]);
  }

  /** Delivers every result already back; returns how many. */
  poll(): number {
    let count = 0;
    for (const w of this.workers) {
      for (let m = receiveMessageOnPort(w.port); m; m = receiveMessageOnPort(w.port)) {
        const r = m.message as Result;
        const done = this.pending.get(r.id);
        this.pending.delete(r.id);
        if (r.error !== undefined || !r.stored) throw new Error(`basket compression failed in a worker: ${r.error ?? 'no data'}`);
        if (!done) throw new Error(`internal error: unknown compression job ${r.id}`);
        done(r.stored);
        count++;
      }
    }
    return count;
  }

  /** Blocks until at least one more result has been delivered (no-op when nothing is in flight). */
  waitOne(): void {
    const start = Date.now();
    while (this.pending.size > 0) {
      const seen = Atomics.load(this.signal, 0);
      if (this.poll() > 0) return;
      Atomics.wait(this.signal, 0, seen, 1000);
      if (Date.now() - start > STALL_MS) throw new Error(`no basket compressed in ${STALL_MS / 1000} s: a compression worker died?`);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const w of this.workers) {
      w.port.close();
      void w.worker.terminate();
    }
  }
}
