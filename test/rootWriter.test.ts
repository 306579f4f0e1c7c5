/**
 * The ROOT TTree writer (root/write): files are written here, then read back
 * with uproot 5 (test/reference/dump_tree.py in the project venv) and with
 * jsroot, and their on-disk structure is checked directly.
 */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inflateSync } from 'node:zlib';
import { projectRoot } from '../infra/tools.js';
import { python } from './support/python.js';
import {
  CLASSES,
  LEAF_TYPES,
  TreeWriter,
  classChecksum,
  rootCompress,
  rootDecompress,
  type CollectionSpec,
  type EventData,
  type LeafType,
  type ScalarSpec,
  type TreeWriterOptions,
} from '../root/write/index.js';
import { RootFileWriter, kStartBigFile } from '../root/write/file.js';
import { Rng } from '../common/rng.js';

const run = promisify(execFile);
const DUMP = join(projectRoot, 'test', 'reference', 'dump_tree.py');
const ALL_TYPES = Object.keys(LEAF_TYPES) as LeafType[];

// ---- deterministic test data -------------------------------------------------

/** A seeded uniform source (the generator's xoshiro128**). */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.uniform();
}

/** A value of `type` that the type represents exactly, except Float_t (rounded on write). */
function randomValue(type: LeafType, r: () => number): number {
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  switch (type) {
    case 'Int_t':
      return int(-2147483648, 2147483647);
    case 'UInt_t':
      return int(0, 4294967295);
    case 'Float_t':
      return (r() - 0.5) * 2000;
    case 'Double_t':
      return (r() - 0.5) * 1e6;
    case 'Long64_t':
      return int(-(2 ** 53 - 1), 2 ** 53 - 1);
    case 'ULong64_t':
      return int(0, 2 ** 53 - 1);
    case 'Short_t':
      return int(-32768, 32767);
    case 'UShort_t':
      return int(0, 65535);
    case 'Char_t':
      return int(-128, 127);
    case 'UChar_t':
      return int(0, 255);
    case 'Bool_t':
      return int(0, 1);
  }
}

/** What a reader should return for a written value. */
function stored(type: LeafType, v: number): number {
  return type === 'Float_t' ? Math.fround(v) : v;
}

/** Branch name -> expected per-entry values (number, or number[] for jagged branches). */
type Expected = Map<string, (number | number[])[]>;

interface Case {
  name: string;
  opts: TreeWriterOptions;
  events: EventData[];
  /** Also read with jsroot (bulky cases are checked with uproot only). */
  jsroot: boolean;
}

/** Branch names in file order, with their leaf type and counter. */
function branchList(opts: TreeWriterOptions): { name: string; type: LeafType; counter?: string; kind: 'scalar' | 'counter' | 'jagged' }[] {
  const out: { name: string; type: LeafType; counter?: string; kind: 'scalar' | 'counter' | 'jagged' }[] = [];
  for (const s of opts.scalars ?? []) out.push({ name: s.name, type: s.type, kind: 'scalar' });
  for (const c of opts.collections) {
    out.push({ name: `${c.name}_size`, type: 'Int_t', kind: 'counter' });
    for (const m of c.members) out.push({ name: `${c.name}.${m.name}`, type: m.type, counter: `${c.name}_size`, kind: 'jagged' });
  }
  return out;
}

function expectedValues(c: Case): Expected {
  const exp: Expected = new Map();
  for (const b of branchList(c.opts)) exp.set(b.name, []);
  for (const ev of c.events) {
    for (const s of c.opts.scalars ?? []) exp.get(s.name)!.push(stored(s.type, ev[s.name] as number));
    for (const col of c.opts.collections) {
      const obj = ev[col.name] as Record<string, ArrayLike<number>>;
      const n = obj[col.members[0]!.name]!.length;
      exp.get(`${col.name}_size`)!.push(n);
      for (const m of col.members) exp.get(`${col.name}.${m.name}`)!.push(Array.from(obj[m.name]!, (v) => stored(m.type, v)));
    }
  }
  return exp;
}

function makeEvents(
  scalars: ScalarSpec[],
  collections: CollectionSpec[],
  count: number,
  seed: number,
  size: (col: string, i: number, r: () => number) => number,
): EventData[] {
  const r = rng(seed);
  const events: EventData[] = [];
  for (let i = 0; i < count; i++) {
    const ev: EventData = {};
    for (const s of scalars) ev[s.name] = randomValue(s.type, r);
    for (const c of collections) {
      const n = size(c.name, i, r);
      const obj: Record<string, number[]> = {};
      for (const m of c.members) obj[m.name] = Array.from({ length: n }, () => randomValue(m.type, r));
      ev[c.name] = obj;
    }
    events.push(ev);
  }
  return events;
}

