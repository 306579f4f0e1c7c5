/**
 * The `features` stage kind on bad stage-1 input, called directly (no
 * Temporal): clear errors naming the part, row and column; an empty class is
 * refused before anything is written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '../storage/index.js';
import { collectBytes } from '../parquet/index.js';
import { IngestParquetWriter } from '../hep/ingest/index.js';
import { FeaturesParquetWriter } from '../hep/features/index.js';
import { features } from '../stages/builtin/features.js';
import { RecordingOutputWriter } from '../runtime/outputWriter.js';
import { BadInputError } from '../common/errors.js';
import type { StageContext } from '../stages/kind.js';
import type { StageManifest } from '../protocol/manifest.js';

const storage = new LocalStorage(mkdtempSync(join(tmpdir(), 'topoflow-features-bad-')));
const PARTICLES = 3;

interface Part {
  name: string;
  key: string;
  bytes: number;
  sha256: string;
}

async function ingestPart(name: string, rows: Array<{ label: number; hf?: number[]; lf?: number[] }>): Promise<Part> {
  const w = new IngestParquetWriter({ particles: PARTICLES, rowGroupSize: 2 });
  rows.forEach((r, entry) => w.add({
    hfeatures: r.hf ?? Array.from({ length: 14 }, (_, i) => i + entry),
    lfeatures: Float32Array.from(r.lf ?? Array.from({ length: PARTICLES * 19 }, (_, i) => (i < 19 ? i + 1 : i < 38 ? i * 0.5 : 0))),
    label: r.label,
    sourceFile: name,
    entry,
  }));
  const key = `stage1/${name}`;
  const { bytes, sha256 } = await storage.put(key, await collectBytes(w.finish()));
  return { name, key, bytes, sha256 };
}

function ctx(parts: Part[]): StageContext<ReturnType<typeof features.withSchema.parse>> {
  const inputs = { ingest: { outputs: parts.map((p) => ({ ...p, uri: storage.uri(p.key) })) } as unknown as StageManifest };
  return {
    stageId: 'features', with: features.withSchema.parse({}), inputs, storage, output: new RecordingOutputWriter(storage, 'out'),
    progress: () => {}, signal: new AbortController().signal, log: () => {}, checkpointFolder: 'checkpoints/features',
  };
}

test('NaN in hfeatures: the error names the part, the row and the feature', async () => {
  const part = await ingestPart('part-00007.parquet', [{ label: 0 }, { label: 1 }, { label: 2, hf: [1, 2, 3, NaN, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14] }]);
  const c = ctx([part]);
  const [shard] = await features.plan(c);
  await assert.rejects(features.prepass!.runShard(c, shard!, 0), (err: Error) => {
    assert.ok(err instanceof BadInputError);
    assert.match(err.message, /part-00007\.parquet row 2: hfeatures\[3\] is NaN/);
    return true;
  });
});

test('Inf in the particle matrix: named in the transform pass', async () => {
  const lf = Array.from({ length: PARTICLES * 19 }, (_, i) => (i < 38 ? i + 1 : 0));
  lf[19 + 4] = Infinity;
  const part = await ingestPart('part-00001.parquet', [{ label: 0 }, { label: 1 }, { label: 2, lf }]);
  const c = ctx([part]);
  const [shard] = await features.plan(c);
  const prepared = await features.prepass!.merge(c, [await features.prepass!.runShard(c, shard!, 0)]);
  await assert.rejects(features.runShard({ ...c, prepared }, shard!, 0), (err: Error) => {
    assert.ok(err instanceof BadInputError, String(err));
    assert.match(err.message, /part-00001\.parquet/);
    assert.match(err.message, /row|Inf/i);
    return true;
  });
  assert.deepEqual(await storage.list('out/'), [], 'nothing written');
});

test('an empty class is refused at the merge, listing the class', async () => {
  const part = await ingestPart('part-00002.parquet', [{ label: 0 }, { label: 2 }]);
  const c = ctx([part]);
  const [shard] = await features.plan(c);
  await assert.rejects(features.prepass!.merge(c, [await features.prepass!.runShard(c, shard!, 0)]), /class\(es\) 1 .*have no events/);
});

test('a file that is not stage-1 output: the error names the part and the missing column', async () => {
  const w = new FeaturesParquetWriter({ particles: 1, rowGroupSize: 4 });
  w.add({ hlf: new Float32Array(14), gru: new Float32Array(19), label: 0, sourceFile: 'x', entry: 0, shuffleKey: 0.5 });
  const put = await storage.put('stage1/part-00003.parquet', await collectBytes(w.finish()));
  const c = ctx([{ name: 'part-00003.parquet', key: 'stage1/part-00003.parquet', bytes: put.bytes, sha256: put.sha256 }]);
  const [shard] = await features.plan(c);
  await assert.rejects(features.prepass!.runShard(c, shard!, 0), (err: Error) => {
    assert.match(err.message, /part-00003\.parquet/);
    assert.match(err.message, /hfeatures|column/);
    return true;
  });
});

test('a part that differs from its manifest record (damaged, overwritten) fails naming the object, before decoding', async () => {
  const part = await ingestPart('part-00009.parquet', [{ label: 0 }, { label: 1 }, { label: 2 }]);
  const c = ctx([part]);
  const [shard] = await features.plan(c);
  const prepared = await features.prepass!.merge(c, [await features.prepass!.runShard(c, shard!, 0)]);
  const bytes = new Uint8Array(await storage.get(part.key));
  bytes.fill(0xff, 4, 40); // page data: parquet-wasm would trap and take the worker with it
  await storage.put(part.key, bytes);
  for (const run of [() => features.prepass!.runShard(c, shard!, 0), () => features.runShard({ ...c, prepared }, shard!, 0)]) {
    await assert.rejects(run(), (err: Error) => {
      assert.ok(err instanceof BadInputError);
      assert.ok(err.message.startsWith(`${storage.uri(part.key)}: the object differs from what its stage's manifest recorded`), err.message);
      return true;
    });
  }
});
