/**
 * Stage-1 Parquet throughput: IngestParquetWriter and readIngestParquet on
 * synthetic rows shaped like stage 1's (14 hfeatures, 801 x 19 lfeatures with
 * the first 40-200 particle rows filled and zero padding after them).
 *
 *   node dist/bench/parquet.js [--rows 5000] [--particles 801] [--row-group 1000]
 *
 * Prints rows/s and MB/s (MB of row data: 8-byte hfeatures, 4-byte lfeatures)
 * for writing (add() to the last byte out), reading everything, and reading
 * only hfeatures + label; plus file size and WebAssembly memory.
 */
import { wasmMemory } from 'parquet-wasm';
import { collectBytes } from '../parquet/index.js';
import { HLF_FEATURES, PARTICLE_FEATURES } from '../hep/layout.js';
import { readIngestParquet, IngestParquetWriter, type IngestRow } from '../hep/ingest/index.js';

const arg = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  return at < 0 ? fallback : Number(process.argv[at + 1]);
};
const rows = arg('--rows', 5000);
const particles = arg('--particles', 801);
const rowGroupSize = arg('--row-group', 1000);

/** Distinct rows to cycle through: more than zstd's window, so repeats do not flatter compression. */
const POOL = 64;
let seed = 42;
const random = (): number => ((seed = (seed * 16807) % 2147483647) / 2147483647);

function makeRow(i: number): IngestRow {
  const lfeatures = new Float32Array(particles * PARTICLE_FEATURES);
  const filled = Math.min(particles, 40 + Math.floor(random() * 160));
  for (let p = 0; p < filled; p++) {
    for (let k = 0; k < 13; k++) lfeatures[p * PARTICLE_FEATURES + k] = (random() - 0.5) * 200;
    lfeatures[p * PARTICLE_FEATURES + 13 + Math.floor(random() * 5)] = 1; // one-hot particle type
    lfeatures[p * PARTICLE_FEATURES + 18] = random() < 0.5 ? -1 : 1;
  }
  const hfeatures = Float64Array.from({ length: HLF_FEATURES }, () => random() * 500);
  return { hfeatures, lfeatures, label: i % 3, sourceFile: `ttbar/ttbar_lepFilter_13TeV_${i % 4}.root`, entry: i };
}

const pool = Array.from({ length: POOL }, (_, i) => makeRow(i));
const rowBytes = HLF_FEATURES * 8 + particles * PARTICLE_FEATURES * 4;
const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
const rate = (label: string, seconds: number): void => {
  console.log(`${label}: ${seconds.toFixed(2)} s, ${(rows / seconds).toFixed(0)} rows/s, ${mb((rows * rowBytes) / seconds)} MB/s of row data`);
};

console.log(`stage-1 Parquet bench: ${rows} rows of ${HLF_FEATURES} + ${particles} x ${PARTICLE_FEATURES} values (${mb(rows * rowBytes)} MB), row groups of ${rowGroupSize}`);

let started = performance.now();
const writer = new IngestParquetWriter({ rowGroupSize, particles });
for (let i = 0; i < rows; i++) {
  writer.add({ ...(pool[i % POOL] as IngestRow), entry: i });
  // Let the background encoder run between groups, as a stage reading ROOT baskets does.
  if ((i + 1) % rowGroupSize === 0) await new Promise((resolve) => setImmediate(resolve));
}
const file = await collectBytes(writer.finish());
rate('write', (performance.now() - started) / 1000);
console.log(`file: ${mb(file.length)} MB (${((rows * rowBytes) / file.length).toFixed(1)}x smaller than the row data), ZSTD`);

started = performance.now();
const all = await readIngestParquet(file);
rate('read all columns', (performance.now() - started) / 1000);
if (all.rows !== rows) throw new Error(`read ${all.rows} rows, wrote ${rows}`);

started = performance.now();
await readIngestParquet(file, { columns: ['hfeatures', 'label'] });
const seconds = (performance.now() - started) / 1000;
console.log(`read hfeatures + label: ${seconds.toFixed(2)} s, ${(rows / seconds).toFixed(0)} rows/s`);

// parquet-wasm types it as WebAssembly.Memory, which Node's type definitions (no DOM lib) do not declare.
const wasmHeap = (wasmMemory() as unknown as { buffer: ArrayBuffer }).buffer.byteLength;
console.log(`WebAssembly memory: ${mb(wasmHeap)} MB; process RSS ${mb(process.memoryUsage().rss)} MB`);
