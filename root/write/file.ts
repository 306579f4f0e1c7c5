/**
 * The ROOT file container: places records one after the other and, at the
 * end, writes the file header, the top directory, the keys list and the
 * free-segments record.
 *
 * Layout produced (all positions 32-bit; the file must stay below
 * kStartBigFile = 2,000,000,000 bytes):
 *
 *   0     file header ("root", version, fBEGIN=100, fEND, fSeekFree,
 *         fNbytesFree, nfree, fNbytesName, fUnits=4, fCompress, fSeekInfo,
 *         fNbytesInfo, UUID), zero-padded to 100 bytes
 *   100   TFile key + fName + fTitle + TDirectory (version 5, small seeks)
 *         fSeekDir=100, fSeekParent=0, fSeekKeys -> keys list
 *   ...   StreamerInfo key (TList "StreamerInfo", compressed)
 *   ...   TBasket keys (written while filling)
 *   ...   TTree key (compressed)
 *   ...   keys list: TFile key + int32 nkeys + copies of the top-level key headers
 *   ...   free segments: TFile key + TFree {version 1, fFirst=fEND, fLast=2e9}
 *   fEND
 */
import { randomUUID } from 'node:crypto';
import { ByteWriter, tstringSize } from './buffer.js';
import { compressionCode, rootCompress, type Compression } from './compression.js';
import { keyLength, writeKey, type KeySpec } from './key.js';
import { streamerInfoList } from './streamers.js';

/** Where ROOT switches to 64-bit seeks (TFile::kStartBigFile). */
export const kStartBigFile = 2000000000;
/** fBEGIN: the top directory's key position. */
export const BEGIN = 100;
/** ROOT version recorded in the header (6.24/06; the class versions written match it). */
export const ROOT_VERSION = 62406;
/** TDirectory header bytes (small seeks): version .. fSeekKeys, UUID, 3 reserved int32. */
const DIRECTORY_BYTES = 2 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 18 + 12;

export interface FileOptions {
  fileName: string;
  title: string;
  datime: number;
  /** 16 bytes. */
  uuid: Uint8Array;
  compression: Compression;
  /** Classes whose StreamerInfo is written (their bases and members are added). */
  classes: string[];
}

