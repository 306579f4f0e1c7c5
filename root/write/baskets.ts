/**
 * Turns closed baskets into file records: compresses each one (inline, or on
 * a CompressionPool) and places the records in the file strictly in the order
 * the baskets were closed, so the output does not depend on the number of
 * threads. Only compressed bytes are kept, plus the uncompressed copies of
 * baskets still in flight (bounded).
 */
import type { BasketJob, BasketSink } from './branch.js';
import { CompressionPool } from './compressPool.js';
import { rootCompress, type Compression } from './compression.js';
import type { RootFileWriter } from './file.js';

interface Pending {
  job: BasketJob;
  stored: Uint8Array | undefined;
  bytes: number;
}

/** Uncompressed bytes allowed in flight before `submit` blocks. */
const MAX_IN_FLIGHT_BYTES = 32 * 1024 * 1024;

export class BasketPlacer implements BasketSink {
  private readonly pool: CompressionPool | undefined;
  private queue: Pending[] = [];
  private head = 0;
  private inFlightBytes = 0;

  constructor(
    private readonly file: RootFileWriter,
    private readonly compression: Compression,
    threads: number,
  ) {
    this.pool = threads > 0 && compression.algorithm !== 'none' ? new CompressionPool(threads, compression) : undefined;
  }

  submit(job: BasketJob): void {
    const pool = this.pool;
    if (!pool) {
      this.place(job, rootCompress(job.payload, this.compression));
      return;
    }
    const copy = job.payload.slice();
    const p: Pending = { job: { ...job, payload: new Uint8Array(0) }, stored: undefined, bytes: copy.length };
    this.queue.push(p);
    this.inFlightBytes += p.bytes;
    pool.submit(copy, (stored) => {
      p.stored = stored;
    });
    pool.poll();
    this.placeReady();
    while (this.inFlightBytes > MAX_IN_FLIGHT_BYTES) {
      pool.waitOne();
      this.placeReady();
    }
  }

  /** Waits for every basket to be compressed and placed. */
  drain(): void {
    if (!this.pool) return;
    while (this.head < this.queue.length) {
      this.pool.waitOne();
      this.placeReady();
    }
  }

  close(): void {
    this.pool?.close();
  }

  private placeReady(): void {
    const q = this.queue;
    while (this.head < q.length) {
      const p = q[this.head]!;
      if (!p.stored) break;
      this.head++;
      this.inFlightBytes -= p.bytes;
      this.place(p.job, p.stored);
    }
    if (this.head > 1024 && this.head * 2 > q.length) {
      this.queue = q.slice(this.head);
      this.head = 0;
    }
  }

  private place(job: BasketJob, stored: Uint8Array): void {
    const seek = this.file.position;
    const record = job.branch.record(job, stored, seek);
    this.file.push(record);
    job.branch.placed(job.index, seek, record.length);
  }
}
