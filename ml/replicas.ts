/**
 * Data parallelism inside one process: each step's batch is cut into
 * `count` contiguous shards; this thread computes the first shard's
 * gradients while replica threads (replicaWorker.ts) compute the others on
 * copies of the model, and the trainer applies their row-weighted sum, so
 * one update still covers the whole batch.
 *
 * Why: tfjs runs ops one at a time from JavaScript and a GRU(50) step is too
 * small for TensorFlow's intra-op threads to split, so a second core sat
 * idle in native training; two model copies on half batches each keep one
 * busy. The result is that of one replica up to float rounding: the same
 * rows, the same dropout masks (each shard draws its rows' masks of the whole
 * batch), the mean loss's gradient as the rows' weighted sum. The shards and
 * their sum do not depend on which threads are up: a shard whose replica has
 * not started or has failed is computed here, so a run's numbers are a
 * function of its inputs and the replica count alone.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { tf } from './tf.js';
import { flatten, type Adam } from './adam.js';
import type { ActiveBackend } from './backend.js';
import type { BuiltModel } from './build.js';
import { batchGradients } from './gradients.js';
import { realLengthAt, type Batch } from './rows.js';
import { batchBuffers, type FromReplica, type ReplicaInit, type ShardResult, type ShardRows, type ToReplica } from './replicaProtocol.js';
import { HLF_FEATURES, PARTICLE_FEATURES } from '../hep/layout.js';

/** The most replicas TOPOFLOW_REPLICAS may ask for. */
export const MAX_REPLICAS = 16;

/** What decides a run's replica count besides the back end. */
export interface ReplicaNeeds {
  /** The model has a recurrent layer. */
  recurrent: boolean;
  /** Its batches are trimmed to their longest event (and its rows packed): short steps. */
  trimmed: boolean;
}

/**
 * Replicas for a training run: TOPOFLOW_REPLICAS when set; else 2 for a
 * recurrent model whose batches keep their padding (long steps), on a CPU
 * back end, when the training may use 2 or more cores; else 1. A GPU runs a
 * whole batch at once; an HLF net's ~1 ms step is shorter than a round trip
 * to a thread; and a trimmed, packed GRU step is short enough that on 2 cores
 * one thread beat 2 replicas in every such cell (bench/RESULTS.md, runs F, G
 * and H), while at 801 untrimmed steps 2 replicas won in every one. The cores
 * a training may use: TOPOFLOW_TRAIN_CORES (the embedded stack gives each of
 * its train workers its share), else the process's.
 */
export function replicaCount(backend: Pick<ActiveBackend, 'choice'>, needs: ReplicaNeeds, env: NodeJS.ProcessEnv = process.env): number {
  const set = env.TOPOFLOW_REPLICAS;
  if (set !== undefined && set !== '') return wholeNumber('TOPOFLOW_REPLICAS', set, MAX_REPLICAS);
  const cores = env.TOPOFLOW_TRAIN_CORES ? wholeNumber('TOPOFLOW_TRAIN_CORES', env.TOPOFLOW_TRAIN_CORES, 4096) : availableParallelism();
  return backend.choice !== 'tensorflow-gpu' && needs.recurrent && !needs.trimmed && cores > 1 ? 2 : 1;
}

function wholeNumber(name: string, value: string, max: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new Error(`${name}=${JSON.stringify(value)}: expected a whole number from 1 to ${max}`);
  return n;
}

export interface Shard {
  rows: ShardRows;
  batch: Batch;
}

/**
 * `batch` cut into `count` contiguous shards (sizes differ by at most one,
 * larger first; none empty). With `trim`, each shard's particles are trimmed
 * again to its own longest event (exact where the model masks padding).
 */
