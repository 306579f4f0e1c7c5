/**
 * ROOT object serialization on top of ByteWriter (TBufferFile conventions):
 * byte counts, class versions, class tags and object references.
 *
 * - A versioned section starts with a 4-byte byte count OR-ed with
 *   kByteCountMask (0x40000000) followed by a 2-byte class version; the count
 *   covers everything after the count word itself.
 * - An object written through a pointer (WriteObjectAny) starts with a byte
 *   count, then either kNewClassTag (0xffffffff) plus the NUL-terminated class
 *   name, or kClassMask | (tag of that class's first occurrence).
 * - Tags are buffer offsets + kMapOffset (2), where the buffer starts with the
 *   key header (so `origin` is the key length): an object's tag is the offset
 *   of its byte count word, a class's tag the offset of its kNewClassTag word.
 *   A later pointer to an object already written is just its tag.
 */
import { ByteWriter } from './buffer.js';

export const kByteCountMask = 0x40000000;
export const kNewClassTag = 0xffffffff;
export const kClassMask = 0x80000000;
export const kMapOffset = 2;

/** TObject::fBits as found in ROOT-written files: kNotDeleted | kIsOnHeap. */
export const kObjectBits = 0x03000000;
/** TObject bit kMustCleanup (set on TTrees). */
export const kMustCleanup = 0x00000008;
/** TCollection bit kIsOwner. */
export const kIsOwner = 0x00004000;

export class ObjectWriter extends ByteWriter {
  private readonly classTags = new Map<string, number>();

  /** @param origin bytes that precede this buffer in the key (the key length). */
  constructor(
    readonly origin: number,
    initialCapacity = 4096,
  ) {
    super(initialCapacity);
  }

  /** Starts a byte-counted, versioned section; returns the start to pass to `end`. */
  begin(version: number): number {
    const start = this.pos;
    this.u32(0);
    this.u16(version);
    return start;
  }

  /** Closes a section opened by `begin` (or `beginObject`), patching its byte count. */
  end(start: number): void {
    const count = this.pos - start - 4;
    if (count > 0x3ffffffe) throw new Error(`ROOT object too large for a byte count (${count} bytes)`);
    this.patchU32(start, (count | kByteCountMask) >>> 0);
  }

  /**
   * Starts an object written through a pointer: byte count + class tag. The
   * caller writes the object's own streamer output, then calls `end(start)`.
   * Returns { start, tag } where `tag` can be used for later references.
   */
  beginObject(className: string): { start: number; tag: number } {
    const start = this.pos;
    this.u32(0);
    const known = this.classTags.get(className);
    if (known !== undefined) {
      this.u32((known | kClassMask) >>> 0);
    } else {
      this.classTags.set(className, this.origin + this.pos + kMapOffset);
      this.u32(kNewClassTag);
      this.cstring(className);
    }
    return { start, tag: this.origin + start + kMapOffset };
  }

  /** A pointer to an object already written in this buffer. */
  objectRef(tag: number): void {
    this.u32(tag);
  }

  /** A null pointer. */
  nullPointer(): void {
    this.u32(0);
  }

  /** TObject::Streamer: version 1 (no byte count), fUniqueID, fBits. */
  tobject(bits = kObjectBits): void {
    this.u16(1);
    this.u32(0);
    this.u32(bits);
  }

  /** TNamed::Streamer (version 1): TObject, fName, fTitle. */
  tnamed(name: string, title: string, bits = kObjectBits): void {
    const s = this.begin(1);
    this.tobject(bits);
    this.tstring(name);
    this.tstring(title);
    this.end(s);
  }

  /**
   * TObjArray::Streamer (version 3): TObject, fName, number of slots,
   * fLowerBound, then each slot written by `writeItem` (usually an object
   * pointer: a full object or a reference).
   */
  tobjarray(count: number, writeItem: (i: number) => void, bits = kObjectBits): void {
    const s = this.begin(3);
    this.tobject(bits);
    this.tstring('');
    this.i32(count);
    this.i32(0);
    for (let i = 0; i < count; i++) writeItem(i);
    this.end(s);
  }
}
