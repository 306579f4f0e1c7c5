/**
 * Training data, streamed from stage 2's Parquet parts in storage.
 *
 * Each epoch interleaves rows from a window of open parts at random and passes
 * them through a seeded shuffle buffer (as tf.data's `shuffle`); memory stays
 * bounded by the window and the buffer, whatever the data set's size: parts
 * above 32 MiB are read by byte range, so an open part costs its footer and
 * the column chunks of its current row group, not the whole file.
 * The order is a pure function of (seed, epoch),
 * so a resumed run replays the epoch and skips the rows already trained on.
 *
 * Masked padding trails each event's real particles with all-zero rows, which
 * a Masking(0) layer skips; batches are trimmed to their longest event, which
 * leaves the model's output unchanged and saves most of the recurrent work.
 */
import { Rng } from '../common/rng.js';
import { verifyObject } from '../storage/verified.js';
import { FeaturesFile, type ModelInputs } from '../hep/features/index.js';
import type { Storage } from '../storage/index.js';
import { HLF_FEATURES, PARTICLE_FEATURES } from '../hep/layout.js';

export interface PartRef {
  key: string;
  rows: number;
  /** The object's size (from the manifest): it decides between a whole fetch and range reads. */
  bytes: number;
  /** The object's SHA-256 (from the manifest), checked by `verifyParts`. */
  sha256: string;
}

