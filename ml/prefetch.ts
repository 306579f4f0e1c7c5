/**
 * Training batches assembled on a worker thread while the model trains on
 * the previous ones. Reading and decoding Parquet and assembling batches is
 * 15–30 % of a recurrent model's step on one core and most of an HLF net's
 * first epoch; a TensorFlow step leaves the other core idle, so the stream
 * runs there. The batches and their order are exactly `storedData`'s (the
 * same code, ml/data.ts, runs in the worker); protocol: prefetchProtocol.ts.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Storage } from '../storage/index.js';
import type { Batch, DataNeeds, PartRef } from './data.js';
import { KeptGroups } from './keptGroups.js';
import { ownBytes, type FromWorker, type PrefetchInit, type ToWorker } from './prefetchProtocol.js';
import { storedData, type EpochRequest, type TrainingData } from './trainingData.js';

/** Batches the worker may have sent ahead of the one being trained on. */
export const PREFETCH_AHEAD = 4;

/**
 * The training data a training job streams from storage: prefetched on a
 * worker thread for a model with a recurrent layer when this process may use
 * more than one core; in-process otherwise. TOPOFLOW_PREFETCH=0 or 1 decides
 * instead. An HLF net's step (~1 ms) leaves little to overlap, and a batch's
 * message costs the training thread about what the thread saves: prefetched,
 * it trained at 0.76-1.02x the in-process rate (bench/RESULTS.md).
 */
export function streamedData(storage: Storage, train: PartRef[], test: PartRef[], model: { recurrent: boolean }, env: NodeJS.ProcessEnv = process.env): TrainingData & { prefetched: boolean } {
  const prefetch = env.TOPOFLOW_PREFETCH !== undefined ? env.TOPOFLOW_PREFETCH !== '0' : model.recurrent && availableParallelism() > 1;
  return prefetch ? { ...prefetchedData(storage, train, test), prefetched: true } : { ...storedData(storage, train, test), prefetched: false };
}

interface Listener {
  batch(b: Batch): void;
  end(): void;
  error(e: Error): void;
}

/** `storedData` with its epochs read on a worker thread; the test rows stay in-process. */
export function prefetchedData(storage: Storage, train: PartRef[], test: PartRef[], opts: { ahead?: number; keptBytes?: number; wholePartBytes?: number } = {}): TrainingData {
  const ahead = opts.ahead ?? PREFETCH_AHEAD;
  const inProcess = storedData(storage, train, test, new KeptGroups(opts.keptBytes));
  const listeners = new Map<number, Listener>();
  let worker: Worker | undefined;
  let nextId = 0;

  const post = (w: Worker, m: ToWorker, transfer: ArrayBuffer[] = []) => w.postMessage(m, transfer);
  /** Every epoch still listening hears the failure, and the next epoch starts a new worker. */
  const fail = (w: Worker, err: Error) => {
    if (worker === w) worker = undefined;
    for (const l of listeners.values()) l.error(err);
  };
  const serveRead = async (w: Worker, m: Extract<FromWorker, { type: 'read' }>) => {
    try {
      const bytes = ownBytes(m.range ? await storage.getRange(m.key, m.range.offset, m.range.length) : await storage.get(m.key));
      post(w, { type: 'bytes', req: m.req, bytes }, [bytes.buffer as ArrayBuffer]);
    } catch (err) {
      post(w, { type: 'readError', req: m.req, message: (err as Error).message });
    }
  };
  const start = (): Worker => {
    const init: PrefetchInit = { train, uris: Object.fromEntries(train.map((p) => [p.key, storage.uri(p.key)])), keptBytes: opts.keptBytes, wholePartBytes: opts.wholePartBytes };
    const w = new Worker(new URL('./prefetchWorker.js', import.meta.url), { workerData: init });
    w.on('message', (m: FromWorker) => {
      if (m.type === 'read') void serveRead(w, m);
      else if (m.type === 'batch') listeners.get(m.id)?.batch(m.batch);
      else if (m.type === 'end') listeners.get(m.id)?.end();
      else listeners.get(m.id)?.error(new Error(m.message));
    });
    w.on('error', (err) => fail(w, new Error(`the prefetch worker thread failed: ${err.message}`)));
    w.on('exit', (code) => fail(w, new Error(`the prefetch worker thread exited (code ${code})`)));
    w.unref(); // held (ref) only while an epoch is being read
    return w;
  };

  async function* epoch(needs: DataNeeds, req: EpochRequest): AsyncGenerator<Batch> {
    const w = (worker ??= start());
    const id = nextId++;
    const queue: Batch[] = [];
    const st: { state: 'running' | 'ended' | Error } = { state: 'running' };
    let wake: (() => void) | undefined;
    const notify = () => {
      wake?.();
      wake = undefined;
    };
    listeners.set(id, {
      batch: (b) => (queue.push(b), notify()),
      end: () => ((st.state = 'ended'), notify()),
      error: (e) => ((st.state = st.state === 'running' ? e : st.state), notify()),
    });
    w.ref();
    post(w, { type: 'epoch', id, needs, opts: { seed: req.seed, epoch: req.epoch, bufferSize: req.bufferSize, batchSize: req.batchSize, skip: req.skip }, credit: ahead });
    try {
      for (;;) {
        const b = queue.shift();
        if (b) {
          post(w, { type: 'credit', id });
          yield b;
        } else if (st.state instanceof Error) throw st.state;
        else if (st.state === 'ended') return;
        else await new Promise<void>((r) => (wake = r));
      }
    } finally {
      if (st.state === 'running') post(w, { type: 'cancel', id });
      listeners.delete(id);
      w.unref();
    }
  }

  return {
    ...inProcess,
    epoch,
    close: async () => {
      const w = worker;
      worker = undefined;
      if (w) {
        w.removeAllListeners('exit');
        await w.terminate();
      }
    },
  };
}
