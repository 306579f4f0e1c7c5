/**
 * The prefetch worker thread (ml/prefetch.ts) hands out exactly the batches
 * of the in-process stream (ml/data.ts) in the same order: every needs
 * setting, several epochs (the worker keeps row groups between them), a
 * resumed epoch's skip, whole-part and byte-range reads, an epoch left early,
 * a part that cannot be read, and the switch that turns prefetching off.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { LocalStorage, type Storage } from '../storage/index.js';
import { Rng } from '../common/rng.js';
import { collectBytes } from '../parquet/index.js';
import { FeaturesParquetWriter } from '../hep/features/index.js';
import { HLF_FEATURES, PARTICLE_FEATURES } from '../hep/layout.js';
import { epochBatches, type Batch, type DataNeeds, type PartRef } from '../ml/data.js';
import { prefetchedData, streamedData } from '../ml/prefetch.js';
import type { EpochRequest } from '../ml/trainingData.js';

const STEPS = 4;
const SIZES = [50, 0, 33, 71, 9];

let storage: Storage;
let parts: PartRef[];

before(async () => {
  storage = new LocalStorage(mkdtempSync(join(tmpdir(), 'topoflow-prefetch-')));
  const rng = new Rng(3);
  parts = [];
  for (const [p, rows] of SIZES.entries()) {
    const w = new FeaturesParquetWriter({ rowGroupSize: 8, particles: STEPS });
    for (let r = 0; r < rows; r++) {
      const hlf = Float32Array.from({ length: HLF_FEATURES }, (_, k) => (k === 0 ? p * 1000 + r : rng.uniform()));
      const real = Math.floor(rng.uniform() * (STEPS + 1));
      const gru = Float32Array.from({ length: STEPS * PARTICLE_FEATURES }, (_, k) => (k < real * PARTICLE_FEATURES ? rng.uniform() - 0.5 : 0));
      w.add({ hlf, gru, label: (p + r) % 3, sourceFile: `f${p}`, entry: r, shuffleKey: r });
    }
    const key = `part-${p}.parquet`;
    const put = await storage.put(key, await collectBytes(w.finish()));
    parts.push({ key, rows, bytes: put.bytes, sha256: put.sha256 });
  }
});

async function collect(batches: AsyncIterable<Batch>): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of batches) out.push(b);
  return out;
}

function assertSameBatches(got: Batch[], want: Batch[], what: string): void {
  assert.equal(got.length, want.length, `${what}: batch count`);
  for (const [i, w] of want.entries()) {
    const g = got[i]!;
    assert.equal(g.size, w.size, `${what}: batch ${i} size`);
    assert.equal(g.steps, w.steps, `${what}: batch ${i} steps`);
    assert.deepEqual(g.labels, w.labels, `${what}: batch ${i} labels`);
    assert.deepEqual(g.hlf, w.hlf, `${what}: batch ${i} hlf`);
    assert.deepEqual(g.particles, w.particles, `${what}: batch ${i} particles`);
  }
}

const NEEDS: DataNeeds[] = [
  { hlf: true, particles: false, trim: false },
  { hlf: false, particles: true, trim: true },
  { hlf: true, particles: true, trim: false },
];

describe('prefetched training batches', () => {
  test('equal the in-process stream for every needs setting, over three epochs, whole-part and range reads', async () => {
    for (const wholePartBytes of [undefined, 64]) {
      const data = prefetchedData(storage, parts, parts, { wholePartBytes, ahead: 2 });
      try {
        for (const needs of NEEDS) {
          for (let epoch = 0; epoch < 3; epoch++) {
            const req: EpochRequest = { seed: 9, epoch, bufferSize: 16, batchSize: 10 };
            const want = await collect(epochBatches(storage, parts, needs, { ...req, wholePartBytes }));
            const got = await collect(data.epoch(needs, req));
            assertSameBatches(got, want, `needs ${JSON.stringify(needs)}, epoch ${epoch}, wholePartBytes ${wholePartBytes}`);
          }
        }
      } finally {
        await data.close?.();
      }
    }
  });

  test('a resumed epoch skips the same batches; an epoch left early does not disturb the next', async () => {
    const data = prefetchedData(storage, parts, parts);
    try {
      const needs = NEEDS[2]!;
      const req: EpochRequest = { seed: 4, epoch: 1, bufferSize: 32, batchSize: 7, skip: 5 };
      assertSameBatches(await collect(data.epoch(needs, req)), await collect(epochBatches(storage, parts, needs, req)), 'skip 5');
      let taken = 0;
      for await (const _ of data.epoch(needs, { ...req, skip: 0 })) if (++taken === 3) break;
      assert.equal(taken, 3);
      const next: EpochRequest = { seed: 4, epoch: 2, bufferSize: 32, batchSize: 7 };
      assertSameBatches(await collect(data.epoch(needs, next)), await collect(epochBatches(storage, parts, needs, next)), 'after an early exit');
    } finally {
      await data.close?.();
    }
  });

  test('a part that cannot be read fails the epoch with its URI', async () => {
    const missing: PartRef = { key: 'absent.parquet', rows: 5, bytes: 100, sha256: '0'.repeat(64) };
    const bad = prefetchedData(storage, [parts[0]!, missing], parts);
    try {
      await assert.rejects(collect(bad.epoch(NEEDS[0]!, { seed: 1, epoch: 0, bufferSize: 8, batchSize: 4 })), (err: Error) => {
        assert.match(err.message, /absent\.parquet/);
        return true;
      });
    } finally {
      await bad.close?.();
    }
  });

  test('TOPOFLOW_PREFETCH=0 trains from the in-process stream; =1 from the worker', async () => {
    const off = streamedData(storage, parts, parts, { recurrent: true }, { TOPOFLOW_PREFETCH: '0' });
    assert.equal(off.prefetched, false);
    const on = streamedData(storage, parts, parts, { recurrent: false }, { TOPOFLOW_PREFETCH: '1' });
    try {
      assert.equal(on.prefetched, true);
      const req: EpochRequest = { seed: 2, epoch: 0, bufferSize: 8, batchSize: 16 };
      assertSameBatches(await collect(on.epoch(NEEDS[1]!, req)), await collect(off.epoch(NEEDS[1]!, req)), 'on against off');
    } finally {
      await on.close?.();
    }
  });

  test('by default only a recurrent model prefetches, and only with two or more cores', async () => {
    const streams = [true, false].map((recurrent) => streamedData(storage, parts, parts, { recurrent }, {}));
    assert.deepEqual(streams.map((s) => s.prefetched), [availableParallelism() > 1, false]);
    for (const s of streams) await s.close?.();
  });
});