export function splitBatch(batch: Batch, count: number, trim: boolean): Shard[] {
  const n = Math.min(count, batch.size);
  const shards: Shard[] = [];
  let offset = 0;
  for (let i = 0; i < n; i++) {
    const size = Math.floor(batch.size / n) + (i < batch.size % n ? 1 : 0);
    shards.push({ rows: { offset, total: batch.size }, batch: rowsOf(batch, offset, size, trim) });
    offset += size;
  }
  return shards;
}

function rowsOf(b: Batch, offset: number, size: number, trim: boolean): Batch {
  const hlf = b.hlf?.slice(offset * HLF_FEATURES, (offset + size) * HLF_FEATURES);
  let particles: Float32Array | undefined;
  let steps = b.steps;
  if (b.particles) {
    const width = b.steps * PARTICLE_FEATURES;
    if (trim) {
      steps = 1;
      for (let i = offset; i < offset + size; i++) steps = Math.max(steps, realLengthAt(b.particles, i * width, width));
    }
    const w = steps * PARTICLE_FEATURES;
    particles = new Float32Array(size * w);
    for (let i = 0; i < size; i++) particles.set(b.particles.subarray((offset + i) * width, (offset + i) * width + w), i * w);
  }
  return { size, hlf, particles, steps, labels: b.labels.slice(offset, offset + size) };
}

/** One shard's gradients (flat, in the order of `vars`), mean loss and correct count, with the dropout masks of its rows. */
export function shardGradients(built: BuiltModel, vars: tf.Tensor[], step: number, rows: ShardRows, batch: Batch): ShardResult {
  built.clock.step = step;
  built.clock.rows = rows;
  try {
    return tf.tidy(() => {
      const g = batchGradients(built, vars as tf.Variable[], batch);
      // A copy: on wasm dataSync may be a view into the module's memory, which must not be transferred.
      return { grads: new Float32Array(flatten(g.grads).dataSync() as Float32Array), loss: g.loss, correct: g.correct };
    });
  } finally {
    built.clock.rows = null;
  }
}

/** Writes flat weights (as `flatten` lays them out) into `vars`. */
export function setFlatWeights(vars: tf.Tensor[], flat: Float32Array): void {
  const total = vars.reduce((s, v) => s + v.size, 0);
  if (flat.length !== total) throw new Error(`${flat.length} weight values for a model of ${total}`);
  tf.tidy(() => {
    let at = 0;
    for (const v of vars as tf.Variable[]) {
      v.assign(tf.tensor(flat.subarray(at, at + v.size), v.shape));
      at += v.size;
    }
  });
}

interface Helper {
  worker: Worker;
  state: 'starting' | 'ready' | 'failed';
  /** Resolves once it is ready or has failed. */
  started: Promise<void>;
  pending: Map<number, { resolve(r: ShardResult): void; reject(e: Error): void }>;
  /** Shards it failed on (the first is logged). */
  shardFailures: number;
}

/** Replica threads for one training run; `step` does one data-parallel update. */
export class ReplicaPool {
  private readonly helpers: Helper[];
  private nextId = 0;
  /** Shards computed on replica threads and on this one, so far. */
  readonly shards = { onReplicas: 0, here: 0 };

  /** Starts `count − 1` replica threads (they load in the background; until one is ready its shards are computed here). */
  constructor(
    init: ReplicaInit,
    readonly count: number,
    private readonly log: (message: string) => void,
  ) {
    this.helpers = Array.from({ length: count - 1 }, () => this.start(init));
  }

