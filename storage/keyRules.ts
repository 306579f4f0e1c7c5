/**
 * What makes a storage key safe: relative, '/'-separated, no empty, "." or
 * ".." segments, at most S3's 1024 UTF-8 bytes; the same on every backend, so
 * a key that works locally works on S3. Pure (no Node built-ins): a run's
 * storage root is checked with these rules inside the workflow sandbox.
 */

/** S3's limit, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/**
 * Marks a local in-progress write (`<name>.partial-<pid>-<random>`); keys may
 * not contain it, so a temp file can never be mistaken for an object.
 */
export const PARTIAL_MARKER = '.partial-';

const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export const utf8Length = (s: string): number => new TextEncoder().encode(s).length;

/** Why `key` is not a safe object key (`empty path segment`), or undefined when it is. */
export function keyProblem(key: string): string | undefined {
  if (typeof key !== 'string') return 'not a string';
  if (key === '') return 'empty';
  if (utf8Length(key) > MAX_KEY_BYTES) return `longer than ${MAX_KEY_BYTES} bytes`;
  if (CONTROL_CHARS.test(key)) return 'contains a control character';
  if (key.includes('\\')) return 'contains a backslash';
  if (key.startsWith('/')) return 'absolute (starts with "/")';
  for (const segment of key.split('/')) {
    if (segment === '') return 'empty path segment';
    if (segment === '.' || segment === '..') return `"${segment}" segment`;
    if (segment.includes(PARTIAL_MARKER)) return `"${PARTIAL_MARKER}" is reserved for in-progress writes`;
  }
  return undefined;
}
