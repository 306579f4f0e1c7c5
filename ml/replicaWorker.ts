/**
 * A replica thread: the model built again from (spec, seed) on the training
 * thread's back end, computing the gradients of the shards it is sent.
 * Protocol: replicaProtocol.ts.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { useBackend } from './backend.js';
import { buildModel } from './build.js';
import { setFlatWeights, shardGradients } from './replicas.js';
import type { FromReplica, ReplicaInit, ToReplica } from './replicaProtocol.js';

const port = parentPort!;
const init = workerData as ReplicaInit;
const post = (m: FromReplica, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);
const message = (err: unknown) => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

try {
  await useBackend(init.backend);
  const built = buildModel(init.spec, init.seed);
  built.clock.packed = init.packed;
  const vars = built.model.trainableWeights.map((w) => w.read());
  port.on('message', (m: ToReplica) => {
    try {
      setFlatWeights(vars, m.weights);
      const out = shardGradients(built, vars, m.step, m.rows, m.batch);
      post({ type: 'grads', id: m.id, ...out }, [out.grads.buffer as ArrayBuffer]);
    } catch (err) {
      post({ type: 'failed', id: m.id, message: message(err) });
    }
  });
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'failed', id: null, message: message(err) });
}
