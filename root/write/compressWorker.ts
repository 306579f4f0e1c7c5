/**
 * Worker thread of CompressionPool: compresses basket payloads with ROOT's
 * framing and sends them back on a dedicated MessagePort, then bumps a shared
 * counter so a main thread blocked in Atomics.wait wakes up.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { rootCompress, type Compression } from './compression.js';

interface Init {
  port: MessagePort;
  signal: SharedArrayBuffer;
  compression: Compression;
}

const { port, signal: sab, compression } = workerData as Init;
const signal = new Int32Array(sab);

parentPort?.on('message', (m: { id: number; data: Uint8Array }) => {
  try {
    const stored = rootCompress(m.data, compression);
    port.postMessage({ id: m.id, stored }, [stored.buffer as ArrayBuffer]);
  } catch (err) {
    port.postMessage({ id: m.id, error: err instanceof Error ? err.message : String(err) });
  }
  Atomics.add(signal, 0, 1);
  Atomics.notify(signal, 0);
});
