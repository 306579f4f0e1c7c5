/**
 * Training data, streamed from stage 2's Parquet parts in storage.
 *
 * Each epoch interleaves rows from a window of open parts at random and passes
 * them through a seeded shuffle buffer (as tf.data's `shuffle`), and hands
 * them out a batch at a time; memory stays bounded by the window, the buffer
 * and the decoded row groups kept between epochs (a fixed budget,
 * keptGroups.ts), whatever the data set's size: parts above 32 MiB are read by
 * byte range, so an open part costs its footer and the column chunks of its
 * current row group, not the whole file. The order is a pure function of
 * (seed, epoch), so a resumed run replays the epoch and skips the batches
 * already trained on (drawn, not assembled).
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
import { KeptGroups } from './keptGroups.js';
import { RowSlots } from './rowSlots.js';
import { realLength, type Batch, type DataNeeds, type Row } from './rows.js';

export { assemble, batches, batchesOf, realLength, type Batch, type DataNeeds, type Row } from './rows.js';

/** What reading parts needs of a storage: a stream can run on anything that serves these (e.g. a prefetching worker's proxy). */
export type PartReads = Pick<Storage, 'uri' | 'get' | 'getRange'>;

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

export interface StreamOptions {
  /** Parts up to this size are fetched whole (faster); larger ones by byte range (bounded memory). Default 32 MiB. */
  wholePartBytes?: number;
  /** Decoded row groups kept between epochs (a training run's; see keptGroups.ts). */
  kept?: KeptGroups;
}

export interface EpochOptions extends StreamOptions {
  seed: number;
  epoch: number;
  bufferSize: number;
  /** Parts open at once (default: openPartsFor). */
  openParts?: number;
}

/**
 * The training batches of one epoch, in its seeded order (see `epochOrder`):
 * consecutive runs of `batchSize` rows, the last one maybe shorter, less the
 * first `skip` (a resumed run's; they are drawn, not assembled).
 */
export function epochBatches(storage: PartReads, parts: PartRef[], needs: DataNeeds, opts: EpochOptions & { batchSize: number; skip?: number }): AsyncGenerator<Batch> {
  return epochOrder(storage, parts, needs, opts, opts.batchSize, opts.skip ?? 0, (slots, ids) => slots.batch(ids));
}

/** The rows behind `epochBatches`, one at a time, each a copy (tests, and the torch kernel's reference). */
export async function* epochRows(storage: PartReads, parts: PartRef[], needs: DataNeeds, opts: EpochOptions): AsyncGenerator<Row> {
  for await (const rows of epochOrder(storage, parts, needs, opts, ROWS_PER_PULL, 0, (slots, ids) => ids.map((id) => slots.row(id)))) yield* rows;
}

const ROWS_PER_PULL = 256;

/**
 * The training rows of one epoch, in its seeded order. Parts are often one
 * class each (one stage-1 file per sample), and so is every row group in them,
 * so reading whole row groups in turn gives single-class runs that a bounded
 * shuffle buffer cannot break up. Instead up to `openParts` parts are open at
 * once, each at a row group of its own (in a seeded order), and every next row
 * comes from one of them chosen with probability proportional to its rows
 * left: the stream is a uniformly random interleaving of the open parts, so
 * the class mix of any stretch matches theirs. The shuffle buffer then mixes
 * rows further.
 *
 * Parts that open late (when there are more than `openParts`) join parts
 * already half drained, so they end the epoch alone: single-class rows last.
 * So by default every part is open at once when that fits a memory budget
 * (openPartsFor); only beyond it does the tail lose its mix.
 *
 * The rows go out in runs of `run` (the last one maybe shorter), each made by
 * `make` from the slots that hold it, which are reused once it returns. Only
 * opening a part and reading a row group wait on storage; the draws and copies
 * in between run without an await, and nothing is allocated per row (see
 * rowSlots.ts). Memory: per open part, its bytes (up to 32 MiB) or one row
 * group's column chunks, plus its current decoded row group; slots for the
 * buffer's rows and one run's; and what `opts.kept` holds (its budget).
 */
