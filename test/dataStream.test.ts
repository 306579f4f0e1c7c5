/**
 * The training stream's order (ml/data.ts) against a plain reference of it
 * written here, row by row as the order is documented: the seeded part queue,
 * each part's shuffled row groups, the pick by rows left, the shuffle
 * buffer's replacement draws and its shuffled flush. Parts are small files
 * written here (row groups of 7, 3 particle rows with random padding, one
 * empty part) so that every setting crosses many row groups and part ends;
 * each row's first HLF value names it, so a failure shows which rows moved.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage, type Storage } from '../storage/index.js';
import { Rng } from '../common/rng.js';
import { collectBytes } from '../parquet/index.js';
import { FeaturesFile, FeaturesParquetWriter } from '../hep/features/index.js';
import { HLF_FEATURES, PARTICLE_FEATURES } from '../hep/layout.js';
import { assemble, epochBatches, epochRows, type Batch, type DataNeeds, type PartRef, type Row } from '../ml/data.js';
import { batchesOf } from '../ml/rows.js';
import { memoryData } from '../ml/trainingData.js';
import { KEPT_GROUPS_BYTES, KeptGroups } from '../ml/keptGroups.js';

const STEPS = 3;
const GROUP = 7;
const SIZES = [40, 0, 23, 61, 7, 15];

let storage: Storage;
let parts: PartRef[];

before(async () => {
  storage = new LocalStorage(mkdtempSync(join(tmpdir(), 'topoflow-order-')));
  const rng = new Rng(1);
  parts = [];
  for (const [p, rows] of SIZES.entries()) {
    const w = new FeaturesParquetWriter({ rowGroupSize: GROUP, particles: STEPS });
    for (let r = 0; r < rows; r++) {
      const hlf = Float32Array.from({ length: HLF_FEATURES }, (_, k) => (k === 0 ? p * 1000 + r : rng.uniform()));
      const real = Math.floor(rng.uniform() * (STEPS + 1)); // 0..3 real particle rows, then zeros
      const gru = Float32Array.from({ length: STEPS * PARTICLE_FEATURES }, (_, k) => (k < real * PARTICLE_FEATURES ? rng.uniform() - 0.5 : 0));
      w.add({ hlf, gru, label: (p + r) % 3, sourceFile: `f${p}`, entry: r, shuffleKey: r });
    }
    const key = `part-${p}.parquet`;
    const put = await storage.put(key, await collectBytes(w.finish()));
    parts.push({ key, rows, bytes: put.bytes, sha256: put.sha256 });
  }
});

/** Fisher–Yates, as the stream's: from the last item down, each swapped with one at or below it. */
function shuffle<T>(items: readonly T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A part's rows in the order the epoch reads them: its row groups in seeded order (the shuffled list read from its end). */
async function partRows(part: PartRef, needs: DataNeeds, rng: Rng): Promise<Row[]> {
  const file = await FeaturesFile.open(new Uint8Array(await storage.get(part.key)));
  const groups = shuffle(Array.from({ length: file.rowGroups }, (_, g) => g), rng).reverse();
  const rows: Row[] = [];
  for (const g of groups) {
    const cols = await file.readInputs(g, { particles: true });
    for (let r = 0; r < cols.rows; r++) {
      const particles = cols.gru!.slice(r * STEPS * PARTICLE_FEATURES, (r + 1) * STEPS * PARTICLE_FEATURES);
      let length = STEPS;
      if (needs.trim) while (length > 0 && particles.subarray((length - 1) * PARTICLE_FEATURES, length * PARTICLE_FEATURES).every((v) => v === 0)) length--;
      rows.push({
        hlf: needs.hlf ? cols.hlf.slice(r * HLF_FEATURES, (r + 1) * HLF_FEATURES) : undefined,
        particles: needs.particles ? particles : undefined,
        length: needs.particles ? length : 0,
        label: cols.label[r]!,
      });
    }
  }
  file.free();
  return rows;
}

/** The epoch's rows, by the documented order, one at a time and with nothing held back. */
async function referenceEpoch(needs: DataNeeds, o: { seed: number; epoch: number; bufferSize: number; openParts: number }): Promise<Row[]> {
  const rng = new Rng(o.seed, o.epoch, 0x5eed);
  const queue = shuffle(parts.map((_, i) => i), rng);
  const open: Array<{ rows: Row[]; next: number }> = [];
  const fill = async () => {
    while (open.length < o.openParts && queue.length) {
      const part = parts[queue.shift()!]!;
      if (part.rows > 0) open.push({ rows: await partRows(part, needs, rng), next: 0 });
    }
  };
  const out: Row[] = [];
  const buffer: Row[] = [];
  await fill();
  while (open.length) {
    const left = open.map((p) => p.rows.length - p.next);
    let at = rng.uniform() * left.reduce((a, b) => a + b, 0);
    let i = 0;
    while (i < open.length - 1 && (at -= left[i]!) >= 0) i++;
    const row = open[i]!.rows[open[i]!.next++]!;
    if (open[i]!.next === open[i]!.rows.length) {
      open.splice(i, 1);
      await fill();
    }
    if (buffer.length < o.bufferSize) buffer.push(row);
    else {
      const j = Math.floor(rng.uniform() * buffer.length);
      out.push(buffer[j]!);
      buffer[j] = row;
    }
  }
  return [...out, ...shuffle(buffer, rng)];
}

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}

