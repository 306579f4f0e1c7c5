/**
 * ROOT's compression framing (core/zip, RZip): the payload of a key is cut into
 * blocks of at most 0xffffff uncompressed bytes; each block is written as a
 * 9-byte header followed by the compressed block:
 *
 *   bytes 0-1  algorithm tag: "ZL" for zlib
 *   byte  2    method: 8 (Z_DEFLATED)
 *   bytes 3-5  compressed size of this block, 3-byte little-endian
 *   bytes 6-8  uncompressed size of this block, 3-byte little-endian
 *
 * For "ZL" the compressed bytes are a complete zlib stream (RFC 1950: 2-byte
 * header 0x78 0x01 at level 1, deflate data, Adler-32 trailer), as produced by
 * zlib's deflateInit/deflate; `zlib.deflateSync` makes exactly that.
 *
 * Like ROOT's TBasket::WriteBuffer / TKey, when compression does not make the
 * payload smaller, the payload is stored as is; readers tell the two cases
 * apart by comparing the key's fObjlen with fNbytes - fKeylen.
 */
import { constants as zconst, deflateSync, inflateSync } from 'node:zlib';

export type CompressionAlgorithm = 'zlib' | 'none';

/**
 * zlib's strategy (any of them yields a standard zlib stream that ROOT, uproot
 * and jsroot inflate): 'default' matches strings; 'huffman' (Z_HUFFMAN_ONLY)
 * only entropy-codes bytes, 2-3x faster and on floating-point physics data
 * nearly as small; 'rle' (Z_RLE) matches runs only.
 */
export type ZlibStrategy = 'default' | 'filtered' | 'huffman' | 'rle';

export interface CompressionSetting {
  algorithm: CompressionAlgorithm;
  /** 1..9 for zlib (ROOT's default for Delphes files is 1); ignored for none. */
  level?: number;
  /** zlib strategy (default 'default'). */
  strategy?: ZlibStrategy;
}

/** A validated setting. */
export interface Compression {
  algorithm: CompressionAlgorithm;
  level: number;
  strategy: ZlibStrategy;
}

const STRATEGIES: Record<ZlibStrategy, number> = {
  default: zconst.Z_DEFAULT_STRATEGY,
  filtered: zconst.Z_FILTERED,
  huffman: zconst.Z_HUFFMAN_ONLY,
  rle: zconst.Z_RLE,
};

/** Largest block ROOT compresses in one go (kMAXZIPBUF). */
export const MAX_ZIP_BLOCK = 0xffffff;
const HEADER = 9;

/** Normalized setting with an explicit level (0 for none). */
export function normalizeCompression(c?: CompressionSetting): Compression {
  const strategy = c?.strategy ?? 'default';
  if (!(strategy in STRATEGIES)) throw new Error(`unknown zlib strategy ${JSON.stringify(strategy)} (${Object.keys(STRATEGIES).join(', ')})`);
  if (!c || c.algorithm === 'zlib') {
    const level = c?.level ?? 1;
    if (!Number.isInteger(level) || level < 0 || level > 9) {
      throw new Error(`zlib compression level must be an integer 0..9, got ${String(c?.level)}`);
    }
    return level === 0 ? { algorithm: 'none', level: 0, strategy } : { algorithm: 'zlib', level, strategy };
  }
  if (c.algorithm === 'none') return { algorithm: 'none', level: 0, strategy };
  throw new Error(`unsupported compression algorithm ${JSON.stringify((c as { algorithm: unknown }).algorithm)} (zlib or none)`);
}

/** ROOT's fCompress integer: 100 * algorithm + level (zlib = 1), 0 for none. */
export function compressionCode(c: Pick<Compression, 'algorithm' | 'level'>): number {
  return c.algorithm === 'zlib' ? 100 + c.level : 0;
}

/**
 * Compresses `data` into ROOT's framed blocks. Returns `data` itself (same
 * object) when the result would not be smaller, or when compression is off.
 */
export function rootCompress(data: Uint8Array, c: Pick<Compression, 'algorithm' | 'level'> & { strategy?: ZlibStrategy }): Uint8Array {
  if (c.algorithm === 'none' || c.level === 0 || data.length === 0) return data;
  // memLevel 9 (zlib's maximum; the default is 8) only enlarges the compressor's
  // hash table: same stream format, measurably faster at level 1.
  const options = { level: c.level, memLevel: 9, strategy: STRATEGIES[c.strategy ?? 'default'] };
  const parts: Uint8Array[] = [];
  let total = 0;
  for (let start = 0; start < data.length; start += MAX_ZIP_BLOCK) {
    const block = data.subarray(start, Math.min(data.length, start + MAX_ZIP_BLOCK));
    const z = deflateSync(block, options);
    if (z.length > MAX_ZIP_BLOCK || z.length >= block.length) return data;
    const head = new Uint8Array(HEADER);
    head[0] = 0x5a; // 'Z'
    head[1] = 0x4c; // 'L'
    head[2] = 8; // Z_DEFLATED
    head[3] = z.length & 0xff;
    head[4] = (z.length >>> 8) & 0xff;
    head[5] = (z.length >>> 16) & 0xff;
    head[6] = block.length & 0xff;
    head[7] = (block.length >>> 8) & 0xff;
    head[8] = (block.length >>> 16) & 0xff;
    parts.push(head, z);
    total += HEADER + z.length;
  }
  if (total >= data.length) return data;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * Inverse of rootCompress for zlib blocks (used by tests and self-checks):
 * `stored.length === uncompressedSize` means the payload was stored as is.
 */
export function rootDecompress(stored: Uint8Array, uncompressedSize: number): Uint8Array {
  if (stored.length === uncompressedSize) return stored;
  const out = new Uint8Array(uncompressedSize);
  let at = 0;
  let pos = 0;
  while (pos < stored.length) {
    if (pos + HEADER > stored.length) throw new Error('truncated ROOT compression header');
    const tag = String.fromCharCode(stored[pos] ?? 0, stored[pos + 1] ?? 0);
    if (tag !== 'ZL') throw new Error(`unsupported ROOT compression block ${JSON.stringify(tag)}`);
    const csize = (stored[pos + 3] ?? 0) | ((stored[pos + 4] ?? 0) << 8) | ((stored[pos + 5] ?? 0) << 16);
    const usize = (stored[pos + 6] ?? 0) | ((stored[pos + 7] ?? 0) << 8) | ((stored[pos + 8] ?? 0) << 16);
    const block = inflateSync(stored.subarray(pos + HEADER, pos + HEADER + csize));
    if (block.length !== usize) throw new Error(`ROOT block inflated to ${block.length} bytes, header says ${usize}`);
    out.set(block, at);
    at += usize;
    pos += HEADER + csize;
  }
  if (at !== uncompressedSize) throw new Error(`decompressed ${at} bytes, expected ${uncompressedSize}`);
  return out;
}
