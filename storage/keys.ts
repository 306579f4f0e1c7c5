/**
 * Storage keys: relative, '/'-separated paths below a storage root. The same
 * rules hold for every backend, so a key that works locally works on S3.
 */
import { UnsafeKeyError } from './storage.js';

/** S3's limit, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/**
 * Marks a local in-progress write (`<name>.partial-<pid>-<random>`); keys may
 * not contain it, so a temp file can never be mistaken for an object.
 */
export const PARTIAL_MARKER = '.partial-';

const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/** Throws UnsafeKeyError unless `key` is a safe object key. */
export function assertSafeKey(key: string): void {
  if (typeof key !== 'string') throw new UnsafeKeyError(String(key), 'not a string');
  if (key === '') throw new UnsafeKeyError(key, 'empty');
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new UnsafeKeyError(key.slice(0, 64) + '...', `longer than ${MAX_KEY_BYTES} bytes`);
  }
  if (CONTROL_CHARS.test(key)) throw new UnsafeKeyError(key, 'contains a control character');
  if (key.includes('\\')) throw new UnsafeKeyError(key, 'contains a backslash');
  if (key.startsWith('/')) throw new UnsafeKeyError(key, 'absolute (starts with "/")');
  for (const segment of key.split('/')) {
    if (segment === '') throw new UnsafeKeyError(key, 'empty path segment');
    if (segment === '.' || segment === '..') throw new UnsafeKeyError(key, `"${segment}" segment`);
    if (segment.includes(PARTIAL_MARKER)) {
      throw new UnsafeKeyError(key, `"${PARTIAL_MARKER}" is reserved for in-progress writes`);
    }
  }
}

export function isSafeKey(key: string): boolean {
  try {
    assertSafeKey(key);
    return true;
  } catch {
    return false;
  }
}

/**
 * Prefixes for list/deletePrefix: '' (the whole root), a directory ending
 * with '/', or any safe key (matches keys that start with it).
 */
export function assertSafePrefix(prefix: string): void {
  if (prefix === '') return;
  assertSafeKey(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix);
}

/** Joins parts with '/' and validates the result (no empty parts, no '..'). */
export function joinKey(...parts: string[]): string {
  const key = parts.join('/');
  assertSafeKey(key);
  return key;
}

/** Byte ranges for getRange: non-negative integers. */
export function assertRange(offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new RangeError(`bad byte range: offset ${offset}, length ${length}`);
  }
}

/** The order list() returns on every backend (UTF-16 code units; S3's own order is UTF-8 bytes). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
