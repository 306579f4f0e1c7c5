/**
 * TKey headers (TKey::Streamer, class version 4) and TDatime.
 *
 *   fNbytes  int32   key + stored (possibly compressed) object bytes
 *   fVersion int16   4, or 1004 for 64-bit seeks
 *   fObjlen  int32   uncompressed object bytes
 *   fDatime  uint32  TDatime
 *   fKeylen  int16   bytes of this header
 *   fCycle   int16   cycle number
 *   fSeekKey  int32 | int64   position of this key
 *   fSeekPdir int32 | int64   position of the owning directory's key
 *   fClassName, fName, fTitle   TStrings
 */
import { ByteWriter, tstringSize } from './buffer.js';

export interface KeySpec {
  className: string;
  name: string;
  title: string;
  /** true: 64-bit fSeekKey/fSeekPdir (version 1004); TBaskets always use it. */
  big: boolean;
  /** Bytes of a subclass header the caller appends that count in fKeylen (TBasket's). */
  extra?: number;
}

/** Bytes of a key header. */
export function keyLength(k: KeySpec): number {
  return (k.big ? 34 : 26) + tstringSize(k.className) + tstringSize(k.name) + tstringSize(k.title) + (k.extra ?? 0);
}

export interface KeyValues {
  nbytes: number;
  objlen: number;
  datime: number;
  cycle: number;
  seekKey: number;
  seekPdir: number;
}

/** Appends a key header (without the `extra` part, which the caller writes next); returns fKeylen. */
export function writeKey(w: ByteWriter, k: KeySpec, v: KeyValues): number {
  const start = w.pos;
  const keylen = keyLength(k);
  if (!k.big && (v.seekKey > 0x7fffffff || v.seekPdir > 0x7fffffff)) {
    throw new Error(`seek ${v.seekKey} does not fit a small TKey`);
  }
  w.i32(v.nbytes);
  w.i16(k.big ? 1004 : 4);
  w.i32(v.objlen);
  w.u32(v.datime);
  w.i16(keylen);
  w.i16(v.cycle);
  if (k.big) {
    w.i64(v.seekKey);
    w.i64(v.seekPdir);
  } else {
    w.i32(v.seekKey);
    w.i32(v.seekPdir);
  }
  w.tstring(k.className);
  w.tstring(k.name);
  w.tstring(k.title);
  if (w.pos - start !== keylen - (k.extra ?? 0)) throw new Error('internal error: key length mismatch');
  return keylen;
}

/** TDatime packing: (year-1995)<<26 | month<<22 | day<<17 | hour<<12 | minute<<6 | second (local time). */
export function datime(d: Date): number {
  const year = Math.min(Math.max(d.getFullYear(), 1995), 1995 + 63);
  return (
    (((year - 1995) << 26) |
      ((d.getMonth() + 1) << 22) |
      (d.getDate() << 17) |
      (d.getHours() << 12) |
      (d.getMinutes() << 6) |
      d.getSeconds()) >>>
    0
  );
}