  private start(init: ReplicaInit): Helper {
    let settle = () => {};
    const started = new Promise<void>((r) => (settle = r));
    const h: Helper = { worker: new Worker(new URL('./replicaWorker.js', import.meta.url), { workerData: init }), state: 'starting', started, pending: new Map(), shardFailures: 0 };
    const fail = (why: string) => {
      settle();
      if (h.state === 'failed') return;
      h.state = 'failed';
      this.log(`a replica thread stopped (${why}); its shards are computed on the training thread from now on`);
      for (const p of h.pending.values()) p.reject(new Error(why));
      h.pending.clear();
      void h.worker.terminate();
    };
    h.worker.on('message', (m: FromReplica) => {
      if (m.type === 'ready') {
        h.state = h.state === 'starting' ? 'ready' : h.state;
        settle();
      } else if (m.type === 'grads') {
        h.pending.get(m.id)?.resolve(m);
        h.pending.delete(m.id);
      } else if (m.id === null) {
        fail(`it could not start: ${m.message}`);
      } else {
        if (h.shardFailures++ === 0) this.log(`a replica thread failed on a shard (${m.message}); such shards are computed on the training thread`);
        h.pending.get(m.id)?.reject(new Error(m.message));
        h.pending.delete(m.id);
      }
    });
    h.worker.on('error', (err) => fail(err.message));
    h.worker.on('exit', (code) => fail(`exit code ${code}`));
    return h;
  }

  /**
   * Waits until every replica thread has loaded its back end and model (a
   * few seconds), or `timeoutMs`: training starts at full speed, and a thread
   * that is still not up leaves its shards to this one.
   */
  async ready(timeoutMs = 120_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(this.helpers.map((h) => h.started)), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    const late = this.helpers.filter((h) => h.state === 'starting').length;
    if (late) this.log(`${late} replica thread(s) not up after ${timeoutMs / 1000} s; their shards are computed on the training thread until they are`);
  }

  /**
   * One update of `vars` with `adam` from `batch`, its shards' gradients
   * summed with weights rows/total; returns the batch's mean loss and correct count.
   */
  async step(built: BuiltModel, adam: Adam, vars: tf.Variable[], batch: Batch, trim: boolean, globalStep: number): Promise<{ loss: number; correct: number }> {
    const shards = splitBatch(batch, this.count, trim);
    const weights = shards.length > 1 ? tf.tidy(() => new Float32Array(flatten(vars).dataSync() as Float32Array)) : new Float32Array(0);
    const remote = shards.slice(1).map((s, i) => this.send(this.helpers[i]!, s, globalStep, weights));
    const local = (s: Shard) => {
      this.shards.here++;
      return shardGradients(built, vars, globalStep, s.rows, s.batch);
    };
    const results = [local(shards[0]!)];
    for (const [i, r] of remote.entries()) {
      // A replica that is not up, or fails on this shard, leaves it to this thread: the same numbers either way.
      const answer = r && (await r.catch(() => null));
      if (answer) this.shards.onReplicas++;
      const shard = shards[i + 1]!;
      // A sent shard's buffers went with it: cut it again from the batch.
      results.push(answer || local(r ? { rows: shard.rows, batch: rowsOf(batch, shard.rows.offset, shard.batch.size, trim) } : shard));
    }
    const n = batch.size;
    const sum = new Float32Array(results[0]!.grads.length);
    let loss = 0;
    let correct = 0;
    results.forEach((r, i) => {
      const w = shards[i]!.batch.size / n;
      for (let k = 0; k < sum.length; k++) sum[k] = sum[k]! + r.grads[k]! * w;
      loss += r.loss * w;
      correct += r.correct;
    });
    tf.tidy(() => adam.applyFlat(tf.tensor1d(sum)));
    return { loss, correct };
  }

  private send(h: Helper, s: Shard, step: number, weights: Float32Array) {
    if (h.state !== 'ready') return null;
    const id = this.nextId++;
    const m: ToReplica = { type: 'shard', id, step, rows: s.rows, weights, batch: s.batch };
    return new Promise<ShardResult>((resolve, reject) => {
      h.pending.set(id, { resolve, reject });
      h.worker.postMessage(m, batchBuffers(s.batch));
    });
  }

  /** Stops the replica threads. */
  async close(): Promise<void> {
    await Promise.all(
      this.helpers.map(async (h) => {
        h.state = 'failed';
        h.worker.removeAllListeners('exit');
        await h.worker.terminate();
      }),
    );
  }
}
