/**
 * The messages between a training process and its prefetch worker thread
 * (prefetch.ts, prefetchWorker.ts). The worker assembles an epoch's batches
 * (ml/data.ts, the same code and order as in-process) while the training
 * thread runs the model on the previous ones; it reads storage only through
 * the training thread, which serves its reads, so any Storage works and no
 * credentials or clients cross the thread boundary.
 *
 *   main → worker: epoch (start one; `credit` batches may be sent at once),
 *                  credit (one more batch may be sent), cancel,
 *                  bytes / readError (the answer to a read)
 *   worker → main: read (get a whole object, or a byte range), batch, end, error
 *
 * Batches and bytes travel as transferred ArrayBuffers: nothing is copied.
 */
import type { Batch, DataNeeds, PartRef } from './data.js';

/** workerData: what every epoch of a training run shares. */
export interface PrefetchInit {
  train: PartRef[];
  /** storage.uri(key) of every train part, for error messages. */
  uris: Record<string, string>;
  /** Bytes of decoded row groups the worker keeps between epochs (keptGroups.ts). */
  keptBytes?: number;
  /** Parts up to this size are read whole, larger ones by byte range (data.ts' default when absent). */
  wholePartBytes?: number;
}

export interface EpochRequestMessage {
  type: 'epoch';
  id: number;
  needs: DataNeeds;
  opts: { seed: number; epoch: number; bufferSize: number; batchSize: number; skip?: number };
  credit: number;
}

export type ToWorker =
  | EpochRequestMessage
  | { type: 'credit'; id: number }
  | { type: 'cancel'; id: number }
  | { type: 'bytes'; req: number; bytes: Uint8Array }
  | { type: 'readError'; req: number; message: string };

export type FromWorker =
  | { type: 'read'; req: number; key: string; range?: { offset: number; length: number } }
  | { type: 'batch'; id: number; batch: Batch }
  | { type: 'end'; id: number }
  | { type: 'error'; id: number; message: string };

/** The buffers a message can hand over instead of copying. */
export function batchBuffers(b: Batch): ArrayBuffer[] {
  return [b.labels, b.hlf, b.particles].filter((a) => a !== undefined).map((a) => a.buffer as ArrayBuffer);
}

/** `bytes` as a Uint8Array that owns its whole ArrayBuffer (Node may hand out slices of a shared pool). */
export function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer ? bytes : new Uint8Array(bytes);
}
