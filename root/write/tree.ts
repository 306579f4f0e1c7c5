/**
 * TreeWriter: one TTree of flat scalars and counted per-event arrays (the
 * uproot/Delphes layout), written into an in-memory ROOT file.
 *
 * Branch layout, per collection C with members M1..Mk:
 *   C_size        leaf C_size/I        (Int_t counter, fIsRange, fMaximum = largest count)
 *   C.M1 .. C.Mk  leaf C.Mi[C_size]/T  (fLeafCount -> the C_size leaf)
 * and per scalar S: leaf S/T.
 */
import { BasketPlacer } from './baskets.js';
import { BranchBuffer, type BasketContext } from './branch.js';
import { compressionCode, normalizeCompression, type CompressionSetting } from './compression.js';
import { RootFileWriter, randomUuidBytes } from './file.js';
import { datime } from './key.js';
import { serializeTree } from './treeObject.js';
import { LEAF_TYPES, leafTypeInfo, type LeafType } from './types.js';

export interface MemberSpec {
  name: string;
  type: LeafType;
}
export interface CollectionSpec {
  name: string;
  members: MemberSpec[];
}
export interface ScalarSpec {
  name: string;
  type: LeafType;
}

export interface TreeWriterOptions {
  /** TTree name, e.g. 'Delphes'. */
  treeName: string;
  title?: string;
  collections: CollectionSpec[];
  scalars?: ScalarSpec[];
  /** Default zlib level 1 (ROOT's compression setting 101). */
  compression?: CompressionSetting;
  /** Target uncompressed bytes per basket (default 32000, like ROOT). */
  basketSize?: number;
  /** Name recorded in the file's directory keys (default `${treeName}.root`). */
  fileName?: string;
  /** Timestamp of keys and directory (default: now). */
  date?: Date;
  /** 16-byte file UUID (default: random); with `date`, makes the output reproducible. */
  uuid?: Uint8Array;
  /**
   * Worker threads that compress baskets (default 0: compress inline in
   * `fill`). With N > 0 filling continues while baskets compress on other
   * cores; the file is byte-identical either way.
   */
  compressionThreads?: number;
}

/**
 * One event: scalars by name (number); collections by name -> member name ->
 * values (all members of a collection have that event's length).
 */
export type EventData = Record<string, number | Record<string, ArrayLike<number>>>;

interface Collection {
  name: string;
  counter: BranchBuffer;
  memberNames: string[];
  members: BranchBuffer[];
}

interface Scalar {
  name: string;
  branch: BranchBuffer;
}

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkName(kind: string, name: unknown): string {
  if (typeof name !== 'string' || !NAME_RE.test(name)) {
    throw new Error(`${kind} name ${JSON.stringify(name)} must match ${String(NAME_RE)}`);
  }
  return name;
}

export class TreeWriter {
  private readonly file: RootFileWriter;
  private readonly placer: BasketPlacer;
  private readonly branches: BranchBuffer[] = [];
  private readonly collections: Collection[] = [];
  private readonly scalars: Scalar[] = [];
  private readonly sizes: Int32Array;
  private readonly treeName: string;
  private readonly title: string;
  private readonly compress: number;
  private readonly basketSize: number;
  private count = 0;
  private done = false;