/** Batches as comparable plain values (deepEqual on typed arrays compares their elements). */
const plain = (b: Batch) => ({ size: b.size, steps: b.steps, labels: Array.from(b.labels), hlf: b.hlf && Array.from(b.hlf), particles: b.particles && Array.from(b.particles) });

const NEEDS: Record<string, DataNeeds> = {
  'HLF only': { hlf: true, particles: false, trim: false },
  'HLF + particles, trimmed': { hlf: true, particles: true, trim: true },
  'particles untrimmed': { hlf: false, particles: true, trim: false },
};
const SETTINGS = [
  { seed: 1, epoch: 0, bufferSize: 1, openParts: 16 },
  { seed: 2, epoch: 3, bufferSize: 25, openParts: 2 },
  { seed: 3, epoch: 1, bufferSize: 60, openParts: 1 },
  { seed: 4, epoch: 2, bufferSize: 500, openParts: 3 }, // more than the rows: all held, then flushed
];

describe('the training stream keeps its documented order', () => {
  for (const [name, needs] of Object.entries(NEEDS)) {
    test(`${name}: epochBatches gives the reference's rows batched, and a skip gives the same tail`, async () => {
      for (const o of SETTINGS) {
        const rows = await referenceEpoch(needs, o);
        assert.equal(rows.length, SIZES.reduce((a, b) => a + b, 0));
        for (const batchSize of [1, 16, 50]) {
          const expected = await collect(batchesOf(rows, batchSize, needs));
          const got = await collect(epochBatches(storage, parts, needs, { ...o, batchSize }));
          const at = `seed ${o.seed} epoch ${o.epoch} buffer ${o.bufferSize} open ${o.openParts} batch ${batchSize}`;
          assert.deepEqual(got.map(plain), expected.map(plain), at);
          for (const skip of [1, 3, expected.length]) {
            const tail = await collect(epochBatches(storage, parts, needs, { ...o, batchSize, skip }));
            assert.deepEqual(tail.map(plain), expected.slice(skip).map(plain), `${at} skip ${skip}`);
          }
        }
        const one = await collect(epochRows(storage, parts, needs, o));
        assert.deepEqual(one.map((r) => ({ ...r })), rows, `epochRows, seed ${o.seed}`);
      }
    });
  }

  test('byte-range reads and whole fetches give the same batches', async () => {
    const needs = NEEDS['HLF + particles, trimmed']!;
    const o = { seed: 5, epoch: 0, bufferSize: 30, openParts: 4, batchSize: 16 };
    const whole = await collect(epochBatches(storage, parts, needs, o));
    assert.deepEqual((await collect(epochBatches(storage, parts, needs, { ...o, wholePartBytes: 0 }))).map(plain), whole.map(plain));
  });

  test('decoded row groups kept between epochs: the same batches, and a second epoch reads nothing from storage', async () => {
    const needs = NEEDS['HLF only']!;
    let reads = 0;
    const counting = new Proxy(storage, {
      get: (target, name, receiver) => {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => ((name === 'get' || name === 'getRange') && reads++, (value as (...a: unknown[]) => unknown).apply(target, args));
      },
    });
    const o = { seed: 6, epoch: 0, bufferSize: 20, openParts: 3, batchSize: 16 };
    for (const budget of [KEPT_GROUPS_BYTES, 2000]) {
      const kept = new KeptGroups(budget);
      for (const epoch of [0, 1, 2]) {
        const plainly = await collect(epochBatches(storage, parts, needs, { ...o, epoch }));
        reads = 0;
        const got = await collect(epochBatches(counting, parts, needs, { ...o, epoch, kept }));
        assert.deepEqual(got.map(plain), plainly.map(plain), `budget ${budget}, epoch ${epoch}`);
        if (budget === KEPT_GROUPS_BYTES) assert.equal(reads > 0, epoch === 0, `epoch ${epoch}: ${reads} reads`);
        else assert.ok(reads > 0, 'a budget too small for every group: parts are read again');
      }
    }
  });

  test('rows held in memory: batches of the seeded shuffle, a skip gives the same tail', async () => {
    const needs = NEEDS['HLF + particles, trimmed']!;
    const rows = await referenceEpoch(needs, SETTINGS[0]!);
    const data = memoryData(rows, []);
    const opts = { seed: 7, epoch: 1, bufferSize: 1, batchSize: 32 };
    const order = new Rng(7, 1, 0x7e57);
    const expected = [];
    const mixed = shuffle(rows, order);
    for (let at = 0; at < mixed.length; at += 32) expected.push(assemble(mixed.slice(at, at + 32), needs));
    assert.deepEqual((await collect(data.epoch(needs, opts))).map(plain), expected.map(plain));
    assert.deepEqual((await collect(data.epoch(needs, { ...opts, skip: 2 }))).map(plain), expected.slice(2).map(plain));
  });
});
