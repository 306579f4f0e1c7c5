/**
 * Messages between the training thread and a replica thread (replicas.ts,
 * replicaWorker.ts). The replica builds the same model from (spec, seed);
 * per step it gets the current weights (flat, in the order of the model's
 * trainable weights) and its shard of the batch, and answers with the
 * shard's gradients, flat in the same order. Buffers move without copies.
 */
import type { BackendChoice } from './backendChoice.js';
import type { Batch } from './rows.js';
import type { ModelSpec } from './modelSpec.js';

export interface ReplicaInit {
  spec: ModelSpec;
  seed: number;
  /** The back end the training thread runs on; the replica activates the same. */
  backend: Exclude<BackendChoice, 'auto'>;
  /** The model's recurrent layers may skip masked rows' trailing steps (StepClock.packed). */
  packed: boolean;
}

/** Rows `offset`.. of a batch of `total` rows (for the dropout masks). */
export interface ShardRows {
  offset: number;
  total: number;
}

export interface ShardRequest {
  type: 'shard';
  id: number;
  /** The trainer's global step (the dropout masks' clock). */
  step: number;
  rows: ShardRows;
  weights: Float32Array;
  batch: Batch;
}

export type ToReplica = ShardRequest;

/** One shard's gradients (flat, in the order of the model's trainable weights), mean loss and correct count. */
export interface ShardResult {
  grads: Float32Array;
  loss: number;
  correct: number;
}

export type FromReplica =
  | { type: 'ready' }
  | ({ type: 'grads'; id: number } & ShardResult)
  /** `id` null: the replica could not start. */
  | { type: 'failed'; id: number | null; message: string };

/** The buffers of a batch, to transfer with it. */
export function batchBuffers(b: Batch): ArrayBuffer[] {
  return [b.labels, b.hlf, b.particles].filter((a) => a !== undefined).map((a) => a.buffer as ArrayBuffer);
}