/** Checks every part's size and SHA-256 against its manifest, streaming (see storage/verified.ts for why). */
export async function verifyParts(storage: Storage, parts: PartRef[], progress?: (done: number, total: number) => void): Promise<void> {
  for (const [i, part] of parts.entries()) {
    await verifyObject(storage, part);
    progress?.(i + 1, parts.length);
  }
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

export interface StreamOptions {
  /** Parts up to this size are fetched whole (faster); larger ones by byte range (bounded memory). Default 32 MiB. */
  wholePartBytes?: number;
}

/**
 * The training rows of one epoch, in its seeded order. Parts are often one
 * class each (one stage-1 file per sample), and so is every row group in them,
 * so reading whole row groups in turn gives single-class runs that a bounded
 * shuffle buffer cannot break up. Instead up to `openParts` parts are open at
 * once, each at a row group of its own (in a seeded order), and every next row
 * comes from one of them chosen with probability proportional to its rows
 * left: the stream is a uniformly random interleaving of the open parts, so
 * the class mix of any stretch matches theirs. The shuffle buffer then mixes
 * rows further. Memory: per open part, its bytes (up to 32 MiB) or one row
 * group's column chunks, plus one decoded row group; and the buffer.
 *
 * Parts that open late (when there are more than `openParts`) join parts
 * already half drained, so they end the epoch alone: single-class rows last.
 * So by default every part is open at once when that fits a memory budget
 * (openPartsFor); only beyond it does the tail lose its mix.
 */
export async function* epochRows(storage: Storage, parts: PartRef[], needs: DataNeeds, opts: StreamOptions & { seed: number; epoch: number; bufferSize: number; openParts?: number }): AsyncGenerator<Row> {
  const rng = new Rng(opts.seed, opts.epoch, 0x5eed);
  const queue = shuffled(parts.map((_, i) => i), rng);
  const open: OpenPart[] = [];
  const fill = async () => {
    const openParts = opts.openParts ?? openPartsFor(parts, opts.wholePartBytes);
    while (open.length < openParts && queue.length) {
      const file = await PartReader.open(storage, parts[queue.shift()!]!, opts.wholePartBytes);
      if (file.rows === 0) file.free();
      else open.push({ file, groups: shuffled(range(file.rowGroups), rng), cols: undefined, row: 0, left: file.rows });
    }
  };
  const buffer: Row[] = [];
  try {
    await fill();
    while (open.length) {
      const i = pickByRowsLeft(open, rng.uniform());
      const row = await nextRow(open[i]!, needs);
      if (open[i]!.left === 0) {
        open.splice(i, 1)[0]!.file.free();
        await fill();
      }
      if (buffer.length < opts.bufferSize) {
        buffer.push(row);
        continue;
      }
      const j = Math.floor(rng.uniform() * buffer.length);
      yield buffer[j]!;
      buffer[j] = row;
    }
  } finally {
    for (const o of open) o.file.free();
  }
  yield* shuffled(buffer, rng);
}

const DEFAULT_OPEN_PARTS = 16;
/** What open parts may hold at once, by default (their bytes, or a row group's chunks each when read by range). */
const OPEN_PARTS_BUDGET = 512 * 2 ** 20;
/** A range-read part's cost while open: one row group's column chunks (256 × 801 × 19 floats ≈ 15.6 MB raw), rounded up. */
const RANGE_READ_PART_COST = 24 * 2 ** 20;

/** All parts when they fit OPEN_PARTS_BUDGET (counting the largest first), else as many as fit; never fewer than 16. */
export function openPartsFor(parts: readonly PartRef[], wholePartBytes = WHOLE_PART_BYTES): number {
  const costs = parts.map((p) => (p.bytes <= wholePartBytes ? p.bytes : RANGE_READ_PART_COST)).sort((a, b) => b - a);
  let fit = 0;
  for (let total = 0; fit < costs.length && total + costs[fit]! <= OPEN_PARTS_BUDGET; fit++) total += costs[fit]!;
  return Math.max(DEFAULT_OPEN_PARTS, fit);
}

interface OpenPart {
  file: PartReader;
  /** Row groups not read yet, next last. */
  groups: number[];
  cols: ModelInputs | undefined;
  row: number;
  left: number;
}

/** Index of the part that `u` ∈ [0, 1) falls on when parts are weighted by rows left. */
function pickByRowsLeft(open: OpenPart[], u: number): number {
  let at = u * open.reduce((s, o) => s + o.left, 0);
  for (let i = 0; i < open.length; i++) {
    at -= open[i]!.left;
    if (at < 0) return i;
  }
  return open.length - 1;
}

async function nextRow(part: OpenPart, needs: DataNeeds): Promise<Row> {
  while (!part.cols || part.row >= part.cols.rows) {
    const g = part.groups.pop();
    if (g === undefined) throw new Error(`a stage-2 part has fewer rows than its metadata's ${part.file.rows}`);
    part.cols = await part.file.read(g, needs);
    part.row = 0;
  }
  part.left--;
  return copyRow(part.cols, part.row++, needs);
}

/** The test rows in file order (no shuffling: predictions line up with the files). */
export async function* orderedRows(storage: Storage, parts: PartRef[], needs: DataNeeds, opts: StreamOptions = {}): AsyncGenerator<Row> {
  for (const part of parts) {
    const file = await PartReader.open(storage, part, opts.wholePartBytes);
    try {
      for (let g = 0; g < file.rowGroups; g++) {
        const cols = await file.read(g, needs);
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

/** Rows as one batch (particles trimmed to the longest when `needs.trim`). */
export function assemble(rows: Row[], needs: DataNeeds): Batch {
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

function copyRow(cols: ModelInputs, r: number, needs: DataNeeds): Row {
  const hlf = needs.hlf ? cols.hlf.slice(r * HLF_FEATURES, (r + 1) * HLF_FEATURES) : undefined;
  let particles: Float32Array | undefined;
  let length = 0;
  if (needs.particles) {
    const width = cols.particles * PARTICLE_FEATURES;
    particles = cols.gru!.slice(r * width, (r + 1) * width);
    length = needs.trim ? realLength(particles) : cols.particles;
  }
  return { hlf, particles, length, label: cols.label[r]! };
}

/** Rows up to and including the last one with a non-zero value. */
export function realLength(particles: Float32Array): number {
  for (let i = particles.length - 1; i >= 0; i--) if (particles[i] !== 0) return Math.floor(i / PARTICLE_FEATURES) + 1;
  return 0;
}

const WHOLE_PART_BYTES = 32 * 2 ** 20;

/**
 * A stage-2 part, fetched whole when small (one storage read; measured 1.3×
 * the rows/s of range reads on local storage) or else by range reads: its
 * footer now, a row group's needed column chunks when read. Errors name the object.
 */
class PartReader {
  private constructor(private readonly file: FeaturesFile, private readonly uri: string) {}

  static async open(storage: Storage, part: PartRef, wholePartBytes = WHOLE_PART_BYTES): Promise<PartReader> {
    const uri = storage.uri(part.key);
    try {
      const source = part.bytes <= wholePartBytes ? await storage.get(part.key) : { size: part.bytes, read: (offset: number, length: number) => storage.getRange(part.key, offset, length) };
      return new PartReader(await FeaturesFile.open(source), uri);
    } catch (err) {
      throw new Error(`${uri}: not a readable stage-2 Parquet file (${(err as Error).message})`);
    }
  }

  get rows(): number {
    return this.file.rows;
  }

  get rowGroups(): number {
    return this.file.rowGroups;
  }

  async read(group: number, needs: DataNeeds): Promise<ModelInputs> {
    try {
      return await this.file.readInputs(group, { particles: needs.particles });
    } catch (err) {
      throw new Error(`${this.uri}: row group ${group} cannot be read (${(err as Error).message})`);
    }
  }

  free(): void {
    this.file.free();
  }
}

/** A seeded Fisher–Yates shuffle (a copy). */
export function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
