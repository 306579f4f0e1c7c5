/**
 * Throughput of the ROOT TTree writer (root/write) on Delphes-like events:
 * ~300 particles per event across Electron, MuonTight, EFlowTrack,
 * EFlowPhoton, EFlowNeutralHadron, Jet and MissingET (~8 KB of values).
 *
 *   node dist/bench/rootWriter.js [--events N] [--runs R]
 *
 * For zlib level 1 (ROOT's default, setting 101) compressed inline and on 1
 * or 2 worker threads, zlib level 1 with the Huffman-only strategy, zlib
 * level 6 and no compression: fill time, finish time, events/s and MB/s of uncompressed
 * values (fill + finish), output size. Medians of R runs.
 */
import { TreeWriter, type CollectionSpec, type EventData, type TreeWriterOptions } from '../root/write/index.js';
import { Rng } from '../common/rng.js';

const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const EVENTS = arg('--events', 20000);
const RUNS = arg('--runs', 3);

const F = 'Float_t' as const;
const kin = (...names: string[]) => names.map((name) => ({ name, type: F }));
const COLLECTIONS: CollectionSpec[] = [
  { name: 'Electron', members: [...kin('PT', 'Eta', 'Phi', 'T'), { name: 'Charge', type: 'Int_t' }] },
  { name: 'MuonTight', members: [...kin('PT', 'Eta', 'Phi', 'T'), { name: 'Charge', type: 'Int_t' }] },
  {
    name: 'EFlowTrack',
    members: [{ name: 'PID', type: 'Int_t' }, { name: 'Charge', type: 'Int_t' }, ...kin('PT', 'Eta', 'Phi', 'X', 'Y', 'Z')],
  },
  { name: 'EFlowPhoton', members: kin('ET', 'Eta', 'Phi', 'E') },
  { name: 'EFlowNeutralHadron', members: kin('ET', 'Eta', 'Phi', 'E') },
  { name: 'Jet', members: [...kin('PT', 'Eta', 'Phi', 'Mass'), { name: 'BTag', type: 'UInt_t' }] },
  { name: 'MissingET', members: kin('MET', 'Eta', 'Phi') },
];
const MEAN: Record<string, number> = { Electron: 1, MuonTight: 1, EFlowTrack: 150, EFlowPhoton: 90, EFlowNeutralHadron: 50, Jet: 8, MissingET: 1 };

/** A seeded uniform source (the generator's xoshiro128**). */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.uniform();
}

/** A pool of distinct events with physics-like value ranges (typed arrays, as a generator would produce). */
function makePool(size: number): { events: EventData[]; bytes: number[] } {
  const r = rng(42);
  const events: EventData[] = [];
  const bytes: number[] = [];
  for (let i = 0; i < size; i++) {
    const ev: EventData = {};
    let b = 0;
    for (const c of COLLECTIONS) {
      const mean = MEAN[c.name] ?? 1;
      const n = c.name === 'MissingET' ? 1 : Math.max(0, Math.round(mean * (0.5 + r())));
      const obj: Record<string, ArrayLike<number>> = {};
      for (const m of c.members) {
        if (m.type === 'Float_t') {
          const a = new Float32Array(n);
          for (let k = 0; k < n; k++) a[k] = m.name === 'Phi' ? (r() * 2 - 1) * Math.PI : m.name === 'Eta' ? (r() * 2 - 1) * 4 : -Math.log(r() + 1e-9) * 20;
          obj[m.name] = a;
        } else {
          const a = m.type === 'UInt_t' ? new Uint32Array(n) : new Int32Array(n);
          for (let k = 0; k < n; k++) a[k] = m.name === 'PID' ? (r() < 0.5 ? 211 : -211) : m.name === 'BTag' ? (r() < 0.2 ? 1 : 0) : r() < 0.5 ? 1 : -1;
          obj[m.name] = a;
        }
      }
      ev[c.name] = obj;
      b += 4 + n * 4 * c.members.length; // counter + values
    }
    events.push(ev);
    bytes.push(b);
  }
  return { events, bytes };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

function runOnce(pool: EventData[], compression: TreeWriterOptions['compression'], compressionThreads = 0): { fill: number; finish: number; size: number } {
  const w = new TreeWriter({ treeName: 'Delphes', collections: COLLECTIONS, compression, compressionThreads });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < EVENTS; i++) w.fill(pool[i % pool.length]!);
  const t1 = process.hrtime.bigint();
  const out = w.finish();
  const t2 = process.hrtime.bigint();
  return { fill: Number(t1 - t0) / 1e9, finish: Number(t2 - t1) / 1e9, size: out.length };
}

const { events: pool, bytes } = makePool(500);
let valueBytes = 0;
let particles = 0;
for (let i = 0; i < EVENTS; i++) valueBytes += bytes[i % pool.length]!;
for (const ev of pool) {
  for (const c of COLLECTIONS) particles += ((ev[c.name] as Record<string, ArrayLike<number>>)[c.members[0]!.name]?.length ?? 0) / pool.length;
}

console.log(`ROOT writer bench: ${EVENTS} events, ${particles.toFixed(0)} particles/event, ${(valueBytes / EVENTS / 1024).toFixed(1)} KiB of values/event, median of ${RUNS} runs`);
console.log('setting       fill s  finish s  events/s   MB/s (fill+finish)  fill-only MB/s  file MB  ratio');
const settings: [string, TreeWriterOptions['compression'], number][] = [
  ['zlib-1', { algorithm: 'zlib', level: 1 }, 0],
  ['zlib-1 1thr', { algorithm: 'zlib', level: 1 }, 1],
  ['zlib-1 2thr', { algorithm: 'zlib', level: 1 }, 2],
  ['zlib-1-huff', { algorithm: 'zlib', level: 1, strategy: 'huffman' }, 0],
  ['zlib-6', { algorithm: 'zlib', level: 6 }, 0],
  ['none', { algorithm: 'none' }, 0],
];
runOnce(pool, { algorithm: 'zlib', level: 1 }); // warm-up
for (const [label, compression, threads] of settings) {
  const rs = Array.from({ length: RUNS }, () => runOnce(pool, compression, threads));
  const fill = median(rs.map((r) => r.fill));
  const finish = median(rs.map((r) => r.finish));
  const total = median(rs.map((r) => r.fill + r.finish));
  const size = rs[0]!.size;
  console.log(
    [
      label.padEnd(12),
      fill.toFixed(3).padStart(7),
      finish.toFixed(3).padStart(9),
      Math.round(EVENTS / total).toString().padStart(9),
      (valueBytes / total / 1e6).toFixed(1).padStart(20),
      (valueBytes / fill / 1e6).toFixed(1).padStart(15),
      (size / 1e6).toFixed(1).padStart(8),
      (valueBytes / size).toFixed(2).padStart(6),
    ].join(' '),
  );
}