const DELPHES: CollectionSpec[] = [
  {
    name: 'Electron',
    members: [
      { name: 'PT', type: 'Float_t' },
      { name: 'Eta', type: 'Float_t' },
      { name: 'Phi', type: 'Float_t' },
      { name: 'T', type: 'Float_t' },
      { name: 'Charge', type: 'Int_t' },
    ],
  },
  {
    name: 'MuonTight',
    members: [
      { name: 'PT', type: 'Float_t' },
      { name: 'Eta', type: 'Float_t' },
      { name: 'Phi', type: 'Float_t' },
      { name: 'T', type: 'Float_t' },
      { name: 'Charge', type: 'Int_t' },
    ],
  },
  {
    name: 'EFlowTrack',
    members: [
      { name: 'PID', type: 'Int_t' },
      { name: 'Charge', type: 'Int_t' },
      { name: 'PT', type: 'Float_t' },
      { name: 'Eta', type: 'Float_t' },
      { name: 'Phi', type: 'Float_t' },
      { name: 'X', type: 'Float_t' },
      { name: 'Y', type: 'Float_t' },
      { name: 'Z', type: 'Float_t' },
    ],
  },
  {
    name: 'EFlowPhoton',
    members: [
      { name: 'ET', type: 'Float_t' },
      { name: 'Eta', type: 'Float_t' },
      { name: 'Phi', type: 'Float_t' },
      { name: 'E', type: 'Float_t' },
    ],
  },
  {
    name: 'EFlowNeutralHadron',
    members: [
      { name: 'ET', type: 'Float_t' },
      { name: 'Eta', type: 'Float_t' },
      { name: 'Phi', type: 'Float_t' },
      { name: 'E', type: 'Float_t' },
    ],
  },
  {
    name: 'Jet',
    members: [
      { name: 'PT', type: 'Float_t' },
      { name: 'Eta', type: 'Float_t' },
      { name: 'Phi', type: 'Float_t' },
      { name: 'Mass', type: 'Float_t' },
      { name: 'BTag', type: 'UInt_t' },
    ],
  },
  {
    name: 'MissingET',
    members: [
      { name: 'MET', type: 'Float_t' },
      { name: 'Eta', type: 'Float_t' },
      { name: 'Phi', type: 'Float_t' },
    ],
  },
];

/** Typical multiplicities: ~300 particles per event in all. */
function delphesSize(col: string, _i: number, r: () => number): number {
  const around = (mean: number) => Math.max(0, Math.round(mean * (0.5 + r())));
  switch (col) {
    case 'Electron':
    case 'MuonTight':
      return Math.floor(r() * 3);
    case 'EFlowTrack':
      return around(150);
    case 'EFlowPhoton':
      return around(90);
    case 'EFlowNeutralHadron':
      return around(50);
    case 'Jet':
      return around(8);
    default:
      return 1;
  }
}

function allTypesCase(name: string, compression: TreeWriterOptions['compression']): Case {
  const scalars: ScalarSpec[] = ALL_TYPES.map((t) => ({ name: `s_${t}`, type: t }));
  const collections: CollectionSpec[] = [
    { name: 'All', members: ALL_TYPES.map((t) => ({ name: t, type: t })) },
    { name: 'Sparse', members: [{ name: 'x', type: 'Float_t' }] },
    // random bytes: deflate cannot shrink them, so those baskets are stored raw even with zlib
    { name: 'Noise', members: [{ name: 'b', type: 'UChar_t' }] },
  ];
  const events = makeEvents(scalars, collections, 400, 7, (col, i, r) => {
    if (col === 'Sparse') return i % 3 === 0 ? 1 + Math.floor(r() * 3) : 0;
    if (col === 'Noise') return 40 + Math.floor(r() * 20);
    return i % 5 === 0 ? 0 : Math.floor(r() * 7);
  });
  const opts: TreeWriterOptions = { treeName: 'Delphes', title: 'all leaf types', scalars, collections, basketSize: 256 };
  if (compression) opts.compression = compression;
  return { name, events, jsroot: true, opts };
}

function buildCases(): Case[] {
  const delphesEvents = makeEvents([{ name: 'Weight', type: 'Float_t' }], DELPHES, 300, 11, delphesSize);
  const bigBlockEvents: EventData[] = [];
  // 2.2M doubles in one 17.6 MB basket: more than one 0xffffff-byte compression block
  for (let i = 0; i < 2_200_000; i++) bigBlockEvents.push({ x: i * 0.25 });
  return [
    allTypesCase('alltypes-zlib', undefined),
    allTypesCase('alltypes-none', { algorithm: 'none' }),
    {
      name: 'delphes',
      jsroot: true,
      events: delphesEvents,
      opts: { treeName: 'Delphes', title: 'Analysis tree', scalars: [{ name: 'Weight', type: 'Float_t' }], collections: DELPHES },
    },
    { name: 'empty', jsroot: true, events: [], opts: { treeName: 'Delphes', collections: DELPHES, scalars: [{ name: 'Weight', type: 'Float_t' }] } },
    {
      name: 'bigblock',
      jsroot: false,
      events: bigBlockEvents,
      opts: { treeName: 'T', collections: [], scalars: [{ name: 'x', type: 'Double_t' }], basketSize: 20_000_000, compression: { algorithm: 'zlib', level: 6 } },
    },
  ];
}

