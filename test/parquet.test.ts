/**
 * Stage-1 Parquet: files written by IngestParquetWriter, read back by pyarrow
 * (test/reference/read_parquet.py: schema, row groups, ZSTD, exact values) and
 * by readIngestParquet / readIngestRowGroups.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../infra/tools.js';
import { python } from './support/python.js';
import { collectBytes } from '../parquet/index.js';
import { HLF_FEATURES, PARTICLE_FEATURES } from '../hep/layout.js';
import { readIngestParquet, readIngestRowGroups, IngestParquetWriter, type IngestRow } from '../hep/ingest/index.js';

const run = promisify(execFile);

interface PyarrowReport {
  num_rows: number;
  row_group_rows: number[];
  schema: { name: string; type: string; nullable: boolean }[];
  compression: string[];
  metadata: Record<string, string>;
  sha256: Record<string, string>;
  values?: Record<string, unknown[]>;
}

let scratch: string;
before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'topoflow-parquet-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function pyarrow(bytes: Uint8Array, values = false): Promise<PyarrowReport> {
  const path = join(scratch, `file-${Math.random().toString(36).slice(2)}.parquet`);
  await writeFile(path, bytes);
  const args = [join(projectRoot, 'test', 'reference', 'read_parquet.py'), path, ...(values ? ['--values'] : [])];
  const { stdout } = await run(python(), args, { maxBuffer: 1 << 28 });
  return JSON.parse(stdout) as PyarrowReport;
}

async function write(rows: IngestRow[], opts: { rowGroupSize?: number; particles: number }): Promise<Uint8Array> {
  const writer = new IngestParquetWriter(opts);
  for (const row of rows) writer.add(row);
  assert.equal(writer.rows, rows.length);
  return collectBytes(writer.finish());
}

/** JSON's view of a number: non-finite ones by name (as read_parquet.py writes them). */
const asJson = (x: number): number | string => (Number.isFinite(x) ? x : String(x));

const f32 = Math.fround;
/** Values that a careless writer or reader would change. */
const EDGE_FLOATS = [-0, 0, 1, -1.5, f32(0.1), f32(3.4028234663852886e38), -f32(3.4028234663852886e38), f32(1.401298464324817e-45), NaN, Infinity, -Infinity, f32(123456.789)];
const EDGE_DOUBLES = [-0, 0, 0.1, 1e300, -1e-300, 5e-324, Number.MAX_VALUE, NaN, Infinity, -Infinity, 2 ** 53, -123.456];

function makeRows(count: number, particles: number): IngestRow[] {
  const width = particles * PARTICLE_FEATURES;
  return Array.from({ length: count }, (_, i) => {
    const lfeatures = new Float32Array(width);
    for (let k = 0; k < width; k++) lfeatures[k] = k % 7 === 3 ? 0 : f32(Math.sin(i * 31 + k) * 10 ** ((k % 9) - 4));
    const hfeatures = Array.from({ length: HLF_FEATURES }, (_, k) => Math.cos(i + k) * 1000);
    if (i % 100 === 7) {
      EDGE_FLOATS.forEach((x, k) => (lfeatures[k] = x));
      EDGE_DOUBLES.forEach((x, k) => (hfeatures[k] = x));
    }
    return {
      hfeatures: i % 2 ? Float64Array.from(hfeatures) : hfeatures,
      lfeatures,
      label: i % 3,
      sourceFile: i % 500 < 250 ? 'qcd/qcd_lepFilter_13TeV_10.root' : 's3://bucket/ttbar/événement_β.root',
      entry: i === count - 1 ? Number.MAX_SAFE_INTEGER : i * 3,
    };
  });
}

const sha256 = (array: ArrayBufferView): string => createHash('sha256').update(new Uint8Array(array.buffer, array.byteOffset, array.byteLength)).digest('hex');

describe('small particle matrices, several row groups, edge values', () => {
  const particles = 3;
  const rows = makeRows(2500, particles);
  let bytes: Uint8Array;
  before(async () => {
    bytes = await write(rows, { rowGroupSize: 1000, particles });
  });

  test('pyarrow: schema, row groups, ZSTD, metadata', async () => {
    const report = await pyarrow(bytes);
    assert.deepEqual(report.schema, [
      { name: 'hfeatures', type: 'list<element: double not null>', nullable: false },
      { name: 'lfeatures', type: 'list<element: float not null>', nullable: false },
      { name: 'label', type: 'int64', nullable: false },
      { name: 'source_file', type: 'string', nullable: false },
      { name: 'entry', type: 'int64', nullable: false },
    ]);
    assert.equal(report.num_rows, 2500);
    assert.deepEqual(report.row_group_rows, [1000, 1000, 500]);
    assert.deepEqual(report.compression, ['ZSTD']);
    assert.deepEqual(report.metadata, { 'topoflow.particles': '3' });
  });

  test('pyarrow: values exact (float32 lfeatures, float64 hfeatures, int64, UTF-8)', async () => {
    const values = (await pyarrow(bytes, true)).values ?? {};
    assert.deepEqual(values['lfeatures'], rows.map((r) => Array.from(r.lfeatures, asJson)));
    assert.deepEqual(values['hfeatures'], rows.map((r) => Array.from(r.hfeatures, asJson)));
    assert.deepEqual(values['label'], rows.map((r) => r.label));
    assert.deepEqual(values['entry'], rows.map((r) => r.entry));
    assert.deepEqual(values['source_file'], rows.map((r) => r.sourceFile));
    // JSON keeps the sign of zero: -0.0 survived the round trip.
    assert.ok(Object.is((values['lfeatures']?.[7] as number[])[0], -0));
  });

  test('readStage1Parquet gives the same values', async () => {
    const got = await readIngestParquet(bytes);
    assert.equal(got.rows, 2500);
    assert.equal(got.particles, particles);
    const width = particles * PARTICLE_FEATURES;
    assert.deepEqual(got.lfeatures, Float32Array.from(rows.flatMap((r) => Array.from(r.lfeatures))));
    assert.deepEqual(got.hfeatures, Float64Array.from(rows.flatMap((r) => Array.from(r.hfeatures))));
    assert.deepEqual(got.label, Int32Array.from(rows, (r) => r.label));
    assert.deepEqual(got.entry, Float64Array.from(rows, (r) => r.entry));
    assert.deepEqual(got.sourceFile, rows.map((r) => r.sourceFile));
    assert.ok(Object.is(got.lfeatures?.[7 * width], -0));
  });

  test('column projection and row groups one at a time', async () => {
    const some = await readIngestParquet(bytes, { columns: ['label', 'entry'] });
    assert.equal(some.rows, 2500);
    assert.equal(some.lfeatures, undefined);
    assert.equal(some.hfeatures, undefined);
    assert.deepEqual(some.entry, Float64Array.from(rows, (r) => r.entry));

    const groups: number[] = [];
    let first = 0;
    for await (const group of readIngestRowGroups(bytes, { columns: ['lfeatures', 'entry'] })) {
      groups.push(group.rows);
      assert.deepEqual(group.entry, Float64Array.from(rows.slice(first, first + group.rows), (r) => r.entry));
      assert.equal(group.lfeatures?.length, group.rows * particles * PARTICLE_FEATURES);
      first += group.rows;
    }
    assert.deepEqual(groups, [1000, 1000, 500]);
    await assert.rejects(readIngestParquet(bytes, { columns: ['label', 'nope' as 'label'] }), /unknown stage-1 column\(s\) nope/);
  });
});

