/**
 * One branch's data path: values are appended big-endian into the current
 * basket buffer; when the basket reaches the target size it is turned into a
 * TBasket record (key header + possibly compressed payload) and only those
 * bytes are kept.
 *
 * TBasket on disk (TBasket::Streamer / WriteBuffer):
 *   TKey header, version 1004 (64-bit seeks), fCycle = basket index,
 *   class "TBasket", name = branch name, title = tree name, then
 *   int16 version 3, int32 fBufferSize, int32 fNevBufSize, int32 fNevBuf,
 *   int32 fLast, int8 flag 0  -- all part of fKeylen.
 *   Payload (fObjlen bytes, compressed as a whole):
 *     the entries' data, back to back;
 *     for variable-length branches, the entry-offset table: int32 n+1, then
 *     n int32 offsets of each entry's first byte counted from the start of
 *     the key (fKeylen + position in the data), then a 0 (ROOT writes
 *     fNevBuf+1 slots, the last one unused).
 *   fLast = fKeylen + data bytes (where the offset table starts).
 *   fNevBufSize = entry size for fixed-size branches; for variable-length
 *   ones the capacity of ROOT's offset array (starts at the branch's
 *   fEntryOffsetLen, 1000, doubled while too small).
 */
import { ByteWriter } from './buffer.js';
import type { Compression } from './compression.js';
import { keyLength, writeKey, type KeySpec } from './key.js';
import type { LeafType, LeafTypeInfo } from './types.js';

export type BranchKind = 'scalar' | 'counter' | 'jagged';

/** A closed basket handed to a sink, which compresses it and places it in the file. */
export interface BasketJob {
  branch: BranchBuffer;
  /** Basket number in the branch (the key's fCycle). */
  index: number;
  /** The uncompressed object (data + offset table); only valid during `submit` (the branch reuses it). */
  payload: Uint8Array;
  /** payload.length (fObjlen). */
  objlen: number;
  /** TBasket header fields. */
  nevBuf: number;
  nevBufSize: number;
  fLast: number;
  bufferSize: number;
}

/** Receives closed baskets; calls `branch.placed(index, seek, nbytes)` once each is in the file. */
export interface BasketSink {
  submit(job: BasketJob): void;
}

export interface BasketContext {
  treeName: string;
  compression: Compression;
  datime: number;
  /** fSeekPdir of basket keys: the directory's key position. */
  directorySeek: number;
  basketSize: number;
}

/** TBasket's part of fKeylen: version, fBufferSize, fNevBufSize, fNevBuf, fLast, flag. */
const TBASKET_HEADER = 2 + 4 + 4 + 4 + 4 + 1;
/** TTree::fDefaultEntryOffsetLen: initial offset-table capacity of variable-length branches. */
export const DEFAULT_ENTRY_OFFSET_LEN = 1000;

type ArrayWriter = (w: ByteWriter, v: ArrayLike<number>, n: number) => void;
type ValueWriter = (w: ByteWriter, v: number) => void;

const TWO32 = 4294967296;

function setI64(dv: DataView, p: number, x: number): void {
  const t = Math.trunc(x);
  const hi = Math.floor(t / TWO32);
  dv.setInt32(p, hi);
  dv.setUint32(p + 4, t - hi * TWO32);
}

function setU64(dv: DataView, p: number, x: number): void {
  const t = Math.trunc(x);
  const hi = Math.floor(t / TWO32);
  dv.setUint32(p, hi);
  dv.setUint32(p + 4, t - hi * TWO32);
}