// ---- independent on-disk parsing ---------------------------------------------

class Reader {
  pos: number;
  private readonly dv: DataView;
  constructor(
    readonly bytes: Uint8Array,
    pos = 0,
  ) {
    this.pos = pos;
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  u8(): number {
    return this.dv.getUint8(this.pos++);
  }
  i16(): number {
    const v = this.dv.getInt16(this.pos);
    this.pos += 2;
    return v;
  }
  i32(): number {
    const v = this.dv.getInt32(this.pos);
    this.pos += 4;
    return v;
  }
  u32(): number {
    const v = this.dv.getUint32(this.pos);
    this.pos += 4;
    return v;
  }
  i64(): number {
    const v = Number(this.dv.getBigInt64(this.pos));
    this.pos += 8;
    return v;
  }
  tstring(): string {
    let n = this.u8();
    if (n === 255) n = this.i32();
    const s = Buffer.from(this.bytes.subarray(this.pos, this.pos + n)).toString('latin1');
    this.pos += n;
    return s;
  }
}

interface Key {
  at: number;
  nbytes: number;
  version: number;
  objlen: number;
  keylen: number;
  cycle: number;
  seekKey: number;
  seekPdir: number;
  className: string;
  name: string;
  title: string;
}

function readKey(bytes: Uint8Array, at: number): Key {
  const r = new Reader(bytes, at);
  const nbytes = r.i32();
  const version = r.i16();
  const objlen = r.i32();
  r.u32();
  const keylen = r.i16();
  const cycle = r.i16();
  const big = version > 1000;
  const seekKey = big ? r.i64() : r.i32();
  const seekPdir = big ? r.i64() : r.i32();
  return { at, nbytes, version, objlen, keylen, cycle, seekKey, seekPdir, className: r.tstring(), name: r.tstring(), title: r.tstring() };
}

// ---- readers -------------------------------------------------------------------

interface DumpBasket {
  keyVersion: number;
  fCycle: number;
  fNbytes: number;
  fObjlen: number;
  fKeylen: number;
  fNevBuf: number;
  fNevBufSize: number;
  fLast: number;
  compressed: boolean;
  blocks: [string, number, number][];
  byteOffsets: number[] | null;
}
interface DumpBranch {
  name: string;
  title: string;
  typename: string;
  interpretation: string;
  dtype: string;
  jagged: boolean;
  numEntries: number;
  numBaskets: number;
  entryOffsets: number[];
  fEntryOffsetLen: number;
  fWriteBasket: number;
  fMaxBaskets: number;
  fCompress: number;
  fTotBytes: number;
  fZipBytes: number;
  fBasketSeek: number[];
  fBasketBytes: number[];
  leaf: {
    class: string;
    name: string;
    title: string;
    fLen: number;
    fLenType: number;
    fIsRange: boolean;
    fIsUnsigned: boolean;
    fMaximum: number;
    leafCount: string | null;
  };
  baskets: DumpBasket[];
  values: (number | boolean | (number | boolean)[])[];
}
interface DumpStreamer {
  version: number;
  checksum: number;
  elements: { class: string; name: string; type: number; size: number; typename: string; baseVersion?: number; countName?: string }[];
}
interface Dump {
  header: Record<string, number | string>;
  uuid: string;
  keys: { name: string; cycle: number; classname: string; fSeekKey: number; fSeekPdir: number; fNbytes: number; fObjlen: number }[];
  streamers: Record<string, DumpStreamer>;
  tree: { name: string; title: string; numEntries: number; fTotBytes: number; fZipBytes: number; classVersion: number; branches: DumpBranch[] };
}

async function runPython(args: string[]): Promise<string> {
  const { stdout } = await run(python(), [DUMP, ...args], { maxBuffer: 1 << 30, cwd: projectRoot });
  return stdout;
}

/** The minimal jsroot surface used here (jsroot ships no useful typings for it). */
interface JsrootTree {
  fEntries: number | bigint;
  fBranches: { arr: { fName: string }[] };
}
interface JsrootSelector {
  tgtobj: Record<string, unknown>;
  addBranch(name: string): void;
  Process: (entry: number) => void;
  Terminate: (ok: boolean) => void;
}
interface Jsroot {
  openFile(path: string): Promise<{ readObject(name: string): Promise<JsrootTree> }>;
  TSelector: new () => JsrootSelector;
  treeProcess(tree: JsrootTree, selector: JsrootSelector): Promise<unknown>;
}

async function loadJsroot(): Promise<Jsroot> {
  const specifier = 'jsroot';
  try {
    return (await import(specifier)) as Jsroot;
  } catch (err) {
    throw new Error(`jsroot is not installed (it is a dependency in package.json; run npm install): ${String(err)}`);
  }
}

/** Reads every branch with jsroot; counters are added first (jsroot refuses a counter already pulled in by its jagged branch). */
async function readWithJsroot(js: Jsroot, path: string, treeName: string, names: string[]): Promise<{ entries: number; branches: string[]; values: Map<string, unknown[]>; ok: boolean | undefined }> {
  const file = await js.openFile(path);
  const tree = await file.readObject(treeName);
  const branches = tree.fBranches.arr.map((b) => b.fName);
  const values = new Map<string, unknown[]>(names.map((n) => [n, []]));
  const entries = Number(tree.fEntries);
  if (entries === 0) return { entries, branches, values, ok: undefined };
  const ordered = [...names.filter((n) => n.endsWith('_size')), ...names.filter((n) => !n.endsWith('_size'))];
  const sel = new js.TSelector();
  for (const n of ordered) sel.addBranch(n);
  sel.Process = function (this: JsrootSelector) {
    for (const n of ordered) {
      const v = this.tgtobj[n];
      // jsroot reuses the arrays between entries: copy them
      values.get(n)!.push(v !== null && typeof v === 'object' ? Array.from(v as ArrayLike<unknown>) : v);
    }
  };
  let ok: boolean | undefined;
  sel.Terminate = (res: boolean) => {
    ok = res;
  };
  await js.treeProcess(tree, sel);
  return { entries, branches, values, ok };
}

/**
 * jsroot 7.11's int64 decoder (JSROOT.TBuffer.ntoi8) computes `~low` as a
 * signed 32-bit value, so a negative Long64_t whose low word is below 2^31
 * comes back 2^32 too high. Given what was written, this is what it returns.
 */
function jsrootLong64(v: number): number {
  if (v >= 0) return v;
  const hi = Math.floor(v / 4294967296);
  const lo = v - hi * 4294967296;
  const high = hi >>> 0;
  return -1 - (~high * 0x100000000 + ~lo);
}

const normalize = (v: unknown): unknown =>
  typeof v === 'boolean' ? Number(v) : typeof v === 'bigint' ? Number(v) : Array.isArray(v) ? v.map(normalize) : v;

// ---- the tests -------------------------------------------------------------------

describe('ROOT TTree writer', () => {
  let dir = '';
  const cases = buildCases();
  const paths = new Map<string, string>();
  const bytesOf = new Map<string, Uint8Array>();
  const expected = new Map<string, Expected>();
  let dumps: Record<string, Dump> = {};

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rootwriter-'));
    for (const c of cases) {
      const w = new TreeWriter(c.opts);
      for (const ev of c.events) w.fill(ev);
      assert.equal(w.entries, c.events.length);
      const bytes = w.finish();
      const path = join(dir, `${c.name}.root`);
      await writeFile(path, bytes);
      paths.set(c.name, path);
      bytesOf.set(c.name, bytes);
      expected.set(c.name, expectedValues(c));
    }
    // one uproot process per tree name
    const byTree = new Map<string, string[]>();
    for (const c of cases) byTree.set(c.opts.treeName, [...(byTree.get(c.opts.treeName) ?? []), paths.get(c.name)!]);
    for (const [tree, files] of byTree) Object.assign(dumps, JSON.parse(await runPython([tree, ...files])) as Record<string, Dump>);
  });

