/**
 * The shapes a model's inputs travel in: a row (one event), a batch (rows
 * side by side, particles trimmed to the longest event when the model masks
 * padding), and batching rows already in memory or in a row stream.
 */
import { HLF_FEATURES, PARTICLE_FEATURES } from '../hep/layout.js';

export interface DataNeeds {
  hlf: boolean;
  particles: boolean;
  /** Trim trailing all-zero particle rows (only exact when the model masks zeros). */
  trim: boolean;
}

export interface Row {
  hlf: Float32Array | undefined;
  particles: Float32Array | undefined;
  /** Particle rows up to the last non-padding one. */
  length: number;
  label: number;
}

export interface Batch {
  size: number;
  /** size × 14 */
  hlf: Float32Array | undefined;
  /** size × steps × 19 */
  particles: Float32Array | undefined;
  steps: number;
  labels: Int8Array;
}

/** Groups rows into batches of `size` (the last one may be smaller); skips the first `skip` batches. */
export async function* batches(rows: AsyncIterable<Row>, size: number, needs: DataNeeds, skip = 0): AsyncGenerator<Batch> {
  let pending: Row[] = [];
  let index = 0;
  for await (const row of rows) {
    pending.push(row);
    if (pending.length === size) {
      if (index++ >= skip) yield assemble(pending, needs);
      pending = [];
    }
  }
  if (pending.length > 0 && index >= skip) yield assemble(pending, needs);
}

/** `batches` over rows held in memory, without a per-row await. */
export async function* batchesOf(rows: readonly Row[], size: number, needs: DataNeeds, skip = 0): AsyncGenerator<Batch> {
  for (let at = skip * size; at < rows.length; at += size) yield assemble(rows.slice(at, at + size), needs);
}

/** Rows as one batch (particles trimmed to the longest when `needs.trim`). */
export function assemble(rows: readonly Row[], needs: DataNeeds): Batch {
  const size = rows.length;
  const labels = Int8Array.from(rows, (r) => r.label);
  let hlf: Float32Array | undefined;
  if (needs.hlf) {
    hlf = new Float32Array(size * HLF_FEATURES);
    rows.forEach((r, i) => hlf!.set(r.hlf!, i * HLF_FEATURES));
  }
  let particles: Float32Array | undefined;
  let steps = 0;
  if (needs.particles) {
    const full = rows[0]!.particles!.length / PARTICLE_FEATURES;
    steps = needs.trim ? Math.max(1, ...rows.map((r) => r.length)) : full;
    const width = steps * PARTICLE_FEATURES;
    particles = new Float32Array(size * width);
    rows.forEach((r, i) => particles!.set(r.particles!.subarray(0, width), i * width));
  }
  return { size, hlf, particles, steps, labels };
}

/** Rows up to and including the last one with a non-zero value. */
export function realLength(particles: Float32Array): number {
  return realLengthAt(particles, 0, particles.length);
}

/** `realLength` of the `width` values at `offset` (a row inside a larger array, without a view on it). */
export function realLengthAt(values: Float32Array, offset: number, width: number): number {
  for (let i = width - 1; i >= 0; i--) if (values[offset + i] !== 0) return Math.floor(i / PARTICLE_FEATURES) + 1;
  return 0;
}
