/**
 * The prefetch worker thread (protocol: prefetchProtocol.ts). It runs
 * `epochBatches` over the train parts, reading through the training thread,
 * and sends each batch as soon as the training thread has room for it. Its
 * decoded row groups are kept across the run's epochs, as in-process.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { epochBatches, type PartReads } from './data.js';
import { KeptGroups } from './keptGroups.js';
import { batchBuffers, type EpochRequestMessage, type FromWorker, type PrefetchInit, type ToWorker } from './prefetchProtocol.js';

const port = parentPort!;
const init = workerData as PrefetchInit;
const kept = new KeptGroups(init.keptBytes);
const send = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

const reads = new Map<number, { resolve: (b: Uint8Array) => void; reject: (e: Error) => void }>();
let nextRead = 0;
const read = (key: string, range?: { offset: number; length: number }) =>
  new Promise<Uint8Array>((resolve, reject) => {
    const req = nextRead++;
    reads.set(req, { resolve, reject });
    send({ type: 'read', req, key, range });
  });
const storage: PartReads = {
  uri: (key) => init.uris[key] ?? key,
  get: (key) => read(key),
  getRange: (key, offset, length) => read(key, { offset, length }),
};

interface EpochState {
  credit: number;
  cancelled: boolean;
  wake: (() => void) | undefined;
}
const epochs = new Map<number, EpochState>();

async function runEpoch(m: EpochRequestMessage): Promise<void> {
  const state: EpochState = { credit: m.credit, cancelled: false, wake: undefined };
  epochs.set(m.id, state);
  try {
    for await (const batch of epochBatches(storage, init.train, m.needs, { ...m.opts, kept, wholePartBytes: init.wholePartBytes })) {
      while (state.credit === 0 && !state.cancelled) await new Promise<void>((r) => (state.wake = r));
      if (state.cancelled) return;
      state.credit--;
      send({ type: 'batch', id: m.id, batch }, batchBuffers(batch));
    }
    if (!state.cancelled) send({ type: 'end', id: m.id });
  } catch (err) {
    if (!state.cancelled) send({ type: 'error', id: m.id, message: (err as Error).message });
  } finally {
    epochs.delete(m.id);
  }
}

port.on('message', (m: ToWorker) => {
  switch (m.type) {
    case 'epoch':
      void runEpoch(m);
      break;
    case 'credit':
    case 'cancel': {
      const e = epochs.get(m.id);
      if (!e) break;
      if (m.type === 'credit') e.credit++;
      else e.cancelled = true;
      e.wake?.();
      e.wake = undefined;
      break;
    }
    case 'bytes':
    case 'readError': {
      const r = reads.get(m.req);
      reads.delete(m.req);
      if (m.type === 'bytes') r?.resolve(m.bytes);
      else r?.reject(new Error(m.message));
      break;
    }
  }
});