/** Random RFC 4122 UUID bytes. */
export function randomUuidBytes(): Uint8Array {
  const hex = randomUUID().replace(/-/g, '');
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

interface TopKey {
  header: Uint8Array;
}

export class RootFileWriter {
  /** File offset the next record gets. */
  position: number;
  private readonly chunks: Uint8Array[] = [];
  private readonly topKeys: TopKey[] = [];
  private readonly dirKey: KeySpec;
  private readonly seekInfo: number;
  private readonly nbytesInfo: number;
  private finished = false;

  constructor(private readonly opts: FileOptions) {
    if (opts.uuid.length !== 16) throw new Error('uuid must be 16 bytes');
    this.dirKey = { className: 'TFile', name: opts.fileName, title: opts.title, big: false };
    this.position = BEGIN + this.nbytesName + DIRECTORY_BYTES;
    this.seekInfo = this.position;
    this.nbytesInfo = this.writeObject({ className: 'TList', name: 'StreamerInfo', title: 'Doubly linked list' }, (keylen) =>
      streamerInfoList(opts.classes, keylen),
    ).nbytes;
  }

  /** fNbytesName: the directory key plus its name and title. */
  get nbytesName(): number {
    return keyLength(this.dirKey) + tstringSize(this.opts.fileName) + tstringSize(this.opts.title);
  }

  push(record: Uint8Array): void {
    if (this.finished) throw new Error('ROOT file already finished');
    if (this.position + record.length >= kStartBigFile) {
      throw new Error(
        `ROOT file would exceed ${kStartBigFile} bytes: this writer uses the small-file (32-bit) layout; split the output into several files`,
      );
    }
    this.chunks.push(record);
    this.position += record.length;
  }

  /**
   * Writes a keyed object at the current position: key + object compressed
   * with the file's setting. `build(keylen)` returns the uncompressed object
   * (it needs the key length for its internal object tags).
   */
  writeObject(spec: Omit<KeySpec, 'big'>, build: (keylen: number) => Uint8Array, topLevel = false): { seek: number; nbytes: number } {
    const key: KeySpec = { ...spec, big: false };
    const keylen = keyLength(key);
    const obj = build(keylen);
    const stored = rootCompress(obj, this.opts.compression);
    const seek = this.position;
    const w = new ByteWriter(keylen + stored.length);
    writeKey(w, key, {
      nbytes: keylen + stored.length,
      objlen: obj.length,
      datime: this.opts.datime,
      cycle: 1,
      seekKey: seek,
      seekPdir: BEGIN,
    });
    w.raw(stored);
    const record = w.view0();
    this.push(record);
    if (topLevel) this.topKeys.push({ header: record.slice(0, keylen) });
    return { seek, nbytes: record.length };
  }

  /** Writes the keys list and free segments, fills in header and directory; returns the file. */
  finish(): Uint8Array {
    const o = this.opts;
    // keys list
    const seekKeys = this.position;
    const keysObj = new ByteWriter(64);
    keysObj.i32(this.topKeys.length);
    for (const k of this.topKeys) keysObj.raw(k.header);
    const keysRecord = this.record(this.dirKey, seekKeys, keysObj.view0());
    this.push(keysRecord);
    // free segments: one TFree from the end of the file to kStartBigFile
    const seekFree = this.position;
    const freeKeylen = keyLength(this.dirKey);
    const end = seekFree + freeKeylen + 10;
    const freeObj = new ByteWriter(16);
    freeObj.i16(1).i32(end).i32(kStartBigFile);
    const freeRecord = this.record(this.dirKey, seekFree, freeObj.view0());
    this.push(freeRecord);
    if (this.position !== end) throw new Error('internal error: free-segments record size');
    this.finished = true;

    const out = new Uint8Array(end);
    // header
    const h = new ByteWriter(BEGIN);
    h.raw(new Uint8Array([0x72, 0x6f, 0x6f, 0x74])); // "root"
    h.i32(ROOT_VERSION);
    h.i32(BEGIN);
    h.i32(end); // fEND
    h.i32(seekFree);
    h.i32(freeRecord.length); // fNbytesFree
    h.i32(1); // nfree
    h.i32(this.nbytesName);
    h.u8(4); // fUnits: 4-byte seeks
    h.i32(compressionCode(o.compression));
    h.i32(this.seekInfo);
    h.i32(this.nbytesInfo);
    h.u16(1).raw(o.uuid);
    out.set(h.view0(), 0);
    // top directory
    const d = new ByteWriter(this.nbytesName + DIRECTORY_BYTES);
    writeKey(d, this.dirKey, {
      nbytes: this.nbytesName + DIRECTORY_BYTES,
      objlen: this.nbytesName + DIRECTORY_BYTES - keyLength(this.dirKey),
      datime: o.datime,
      cycle: 1,
      seekKey: BEGIN,
      seekPdir: 0,
    });
    d.tstring(o.fileName).tstring(o.title);
    d.i16(5); // TDirectory version (small seeks)
    d.u32(o.datime); // fDatimeC
    d.u32(o.datime); // fDatimeM
    d.i32(keysRecord.length); // fNbytesKeys
    d.i32(this.nbytesName);
    d.i32(BEGIN); // fSeekDir
    d.i32(0); // fSeekParent
    d.i32(seekKeys);
    d.u16(1).raw(o.uuid);
    d.zeros(12);
    if (d.pos !== this.nbytesName + DIRECTORY_BYTES) throw new Error('internal error: directory size');
    out.set(d.view0(), BEGIN);
    // records
    let at = BEGIN + d.pos;
    for (const c of this.chunks) {
      out.set(c, at);
      at += c.length;
    }
    this.chunks.length = 0;
    if (at !== end) throw new Error('internal error: file size');
    return out;
  }

  /** An uncompressed keyed record (keys list, free segments). */
  private record(spec: KeySpec, seek: number, obj: Uint8Array): Uint8Array {
    const keylen = keyLength(spec);
    const w = new ByteWriter(keylen + obj.length);
    writeKey(w, spec, { nbytes: keylen + obj.length, objlen: obj.length, datime: this.opts.datime, cycle: 1, seekKey: seek, seekPdir: BEGIN });
    w.raw(obj);
    return w.view0();
  }
}
