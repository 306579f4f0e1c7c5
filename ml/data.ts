/**
 * Training data, streamed from stage 2's Parquet parts in storage.
 *
 * Each epoch draws row groups in a seeded order from a window of open parts
 * and passes rows through a seeded shuffle buffer (as tf.data's `shuffle`).
 * Memory holds the window's compressed parts, one row group and the buffer.
 * The order is a pure function of (seed, epoch),
 * so a resumed run replays the epoch and skips the rows already trained on.
 *
 * Masked padding trails each event's real particles with all-zero rows, which
 * a Masking(0) layer skips; batches are trimmed to their longest event, which
 * leaves the model's output unchanged and saves most of the recurrent work.
 */
import { Rng } from '../hep/generator/rng.js';
import { Stage2File, type Stage2Columns } from '../parquet/index.js';
import type { Storage } from '../storage/index.js';
import { HLF_FEATURES, PARTICLE_FEATURES } from './build.js';

export interface PartRef {
  key: string;
  rows: number;
}

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

/**
 * The training rows of one epoch, in its seeded order. Parts are often one
 * class each (one stage-1 file per sample), so reading them one after another
 * would give single-class runs longer than any shuffle buffer: instead up to
 * `openParts` parts are open at once and each next row group is drawn at
 * random among them. Memory: those parts' compressed bytes, one row group, the buffer.
 */
export async function* epochRows(storage: Storage, parts: PartRef[], needs: DataNeeds, opts: { seed: number; epoch: number; bufferSize: number; openParts?: number }): AsyncGenerator<Row> {
  const rng = new Rng(opts.seed, opts.epoch, 0x5eed);
  const queue = shuffled(parts.map((_, i) => i), rng);
  const open: Array<{ file: Stage2File; groups: number[] }> = [];
  const fill = async () => {
    while (open.length < (opts.openParts ?? 16) && queue.length) {
      const file = await openPart(storage, parts[queue.shift()!]!.key);
      open.push({ file, groups: shuffled(range(file.rowGroups), rng) });
    }
  };
  const buffer: Row[] = [];
  try {
    await fill();
    while (open.length) {
      const i = Math.floor(rng.uniform() * open.length);
      const src = open[i]!;
      const g = src.groups.pop();
      if (g === undefined) {
        src.file.free();
        open.splice(i, 1);
        await fill();
        continue;
      }
      const cols = await src.file.read(g);
      for (let r = 0; r < cols.rows; r++) {
        const row = copyRow(cols, r, needs);
        if (buffer.length < opts.bufferSize) {
          buffer.push(row);
          continue;
        }
        const j = Math.floor(rng.uniform() * buffer.length);
        yield buffer[j]!;
        buffer[j] = row;
      }
    }
  } finally {
    for (const o of open) o.file.free();
  }
  yield* shuffled(buffer, rng);
}

/** The test rows in file order (no shuffling: predictions line up with the files). */
export async function* orderedRows(storage: Storage, parts: PartRef[], needs: DataNeeds): AsyncGenerator<Row> {
  for (const part of parts) {
    const file = await openPart(storage, part.key);
    try {
      for (let g = 0; g < file.rowGroups; g++) {
        const cols = await file.read(g);
        for (let r = 0; r < cols.rows; r++) yield copyRow(cols, r, needs);
      }
    } finally {
      file.free();
    }
  }
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

function assemble(rows: Row[], needs: DataNeeds): Batch {
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

function copyRow(cols: Stage2Columns, r: number, needs: DataNeeds): Row {
  const hlf = needs.hlf ? cols.hlf.slice(r * HLF_FEATURES, (r + 1) * HLF_FEATURES) : undefined;
  let particles: Float32Array | undefined;
  let length = 0;
  if (needs.particles) {
    const width = cols.particles * PARTICLE_FEATURES;
    particles = cols.gru.slice(r * width, (r + 1) * width);
    length = needs.trim ? realLength(particles) : cols.particles;
  }
  return { hlf, particles, length, label: cols.label[r]! };
}

/** Rows up to and including the last one with a non-zero value. */
export function realLength(particles: Float32Array): number {
  for (let i = particles.length - 1; i >= 0; i--) if (particles[i] !== 0) return Math.floor(i / PARTICLE_FEATURES) + 1;
  return 0;
}

async function openPart(storage: Storage, key: string): Promise<Stage2File> {
  const bytes = await storage.get(key);
  try {
    return await Stage2File.open(bytes);
  } catch (err) {
    throw new Error(`${storage.uri(key)}: not a readable stage-2 Parquet file (${(err as Error).message})`);
  }
}

function shuffled<T>(items: T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