async function* epochOrder<T>(storage: PartReads, parts: PartRef[], needs: DataNeeds, opts: EpochOptions, run: number, skip: number, make: (slots: RowSlots, ids: readonly number[]) => T): AsyncGenerator<T> {
  const rng = new Rng(opts.seed, opts.epoch, 0x5eed);
  const queue = shuffled(parts.map((_, i) => i), rng);
  const openParts = opts.openParts ?? openPartsFor(parts, opts.wholePartBytes);
  const open: OpenPart[] = [];
  let left = 0; // rows left in the open parts
  const fill = async () => {
    while (open.length < openParts && queue.length) {
      const file = await openPart(storage, parts[queue.shift()!]!, needs, opts);
      if (file.rows === 0) file.free();
      else {
        open.push({ file, groups: shuffled(range(file.rowGroups), rng), cols: undefined, row: 0, left: file.rows });
        left += file.rows;
      }
    }
  };
  const slots = new RowSlots(needs);
  const buffer: number[] = [];
  const pending: number[] = [];
  let runs = 0;
  /** Ends the pending run: made (unless skipped), then its slots are free again. */
  const flush = (): T | undefined => {
    const out = runs++ >= skip ? make(slots, pending) : undefined;
    for (const id of pending) slots.release(id);
    pending.length = 0;
    return out;
  };
  try {
    await fill();
    while (open.length) {
      const i = pickByRowsLeft(open, rng.uniform() * left);
      const part = open[i]!;
      if (!part.cols || part.row >= part.cols.rows) await readNextGroup(part, needs);
      part.left--;
      left--;
      const slot = slots.put(part.cols!, part.row++);
      if (part.left === 0) {
        open.splice(i, 1);
        part.file.free();
        await fill();
      }
      if (buffer.length < opts.bufferSize) {
        buffer.push(slot);
        continue;
      }
      const j = Math.floor(rng.uniform() * buffer.length);
      pending.push(buffer[j]!);
      buffer[j] = slot;
      if (pending.length === run) {
        const out = flush();
        if (out !== undefined) yield out;
      }
    }
  } finally {
    for (const o of open) o.file.free();
  }
  for (const j of shuffled(range(buffer.length), rng)) {
    pending.push(buffer[j]!);
    if (pending.length === run) {
      const out = flush();
      if (out !== undefined) yield out;
    }
  }
  if (pending.length > 0) {
    const out = flush();
    if (out !== undefined) yield out;
  }
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
  file: GroupSource;
  /** Row groups not read yet, next last. */
  groups: number[];
  cols: ModelInputs | undefined;
  row: number;
  left: number;
}

/** Index of the part that `at` ∈ [0, rows left) falls on when parts are weighted by rows left. */
function pickByRowsLeft(open: OpenPart[], at: number): number {
  for (let i = 0; i < open.length; i++) {
    at -= open[i]!.left;
    if (at < 0) return i;
  }
  return open.length - 1;
}

async function readNextGroup(part: OpenPart, needs: DataNeeds): Promise<void> {
  while (!part.cols || part.row >= part.cols.rows) {
    const g = part.groups.pop();
    if (g === undefined) throw new Error(`a stage-2 part has fewer rows than its metadata's ${part.file.rows}`);
    part.cols = await part.file.read(g, needs);
    part.row = 0;
  }
}

/** The test rows in file order (no shuffling: predictions line up with the files). */
export async function* orderedRows(storage: PartReads, parts: PartRef[], needs: DataNeeds, opts: StreamOptions = {}): AsyncGenerator<Row> {
  for (const part of parts) {
    const file = await openPart(storage, part, needs, opts);
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

const WHOLE_PART_BYTES = 32 * 2 ** 20;

/** A part's row groups, as a stream reads them. */
interface GroupSource {
  readonly rows: number;
  readonly rowGroups: number;
  read(group: number, needs: DataNeeds): Promise<ModelInputs>;
  free(): void;
}

/** A part from what `opts.kept` holds of it, and otherwise from storage (offering what it decodes to be kept). */
async function openPart(storage: PartReads, part: PartRef, needs: DataNeeds, opts: StreamOptions): Promise<GroupSource> {
  const kept = opts.kept;
  if (!kept) return PartReader.open(storage, part, opts.wholePartBytes);
  const id = `${part.key}@${part.sha256}:${needs.particles ? 'particles' : 'hlf'}`;
  const known = kept.get(id);
  if (KeptGroups.complete(known)) {
    return { rows: known.rows, rowGroups: known.rowGroups, read: async (g) => known.groups.get(g)!, free: () => {} };
  }
  const file = await PartReader.open(storage, part, opts.wholePartBytes);
  const record = kept.opened(id, file.rows, file.rowGroups);
  return {
    rows: file.rows,
    rowGroups: file.rowGroups,
    read: async (g, n) => {
      const cols = record.groups.get(g) ?? (await file.read(g, n));
      kept.offer(record, g, cols);
      return cols;
    },
    free: () => file.free(),
  };
}

/**
 * A stage-2 part, fetched whole when small (one storage read; measured 1.3×
 * the rows/s of range reads on local storage) or else by range reads: its
 * footer now, a row group's needed column chunks when read. Errors name the object.
 */
class PartReader implements GroupSource {
  private constructor(private readonly file: FeaturesFile, private readonly uri: string) {}

  static async open(storage: PartReads, part: PartRef, wholePartBytes = WHOLE_PART_BYTES): Promise<PartReader> {
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
