/**
 * Storage keys: relative, '/'-separated paths below a storage root. The rules
 * themselves are in keyRules.ts (pure, shared with the storage spec); here
 * they throw.
 */
import { UnsafeKeyError } from './storage.js';
import { MAX_KEY_BYTES, keyProblem, utf8Length } from './keyRules.js';

export { MAX_KEY_BYTES, PARTIAL_MARKER } from './keyRules.js';

/** Throws UnsafeKeyError unless `key` is a safe object key. */
export function assertSafeKey(key: string): void {
  const reason = keyProblem(key);
  if (reason === undefined) return;
  // Length is checked before any rule that shows the key, so an overlong key is only ever shown shortened.
  const shown = typeof key !== 'string' ? String(key) : utf8Length(key) > MAX_KEY_BYTES ? `${key.slice(0, 64)}...` : key;
  throw new UnsafeKeyError(shown, reason);
}

export function isSafeKey(key: string): boolean {
  return keyProblem(key) === undefined;
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