test('default 801 x 19 matrices: pyarrow sees the same bytes', async () => {
  const particles = 801;
  const rows = makeRows(60, particles);
  const bytes = await write(rows, { rowGroupSize: 25, particles });
  const report = await pyarrow(bytes);
  assert.deepEqual(report.row_group_rows, [25, 25, 10]);
  assert.deepEqual(report.compression, ['ZSTD']);
  const lfeatures = Float32Array.from(rows.flatMap((r) => Array.from(r.lfeatures)));
  const hfeatures = Float64Array.from(rows.flatMap((r) => Array.from(r.hfeatures)));
  assert.equal(report.sha256['lfeatures'], sha256(lfeatures));
  assert.equal(report.sha256['hfeatures'], sha256(hfeatures));
  const got = await readIngestParquet(bytes);
  assert.equal(got.particles, 801);
  assert.equal(sha256(got.lfeatures ?? new Float32Array()), sha256(lfeatures));
});

test('zero rows: a valid file with the schema', async () => {
  const bytes = await write([], { particles: 801 });
  const report = await pyarrow(bytes);
  assert.equal(report.num_rows, 0);
  assert.deepEqual(report.compression.filter((c) => c !== 'ZSTD'), []);
  assert.deepEqual(report.schema.map((f) => f.name), ['hfeatures', 'lfeatures', 'label', 'source_file', 'entry']);
  const got = await readIngestParquet(bytes);
  assert.equal(got.rows, 0);
  assert.equal(got.particles, 801);
  assert.equal(got.lfeatures?.length, 0);
  assert.deepEqual(got.sourceFile, []);
});

test('bad rows and misuse are refused', async () => {
  const writer = new IngestParquetWriter({ particles: 2, rowGroupSize: 10 });
  const good = makeRows(1, 2)[0] as IngestRow;
  assert.throws(() => writer.add({ ...good, lfeatures: new Float32Array(37) }), /lfeatures must be a Float32Array of 38 values, got 37/);
  assert.throws(() => writer.add({ ...good, hfeatures: [1, 2] }), /hfeatures has 2 values, expected 14/);
  assert.throws(() => writer.add({ ...good, entry: -1 }), /entry must be a non-negative integer/);
  assert.throws(() => writer.add({ ...good, label: 0.5 }), /label must be an integer/);
  writer.add(good);
  assert.equal(writer.rows, 1);
  const output = writer.finish();
  assert.throws(() => writer.add(good), /add\(\) after finish\(\)/);
  assert.throws(() => writer.finish(), /finish\(\) called twice/);
  assert.equal((await readIngestParquet(await collectBytes(output))).rows, 1);
  assert.throws(() => new IngestParquetWriter({ particles: 801, rowGroupSize: 200_000 }), /exceeds 2\^31/);
  assert.throws(() => new IngestParquetWriter({ particles: 0 }), /particles must be a positive integer/);
});

test('row groups are encoded while rows are still being added', async () => {
  const particles = 801;
  const writer = new IngestParquetWriter({ particles, rowGroupSize: 20 });
  const row = makeRows(1, particles)[0] as IngestRow;
  for (let i = 0; i < 100; i++) {
    writer.add({ ...row, entry: i });
    if (i % 20 === 19) await new Promise((resolve) => setImmediate(resolve));
  }
  // Four full groups were encoded as the event loop turned; the fifth waits for more rows or finish().
  assert.ok(writer.encodedBytes > 0, 'encoded before finish()');
  const chunks = writer.finish()[Symbol.asyncIterator]();
  const head = await chunks.next();
  assert.equal(Buffer.from((head.value as Uint8Array).subarray(0, 4)).toString(), 'PAR1');
  const rest: Uint8Array[] = [head.value as Uint8Array];
  for (let next = await chunks.next(); !next.done; next = await chunks.next()) rest.push(next.value);
  const got = await readIngestParquet(Buffer.concat(rest), { columns: ['entry'] });
  assert.deepEqual(got.entry, Float64Array.from({ length: 100 }, (_, i) => i));
});