  after(async () => {
    dumps = {};
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const dumpOf = (name: string): Dump => {
    const d = dumps[paths.get(name)!];
    assert.ok(d, `no uproot dump for ${name}`);
    return d;
  };

  test('uproot reads identical values, branch names, leaf types and interpretations', () => {
    const dtypes: Record<LeafType, string> = {
      Int_t: '>i4',
      UInt_t: '>u4',
      Float_t: '>f4',
      Double_t: '>f8',
      Long64_t: '>i8',
      ULong64_t: '>u8',
      Short_t: '>i2',
      UShort_t: '>u2',
      Char_t: 'int8',
      UChar_t: 'uint8',
      Bool_t: 'bool',
    };
    for (const c of cases) {
      const d = dumpOf(c.name);
      const exp = expected.get(c.name)!;
      const list = branchList(c.opts);
      assert.equal(d.tree.name, c.opts.treeName);
      assert.equal(d.tree.title, c.opts.title ?? '');
      assert.equal(d.tree.numEntries, c.events.length, `${c.name}: fEntries`);
      assert.deepEqual(
        d.tree.branches.map((b) => b.name),
        list.map((b) => b.name),
        `${c.name}: branch names`,
      );
      for (const [i, spec] of list.entries()) {
        const b = d.tree.branches[i]!;
        const info = LEAF_TYPES[spec.type];
        const where = `${c.name}/${spec.name}`;
        assert.equal(b.numEntries, c.events.length, `${where}: entries`);
        assert.equal(b.leaf.class, info.leafClass, `${where}: leaf class`);
        assert.equal(b.leaf.name, spec.name, `${where}: leaf name`);
        assert.equal(b.leaf.fLenType, info.size, `${where}: fLenType`);
        assert.equal(b.leaf.fLen, 1, `${where}: fLen`);
        assert.equal(b.leaf.fIsUnsigned, info.unsigned, `${where}: fIsUnsigned`);
        assert.equal(b.dtype, dtypes[spec.type], `${where}: dtype`);
        if (spec.kind === 'jagged') {
          assert.equal(b.title, `${spec.name}[${spec.counter!}]/${info.letter}`, `${where}: title`);
          assert.equal(b.leaf.title, `${spec.name}[${spec.counter!}]`);
          assert.equal(b.leaf.leafCount, spec.counter, `${where}: fLeafCount`);
          assert.equal(b.jagged, true, `${where}: jagged interpretation`);
          assert.match(b.interpretation, /^AsJagged\(AsDtype\(/);
          assert.ok(b.typename.endsWith('[]'), `${where}: typename ${b.typename}`);
        } else {
          assert.equal(b.title, `${spec.name}/${info.letter}`, `${where}: title`);
          assert.equal(b.leaf.leafCount, null);
          assert.equal(b.jagged, false, `${where}: flat interpretation`);
        }
        if (spec.kind === 'counter') {
          assert.equal(b.interpretation, "AsDtype('>i4')");
          assert.equal(b.typename, 'int32_t');
          assert.equal(b.leaf.fIsRange, true, `${where}: fIsRange`);
          const counts = exp.get(spec.name)! as number[];
          assert.equal(b.leaf.fMaximum, counts.length ? Math.max(...counts) : 0, `${where}: fMaximum`);
        }
        assert.deepEqual(normalize(b.values), exp.get(spec.name), `${where}: values`);
      }
    }
  });

  test('baskets: several per branch, entry offsets, headers, byte counts', () => {
    for (const c of cases) {
      const d = dumpOf(c.name);
      const exp = expected.get(c.name)!;
      const list = branchList(c.opts);
      let tot = 0;
      let zip = 0;
      for (const [i, spec] of list.entries()) {
        const b = d.tree.branches[i]!;
        const where = `${c.name}/${spec.name}`;
        const size = LEAF_TYPES[spec.type].size;
        tot += b.fTotBytes;
        zip += b.fZipBytes;
        assert.equal(b.fWriteBasket, b.numBaskets);
        assert.equal(b.fMaxBaskets, Math.max(10, b.numBaskets + 1));
        assert.equal(b.fCompress, c.opts.compression?.algorithm === 'none' ? 0 : 100 + (c.opts.compression?.level ?? 1));
        assert.equal(b.fEntryOffsetLen > 0, spec.kind === 'jagged', `${where}: fEntryOffsetLen`);
        assert.equal(b.numBaskets === 0, c.events.length === 0, `${where}: baskets iff entries`);
        assert.equal(b.entryOffsets.at(-1), c.events.length);
        assert.equal(
          b.fBasketBytes.reduce((a, x) => a + x, 0),
          b.fZipBytes,
          `${where}: fZipBytes = sum of fBasketBytes`,
        );
        let sumTot = 0;
        for (const [k, bk] of b.baskets.entries()) {
          const first = b.entryOffsets[k]!;
          const n = b.entryOffsets[k + 1]! - first;
          assert.equal(bk.keyVersion, 1004, `${where}: TBasket key version`);
          assert.equal(bk.fCycle, k, `${where}: basket cycle = index`);
          assert.equal(bk.fNevBuf, n, `${where}: fNevBuf`);
          assert.equal(bk.fNbytes, b.fBasketBytes[k]);
          sumTot += bk.fKeylen + bk.fObjlen;
          if (spec.kind === 'jagged') {
            const counts = (exp.get(spec.counter!) as number[]).slice(first, first + n);
            const offs: number[] = [0];
            for (const x of counts) offs.push(offs.at(-1)! + x * size);
            assert.deepEqual(bk.byteOffsets, offs, `${where}: basket ${k} entry offsets`);
            assert.equal(bk.fLast, bk.fKeylen + offs.at(-1)!, `${where}: fLast`);
            assert.equal(bk.fObjlen, offs.at(-1)! + 4 + 4 * (n + 1), `${where}: data + offset table`);
            assert.ok(bk.fNevBufSize > n, `${where}: fNevBufSize ${bk.fNevBufSize} > fNevBuf ${n}`);
          } else {
            assert.equal(bk.byteOffsets, null);
            assert.equal(bk.fNevBufSize, size, `${where}: fNevBufSize = entry size`);
            assert.equal(bk.fObjlen, n * size);
            assert.equal(bk.fLast, bk.fKeylen + n * size);
          }
          if (c.opts.compression?.algorithm === 'none') assert.equal(bk.compressed, false, `${where}: stored`);
          for (const [alg, csize, usize] of bk.blocks) {
            assert.equal(alg, 'ZLIB');
            assert.ok(csize < usize && usize <= 0xffffff, `${where}: block sizes ${csize}/${usize}`);
          }
        }
        assert.equal(sumTot, b.fTotBytes, `${where}: fTotBytes`);
      }
      assert.equal(d.tree.fTotBytes, tot, `${c.name}: tree fTotBytes`);
      assert.equal(d.tree.fZipBytes, zip, `${c.name}: tree fZipBytes`);
    }
    const all = dumpOf('alltypes-zlib').tree.branches;
    const single = all.filter((b) => b.numBaskets < 2).map((b) => b.name);
    assert.deepEqual(single, [], 'every branch of alltypes has several baskets');
    assert.ok(all.some((b) => b.baskets.some((k) => k.compressed)));
    const noise = all.find((b) => b.name === 'Noise.b')!;
    assert.ok(noise.baskets.every((k) => !k.compressed), 'incompressible baskets are stored as is');
    const big = dumpOf('bigblock').tree.branches[0]!.baskets[0]!;
    assert.equal(big.blocks.length, 2, 'a 17.6 MB basket is compressed in two blocks');
    assert.equal(big.blocks[0]![2], 0xffffff);
    const delphes = dumpOf('delphes').tree.branches.find((b) => b.name === 'EFlowTrack.PT')!;
    assert.ok(delphes.numBaskets > 1);
  });

  test('file structure: header, keys, cycles, StreamerInfo, free segments', () => {
    for (const c of cases) {
      const d = dumpOf(c.name);
      const bytes = bytesOf.get(c.name)!;
      const h = d.header;
      assert.equal(h.magic, 'root');
      assert.equal(h.fBEGIN, 100);
      assert.equal(h.fEND, bytes.length);
      assert.equal(h.size, bytes.length);
      assert.equal(h.fUnits, 4);
      assert.equal(h.nfree, 1);
      assert.equal(h.fCompress, c.opts.compression?.algorithm === 'none' ? 0 : 100 + (c.opts.compression?.level ?? 1));
      assert.equal((h.fSeekFree as number) + (h.fNbytesFree as number), h.fEND, 'free segments record is last');

      // free segments: one TFree from fEND to kStartBigFile
      const free = readKey(bytes, h.fSeekFree as number);
      assert.equal(free.className, 'TFile');
      assert.equal(free.cycle, 1);
      assert.equal(free.nbytes, h.fNbytesFree);
      const fr = new Reader(bytes, free.at + free.keylen);
      assert.deepEqual([fr.i16(), fr.i32(), fr.i32()], [1, h.fEND, 2000000000]);

      // top directory at fBEGIN
      const top = readKey(bytes, 100);
      assert.equal(top.className, 'TFile');
      assert.equal(top.seekKey, 100);
      assert.equal(top.seekPdir, 0);
      const dr = new Reader(bytes, 100 + top.keylen);
      dr.tstring();
      dr.tstring();
      assert.equal(dr.pos - 100, h.fNbytesName);
      assert.equal(dr.i16(), 5);
      dr.u32();
      dr.u32();
      const nbytesKeys = dr.i32();
      assert.equal(dr.i32(), h.fNbytesName);
      assert.equal(dr.i32(), 100, 'fSeekDir');
      assert.equal(dr.i32(), 0, 'fSeekParent');
      const seekKeys = dr.i32();

      // keys list: the TTree key only, identical to the key in front of the tree
      const kl = readKey(bytes, seekKeys);
      assert.equal(kl.nbytes, nbytesKeys);
      assert.equal(kl.seekPdir, 100);
      const klr = new Reader(bytes, seekKeys + kl.keylen);
      assert.equal(klr.i32(), 1);
      const listed = readKey(bytes, klr.pos);
      const treeKey = readKey(bytes, listed.seekKey);
      assert.deepEqual(listed, { ...treeKey, at: listed.at });
      assert.deepEqual(
        d.keys.map((k) => [k.name, k.cycle, k.classname, k.fSeekKey, k.fSeekPdir]),
        [[c.opts.treeName, 1, 'TTree', treeKey.at, 100]],
      );

      // every record in order: directory, StreamerInfo, baskets, TTree, keys list, free segments
      const order: string[] = [];
      let basketCount = 0;
      for (let at = 100; at < bytes.length; ) {
        const k = readKey(bytes, at);
        assert.equal(k.seekKey, at, `${c.name}: fSeekKey of the record at ${at}`);
        assert.ok(k.nbytes > 0);
        if (k.className === 'TBasket') {
          basketCount++;
          if (order.at(-1) !== 'TBasket') order.push('TBasket');
          assert.equal(k.title, c.opts.treeName);
          assert.equal(k.seekPdir, 100);
        } else {
          order.push(`${k.className}:${k.name}`);
          assert.equal(k.cycle, 1);
        }
        at += k.nbytes;
      }
      const fileName = `${c.opts.treeName}.root`;
      assert.deepEqual(order, [
        `TFile:${fileName}`,
        'TList:StreamerInfo',
        ...(c.events.length ? ['TBasket'] : []),
        `TTree:${c.opts.treeName}`,
        `TFile:${fileName}`,
        `TFile:${fileName}`,
      ]);
      assert.equal(
        basketCount,
        d.tree.branches.reduce((a, b) => a + b.numBaskets, 0),
      );
      const info = readKey(bytes, h.fSeekInfo as number);
      assert.equal(info.nbytes, h.fNbytesInfo);
      assert.equal(info.title, 'Doubly linked list');

      // StreamerInfo parses in uproot and lists every class written
      const used = new Set(branchList(c.opts).map((b) => LEAF_TYPES[b.type].leafClass));
      for (const cls of ['TObject', 'TNamed', 'TAttLine', 'TAttFill', 'TAttMarker', 'TCollection', 'TSeqCollection', 'TObjArray', 'ROOT::TIOFeatures', 'TTree', 'TBranch', 'TLeaf', 'TLeafI', ...used]) {
        const s = d.streamers[cls];
        assert.ok(s, `${c.name}: StreamerInfo of ${cls}`);
        assert.equal(s.version, CLASSES[cls]!.version);
        assert.equal(s.checksum, classChecksum(cls));
      }
      assert.equal(d.tree.classVersion, 20);
    }
  });

  test('StreamerInfo matches the records ROOT itself wrote (bundled with uproot)', async () => {
    const root = JSON.parse(await runPython(['--root-streamers'])) as Record<string, DumpStreamer>;
    const ours = dumpOf('alltypes-zlib').streamers;
    const compared: string[] = [];
    for (const [name, mine] of Object.entries(ours)) {
      const ref = root[name];
      assert.ok(ref, `uproot ships no ROOT StreamerInfo for ${name}`);
      assert.deepEqual(mine, ref, `StreamerInfo of ${name}`);
      compared.push(name);
    }
    assert.ok(compared.length >= 17, `compared ${compared.join(', ')}`);
  });

  test('jsroot reads identical values', async () => {
    const js = await loadJsroot();
    for (const c of cases.filter((x) => x.jsroot)) {
      const list = branchList(c.opts);
      const names = list.map((b) => b.name);
      const got = await readWithJsroot(js, paths.get(c.name)!, c.opts.treeName, names);
      assert.equal(got.entries, c.events.length, `${c.name}: jsroot fEntries`);
      assert.deepEqual(got.branches, names, `${c.name}: jsroot branch names`);
      if (c.events.length === 0) continue; // jsroot refuses to process a tree without entries
      assert.equal(got.ok, true, `${c.name}: jsroot Terminate(true)`);
      const exp = expected.get(c.name)!;
      for (const b of list) {
        let want = exp.get(b.name)!;
        if (b.type === 'Long64_t') want = want.map((v) => (Array.isArray(v) ? v.map(jsrootLong64) : jsrootLong64(v)));
        assert.deepEqual(normalize(got.values.get(b.name)), want, `${c.name}/${b.name}: jsroot values`);
      }
    }
  });
});

describe('compression framing', () => {
  test('ZL header, method 8, little-endian sizes, zlib stream with header', () => {
    const data = new Uint8Array(100000).map((_, i) => i % 7);
    const z = rootCompress(data, { algorithm: 'zlib', level: 1 });
    assert.deepEqual([z[0], z[1], z[2]], [0x5a, 0x4c, 8]);
    const csize = z[3]! | (z[4]! << 8) | (z[5]! << 16);
    const usize = z[6]! | (z[7]! << 8) | (z[8]! << 16);
    assert.equal(usize, data.length);
    assert.equal(csize, z.length - 9);
    assert.deepEqual([z[9], z[10]], [0x78, 0x01], 'zlib header for level 1');
    assert.deepEqual(new Uint8Array(inflateSync(z.subarray(9))), data);
    assert.deepEqual(rootDecompress(z, data.length), data);
  });

  test('blocks of at most 0xffffff bytes; incompressible or tiny data stored as is', () => {
    const big = new Uint8Array(0xffffff + 1000);
    const z = rootCompress(big, { algorithm: 'zlib', level: 1 });
    const first = z[6]! | (z[7]! << 8) | (z[8]! << 16);
    assert.equal(first, 0xffffff);
    assert.deepEqual(rootDecompress(z, big.length), big);
    const noise = new Uint8Array(4096).map(() => Math.floor(Math.random() * 256));
    assert.equal(rootCompress(noise, { algorithm: 'zlib', level: 1 }), noise);
    assert.equal(rootCompress(new Uint8Array([1, 2, 3]), { algorithm: 'zlib', level: 9 }).length, 3);
    assert.equal(rootCompress(big, { algorithm: 'none', level: 0 }), big);
  });
});

describe('TreeWriter API', () => {
  const schema = (): TreeWriterOptions => ({
    treeName: 'Delphes',
    scalars: [{ name: 'w', type: 'Float_t' }],
    collections: [
      {
        name: 'Jet',
        members: [
          { name: 'PT', type: 'Float_t' },
          { name: 'BTag', type: 'UInt_t' },
        ],
      },
    ],
  });

  test('clear errors on missing members, mismatched lengths, bad scalars; nothing written for a rejected event', () => {
    const w = new TreeWriter(schema());
    w.fill({ w: 1, Jet: { PT: [1, 2], BTag: [0, 1] } });
    assert.throws(() => w.fill({ w: 1, Jet: { PT: [1, 2] } }), /Jet\.BTag is missing/);
    assert.throws(() => w.fill({ w: 1, Jet: { PT: [1, 2], BTag: [1] } }), /Jet members have different lengths.*Jet\.PT has 2, Jet\.BTag has 1/);
    assert.throws(() => w.fill({ w: 1 }), /collection Jet is missing/);
    assert.throws(() => w.fill({ Jet: { PT: [], BTag: [] } }), /scalar w is missing/);
    assert.equal(w.entries, 1);
    w.fill({ w: 2, Jet: { PT: new Float32Array([3]), BTag: new Uint32Array([1]) } });
    assert.equal(w.entries, 2);
    const bytes = w.finish();
    assert.equal(String.fromCharCode(...bytes.subarray(0, 4)), 'root');
    assert.throws(() => w.fill({ w: 1, Jet: { PT: [], BTag: [] } }), /after finish/);
    assert.throws(() => w.finish(), /twice/);
  });

  test('schema validation', () => {
    assert.throws(() => new TreeWriter({ ...schema(), scalars: [{ name: 'Jet_size', type: 'Int_t' }] }), /duplicate branch name Jet_size/);
    assert.throws(() => new TreeWriter({ ...schema(), collections: [{ name: 'Jet', members: [] }] }), /at least one member/);
    assert.throws(() => new TreeWriter({ ...schema(), scalars: [{ name: 'x', type: 'Float16_t' as LeafType }] }), /unsupported leaf type "Float16_t"/);
    assert.throws(() => new TreeWriter({ ...schema(), treeName: 'a/b' }), /tree name/);
    assert.throws(() => new TreeWriter({ ...schema(), basketSize: 0 }), /basketSize/);
    assert.throws(() => new TreeWriter({ ...schema(), compression: { algorithm: 'zlib', level: 12 } }), /level/);
  });

  test('the 2 GB small-file limit is enforced with a clear error', () => {
    const f = new RootFileWriter({
      fileName: 'x.root',
      title: '',
      datime: 0,
      uuid: new Uint8Array(16),
      compression: { algorithm: 'none', level: 0, strategy: 'default' },
      classes: ['TTree'],
    });
    f.position = kStartBigFile - 50;
    assert.throws(() => f.push(new Uint8Array(100)), /would exceed 2000000000 bytes.*split the output/);
  });

  test('compression on worker threads gives byte-identical files', () => {
    const events = makeEvents([{ name: 'Weight', type: 'Float_t' }], DELPHES, 200, 5, delphesSize);
    const make = (compressionThreads: number, compression: TreeWriterOptions['compression']) => {
      const w = new TreeWriter({
        treeName: 'Delphes',
        collections: DELPHES,
        scalars: [{ name: 'Weight', type: 'Float_t' }],
        basketSize: 4000,
        compression,
        compressionThreads,
        date: new Date(2024, 5, 6),
        uuid: new Uint8Array(16).fill(3),
      });
      for (const ev of events) w.fill(ev);
      return w.finish();
    };
    for (const c of [{ algorithm: 'zlib', level: 1 }, { algorithm: 'zlib', level: 1, strategy: 'huffman' }, { algorithm: 'none' }] as const) {
      const inline = make(0, c);
      assert.ok(Buffer.from(inline).equals(Buffer.from(make(2, c))), `threads=2 differs for ${JSON.stringify(c)}`);
      assert.ok(Buffer.from(inline).equals(Buffer.from(make(1, c))), `threads=1 differs for ${JSON.stringify(c)}`);
    }
  });

  test('reproducible output with a fixed date and uuid', () => {
    const make = () => {
      const w = new TreeWriter({ ...schema(), date: new Date(2024, 0, 2, 3, 4, 5), uuid: new Uint8Array(16).fill(7) });
      for (let i = 0; i < 100; i++) w.fill({ w: i, Jet: { PT: [i, i + 1], BTag: [1, 0] } });
      return w.finish();
    };
    assert.deepEqual(make(), make());
  });
});
