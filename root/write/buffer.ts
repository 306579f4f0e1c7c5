/**
 * A growable big-endian byte writer (ROOT serializes everything big-endian).
 *
 * `pos` is public so hot loops can cache it with `view`/`bytes` and write
 * straight into the DataView after a single `ensure` call.
 */

const textEncoder = new TextEncoder();

/** UTF-8 bytes of a string (ROOT strings are byte strings; names here are ASCII). */
export function utf8(s: string): Uint8Array {
  return textEncoder.encode(s);
}

/** Bytes a ROOT TString takes: 1-byte length (or 255 + 4-byte length) plus the characters. */
export function tstringSize(s: string): number {
  const n = utf8(s).length;
  return (n < 255 ? 1 : 5) + n;
}

export class ByteWriter {
  bytes: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(initialCapacity = 1024) {
    this.bytes = new Uint8Array(Math.max(16, initialCapacity));
    this.view = new DataView(this.bytes.buffer);
  }

  /** Makes room for `n` more bytes after `pos` (amortized doubling). */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.bytes.length) return;
    let cap = this.bytes.length * 2;
    while (cap < need) cap *= 2;
    const grown = new Uint8Array(cap);
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  get length(): number {
    return this.pos;
  }

  /** Forgets the content, keeping the allocation. */
  reset(): void {
    this.pos = 0;
  }

  /** A copy of the written bytes. */
  toBytes(): Uint8Array {
    return this.bytes.slice(0, this.pos);
  }

  /** A view (no copy) of the written bytes; invalid after the next write. */
  view0(): Uint8Array {
    return this.bytes.subarray(0, this.pos);
  }

  u8(v: number): this {
    this.ensure(1);
    this.bytes[this.pos++] = v & 0xff;
    return this;
  }

  i16(v: number): this {
    this.ensure(2);
    this.view.setInt16(this.pos, v);
    this.pos += 2;
    return this;
  }

  u16(v: number): this {
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
    return this;
  }

  i32(v: number): this {
    this.ensure(4);
    this.view.setInt32(this.pos, v);
    this.pos += 4;
    return this;
  }

  u32(v: number): this {
    this.ensure(4);
    this.view.setUint32(this.pos, v >>> 0);
    this.pos += 4;
    return this;
  }

  /** 64-bit signed integer from a JS number (exact up to 2^53). */
  i64(v: number | bigint): this {
    this.ensure(8);
    this.view.setBigInt64(this.pos, typeof v === 'bigint' ? v : BigInt(Math.trunc(v)));
    this.pos += 8;
    return this;
  }

  f32(v: number): this {
    this.ensure(4);
    this.view.setFloat32(this.pos, v);
    this.pos += 4;
    return this;
  }

  f64(v: number): this {
    this.ensure(8);
    this.view.setFloat64(this.pos, v);
    this.pos += 8;
    return this;
  }

  raw(data: Uint8Array): this {
    this.ensure(data.length);
    this.bytes.set(data, this.pos);
    this.pos += data.length;
    return this;
  }

  zeros(n: number): this {
    this.ensure(n);
    this.bytes.fill(0, this.pos, this.pos + n);
    this.pos += n;
    return this;
  }

  /** A ROOT TString: length byte (255 + int32 length when >= 255) then the bytes, no terminator. */
  tstring(s: string): this {
    const b = utf8(s);
    if (b.length < 255) {
      this.u8(b.length);
    } else {
      this.u8(255);
      this.i32(b.length);
    }
    return this.raw(b);
  }

  /** A NUL-terminated C string (class names after a new-class tag). */
  cstring(s: string): this {
    return this.raw(utf8(s)).u8(0);
  }

  /** Overwrites a big-endian uint32 at an earlier position. */
  patchU32(at: number, v: number): void {
    this.view.setUint32(at, v >>> 0);
  }

  patchI32(at: number, v: number): void {
    this.view.setInt32(at, v);
  }
}