/** Per-type bulk writers: one capacity check, then a tight DataView loop. */
const ARRAY_WRITERS: Record<LeafType, ArrayWriter> = {
  Float_t(w, v, n) {
    w.ensure(n * 4);
    const dv = w.view;
    let p = w.pos;
    for (let i = 0; i < n; i++, p += 4) dv.setFloat32(p, v[i]!);
    w.pos = p;
  },
  Double_t(w, v, n) {
    w.ensure(n * 8);
    const dv = w.view;
    let p = w.pos;
    for (let i = 0; i < n; i++, p += 8) dv.setFloat64(p, v[i]!);
    w.pos = p;
  },
  Int_t(w, v, n) {
    w.ensure(n * 4);
    const dv = w.view;
    let p = w.pos;
    for (let i = 0; i < n; i++, p += 4) dv.setInt32(p, v[i]!);
    w.pos = p;
  },
  UInt_t(w, v, n) {
    w.ensure(n * 4);
    const dv = w.view;
    let p = w.pos;
    for (let i = 0; i < n; i++, p += 4) dv.setUint32(p, v[i]!);
    w.pos = p;
  },
  Long64_t(w, v, n) {
    w.ensure(n * 8);
    const dv = w.view;
    let p = w.pos;
    for (let i = 0; i < n; i++, p += 8) setI64(dv, p, v[i]!);
    w.pos = p;
  },
  ULong64_t(w, v, n) {
    w.ensure(n * 8);
    const dv = w.view;
    let p = w.pos;
    for (let i = 0; i < n; i++, p += 8) setU64(dv, p, v[i]!);
    w.pos = p;
  },
  Short_t(w, v, n) {
    w.ensure(n * 2);
    const dv = w.view;
    let p = w.pos;
    for (let i = 0; i < n; i++, p += 2) dv.setInt16(p, v[i]!);
    w.pos = p;
  },
  UShort_t(w, v, n) {
    w.ensure(n * 2);
    const dv = w.view;
    let p = w.pos;
    for (let i = 0; i < n; i++, p += 2) dv.setUint16(p, v[i]!);
    w.pos = p;
  },
  Char_t(w, v, n) {
    w.ensure(n);
    const dv = w.view;
    let p = w.pos;
    for (let i = 0; i < n; i++, p++) dv.setInt8(p, v[i]!);
    w.pos = p;
  },
  UChar_t(w, v, n) {
    w.ensure(n);
    const dv = w.view;
    let p = w.pos;
    for (let i = 0; i < n; i++, p++) dv.setUint8(p, v[i]!);
    w.pos = p;
  },
  Bool_t(w, v, n) {
    w.ensure(n);
    const b = w.bytes;
    let p = w.pos;
    for (let i = 0; i < n; i++, p++) b[p] = v[i] ? 1 : 0;
    w.pos = p;
  },
};

const VALUE_WRITERS: Record<LeafType, ValueWriter> = {
  Float_t: (w, v) => void w.f32(v),
  Double_t: (w, v) => void w.f64(v),
  Int_t: (w, v) => void w.i32(v),
  UInt_t: (w, v) => void w.u32(v),
  Long64_t(w, v) {
    w.ensure(8);
    setI64(w.view, w.pos, v);
    w.pos += 8;
  },
  ULong64_t(w, v) {
    w.ensure(8);
    setU64(w.view, w.pos, v);
    w.pos += 8;
  },
  Short_t: (w, v) => void w.i16(v),
  UShort_t: (w, v) => void w.u16(v),
  Char_t(w, v) {
    w.ensure(1);
    w.view.setInt8(w.pos++, v);
  },
  UChar_t: (w, v) => void w.u8(v),
  Bool_t: (w, v) => void w.u8(v ? 1 : 0),
};

export interface BranchSpec {
  /** Branch and leaf name: "Electron_size", "Electron.PT", "weight". */
  name: string;
  kind: BranchKind;
  type: LeafTypeInfo;
  /** The counter branch of a jagged branch. */
  counter?: BranchBuffer;
}

export class BranchBuffer {
  readonly name: string;
  readonly kind: BranchKind;
  readonly type: LeafTypeInfo;
  readonly counter: BranchBuffer | undefined;
  /** Leaf title: "Electron.PT[Electron_size]" or the name. */
  readonly leafTitle: string;
  /** Branch title: the leaf list, "Electron.PT[Electron_size]/F". */
  readonly title: string;
  readonly keySpec: KeySpec;
  readonly keylen: number;

  /** Entries filled so far (== the tree's). */
  entries = 0;
  /** Largest value filled (counters: TLeaf fMaximum, used by readers to size buffers). */
  maximum = 0;
  /** TBranch::fEntryOffsetLen (0 for fixed-size branches). */
  entryOffsetLen: number;
  totBytes = 0;
  zipBytes = 0;
  readonly basketSeek: number[] = [];
  readonly basketBytes: number[] = [];
  readonly basketEntry: number[] = [];

  private readonly data: ByteWriter;
  private offsets: Int32Array;
  private nInBasket = 0;
  private readonly writeArray: ArrayWriter;
  private readonly writeValue: ValueWriter;

  constructor(
    spec: BranchSpec,
    private readonly ctx: BasketContext,
    private readonly sink: BasketSink,
  ) {
    this.name = spec.name;
    this.kind = spec.kind;
    this.type = spec.type;
    this.counter = spec.counter;
    if (spec.kind === 'jagged' && !spec.counter) throw new Error(`jagged branch ${spec.name} needs a counter`);
    this.leafTitle = spec.counter ? `${spec.name}[${spec.counter.name}]` : spec.name;
    this.title = `${this.leafTitle}/${spec.type.letter}`;
    this.keySpec = { className: 'TBasket', name: spec.name, title: ctx.treeName, big: true, extra: TBASKET_HEADER };
    this.keylen = keyLength(this.keySpec);
    this.entryOffsetLen = spec.kind === 'jagged' ? DEFAULT_ENTRY_OFFSET_LEN : 0;
    this.data = new ByteWriter(Math.max(1024, ctx.basketSize + (ctx.basketSize >> 2)));
    this.offsets = new Int32Array(spec.kind === 'jagged' ? 1024 : 0);
    this.writeArray = ARRAY_WRITERS[spec.type.type];
    this.writeValue = VALUE_WRITERS[spec.type.type];
  }