  constructor(opts: TreeWriterOptions) {
    this.treeName = checkName('tree', opts.treeName);
    this.title = opts.title ?? '';
    const compression = normalizeCompression(opts.compression);
    this.compress = compressionCode(compression);
    const basketSize = opts.basketSize ?? 32000;
    if (!Number.isInteger(basketSize) || basketSize < 1 || basketSize > 0x3fffffff) {
      throw new Error(`basketSize must be a positive integer, got ${String(opts.basketSize)}`);
    }
    this.basketSize = basketSize;
    const threads = opts.compressionThreads ?? 0;
    if (!Number.isInteger(threads) || threads < 0 || threads > 64) {
      throw new Error(`compressionThreads must be an integer 0..64, got ${String(opts.compressionThreads)}`);
    }

    // validate the schema before any allocation
    const names = new Set<string>();
    const claim = (n: string): void => {
      if (names.has(n)) throw new Error(`duplicate branch name ${n}`);
      names.add(n);
    };
    const scalarSpecs = opts.scalars ?? [];
    for (const s of scalarSpecs) {
      claim(checkName('scalar', s.name));
      leafTypeInfo(s.type);
    }
    if (!Array.isArray(opts.collections)) throw new Error('collections must be an array');
    for (const c of opts.collections) {
      checkName('collection', c.name);
      claim(c.name);
      claim(`${c.name}_size`);
      if (!Array.isArray(c.members) || c.members.length === 0) throw new Error(`collection ${c.name} needs at least one member`);
      for (const m of c.members) {
        claim(`${c.name}.${checkName('member', m.name)}`);
        leafTypeInfo(m.type);
      }
    }

    const date = opts.date ?? new Date();
    const stamp = datime(date);
    const leafClasses = new Set<string>(['TLeafI']);
    for (const s of scalarSpecs) leafClasses.add(LEAF_TYPES[s.type].leafClass);
    for (const c of opts.collections) for (const m of c.members) leafClasses.add(LEAF_TYPES[m.type].leafClass);
    this.file = new RootFileWriter({
      fileName: opts.fileName ?? `${this.treeName}.root`,
      title: this.title,
      datime: stamp,
      uuid: opts.uuid ?? randomUuidBytes(),
      compression,
      classes: ['TTree', 'TBranch', 'TList', ...leafClasses],
    });
    const ctx: BasketContext = { treeName: this.treeName, compression, datime: stamp, directorySeek: 100, basketSize };
    this.placer = new BasketPlacer(this.file, compression, threads);

    for (const s of scalarSpecs) {
      const branch = new BranchBuffer({ name: s.name, kind: 'scalar', type: leafTypeInfo(s.type) }, ctx, this.placer);
      this.branches.push(branch);
      this.scalars.push({ name: s.name, branch });
    }
    for (const c of opts.collections) {
      const counter = new BranchBuffer({ name: `${c.name}_size`, kind: 'counter', type: LEAF_TYPES.Int_t }, ctx, this.placer);
      this.branches.push(counter);
      const members = c.members.map((m) => {
        const b = new BranchBuffer({ name: `${c.name}.${m.name}`, kind: 'jagged', type: leafTypeInfo(m.type), counter }, ctx, this.placer);
        this.branches.push(b);
        return b;
      });
      this.collections.push({ name: c.name, counter, memberNames: c.members.map((m) => m.name), members });
    }
    this.sizes = new Int32Array(this.collections.length);
  }

  /** Number of events filled. */
  get entries(): number {
    return this.count;
  }

  /** Appends one event; throws (writing nothing) on a missing member, a non-number scalar or mismatched lengths. */
  fill(event: EventData): void {
    if (this.done) throw new Error('TreeWriter.fill after finish()');
    if (event === null || typeof event !== 'object') throw new Error(`event ${this.count}: expected an object`);
    const colls = this.collections;
    const sizes = this.sizes;
    for (let ci = 0; ci < colls.length; ci++) {
      const c = colls[ci]!;
      const obj = event[c.name];
      if (obj === null || typeof obj !== 'object') {
        throw new Error(`event ${this.count}: collection ${c.name} is missing (expected an object of member arrays)`);
      }
      let n = -1;
      const memberNames = c.memberNames;
      for (let mi = 0; mi < memberNames.length; mi++) {
        const mname = memberNames[mi]!;
        const arr = obj[mname];
        if (arr === undefined || arr === null || typeof arr.length !== 'number') {
          throw new Error(`event ${this.count}: ${c.name}.${mname} is missing (expected an array of numbers)`);
        }
        if (n < 0) {
          n = arr.length;
        } else if (arr.length !== n) {
          throw new Error(
            `event ${this.count}: ${c.name} members have different lengths (${c.name}.${memberNames[0]!} has ${n}, ${c.name}.${mname} has ${arr.length})`,
          );
        }
      }
      if (n > 0x7fffffff) throw new Error(`event ${this.count}: ${c.name} has too many elements (${n})`);
      sizes[ci] = n;
    }
    const scalars = this.scalars;
    for (let si = 0; si < scalars.length; si++) {
      const s = scalars[si]!;
      const v = event[s.name];
      if (typeof v !== 'number') throw new Error(`event ${this.count}: scalar ${s.name} is missing or not a number`);
    }

    for (let si = 0; si < scalars.length; si++) {
      const s = scalars[si]!;
      s.branch.pushValue(event[s.name] as number);
    }
    for (let ci = 0; ci < colls.length; ci++) {
      const c = colls[ci]!;
      const n = sizes[ci]!;
      c.counter.pushValue(n);
      const obj = event[c.name] as Record<string, ArrayLike<number>>;
      const members = c.members;
      const memberNames = c.memberNames;
      for (let mi = 0; mi < members.length; mi++) members[mi]!.pushArray(obj[memberNames[mi]!]!, n);
    }
    this.count++;
  }

  /** The complete .root file. The writer cannot be used afterwards. */
  finish(): Uint8Array {
    if (this.done) throw new Error('TreeWriter.finish called twice');
    this.done = true;
    try {
      for (const b of this.branches) b.flush();
      this.placer.drain();
    } finally {
      this.placer.close();
    }
    this.file.writeObject(
      { className: 'TTree', name: this.treeName, title: this.title },
      (keylen) =>
        serializeTree(
          { name: this.treeName, title: this.title, entries: this.count, compress: this.compress, basketSize: this.basketSize },
          this.branches,
          keylen,
        ),
      true,
    );
    return this.file.finish();
  }
}