  /** Appends one entry of a fixed-size (scalar or counter) branch. */
  pushValue(v: number): void {
    this.writeValue(this.data, v);
    if (v > this.maximum) this.maximum = v;
    this.nInBasket++;
    this.entries++;
    if (this.data.pos >= this.ctx.basketSize) this.flush();
  }

  /** Appends one entry of a jagged branch (n values). */
  pushArray(values: ArrayLike<number>, n: number): void {
    const k = this.nInBasket;
    if (k >= this.offsets.length) {
      const grown = new Int32Array(this.offsets.length * 2);
      grown.set(this.offsets);
      this.offsets = grown;
    }
    this.offsets[k] = this.data.pos;
    if (n > 0) this.writeArray(this.data, values, n);
    this.nInBasket = k + 1;
    this.entries++;
    // data + the offset table (4 bytes per entry) against the target size, as ROOT does
    if (this.data.pos + 4 * (k + 2) >= this.ctx.basketSize) this.flush();
  }

  /** Baskets closed so far (placed or still being compressed). */
  get basketCount(): number {
    return this.basketEntry.length;
  }

  /** Called by the sink when basket `index` is in the file. */
  placed(index: number, seek: number, nbytes: number): void {
    this.basketSeek[index] = seek;
    this.basketBytes[index] = nbytes;
    this.zipBytes += nbytes;
  }

  /**
   * The basket's key record (TKey v1004 + TBasket header + stored payload)
   * at file offset `seek`.
   */
  record(job: BasketJob, stored: Uint8Array, seek: number): Uint8Array {
    const keylen = this.keylen;
    const nbytes = keylen + stored.length;
    if (nbytes > 0x7fffffff) throw new Error(`basket of branch ${this.name} exceeds 2 GB`);
    const head = new ByteWriter(keylen + 8);
    writeKey(head, this.keySpec, {
      nbytes,
      objlen: job.objlen,
      datime: this.ctx.datime,
      cycle: job.index & 0x7fff,
      seekKey: seek,
      seekPdir: this.ctx.directorySeek,
    });
    head.i16(3); // TBasket version
    head.i32(job.bufferSize); // fBufferSize
    head.i32(job.nevBufSize);
    head.i32(job.nevBuf);
    head.i32(job.fLast);
    head.u8(0); // flag: header only
    if (head.pos !== keylen) throw new Error('internal error: TBasket key length mismatch');
    const record = new Uint8Array(nbytes);
    record.set(head.view0(), 0);
    record.set(stored, keylen);
    return record;
  }

  /** Writes the current basket out (no-op when empty). */
  flush(): void {
    const n = this.nInBasket;
    if (n === 0) return;
    const keylen = this.keylen;
    const w = this.data;
    const dataLen = w.pos;
    let nevBufSize = this.type.size;
    if (this.kind === 'jagged') {
      w.ensure(4 * (n + 2));
      const dv = w.view;
      let p = w.pos;
      dv.setInt32(p, n + 1);
      p += 4;
      for (let i = 0; i < n; i++, p += 4) dv.setInt32(p, keylen + this.offsets[i]!);
      dv.setInt32(p, 0);
      w.pos = p + 4;
      // ROOT's TBasket::Update grows the offset array while fNevBuf+1 >= fNevBufSize,
      // and records the grown size on the branch for its first 10 baskets.
      nevBufSize = this.entryOffsetLen;
      while (nevBufSize <= n) nevBufSize = Math.max(10, 2 * nevBufSize);
      if (this.basketCount < 10) this.entryOffsetLen = nevBufSize;
    }
    const payload = w.view0();
    const objlen = payload.length;
    if (keylen + objlen > 0x7fffffff) throw new Error(`basket of branch ${this.name} exceeds 2 GB`);
    const index = this.basketEntry.length;
    this.basketEntry.push(this.entries - n);
    this.basketSeek.push(0);
    this.basketBytes.push(0);
    this.totBytes += keylen + objlen;
    this.sink.submit({
      branch: this,
      index,
      payload,
      objlen,
      nevBuf: n,
      nevBufSize,
      fLast: keylen + dataLen,
      bufferSize: Math.max(this.ctx.basketSize, keylen + objlen),
    });
    w.reset();
    this.nInBasket = 0;
  }
}
