/** Opens the storage a StorageSpec names, and turns user input into a root URI. */
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { StorageSpec } from './spec.js';
import { LocalStorage } from './local.js';
import { S3Storage } from './s3.js';
import { parseS3Root } from './s3Root.js';
import type { Storage } from './storage.js';

export type { Body, ObjectInfo, PutResult, Storage } from './storage.js';
export { StorageNotFoundError, UnsafeKeyError } from './storage.js';
export { assertSafeKey, joinKey } from './keys.js';
export { LocalStorage } from './local.js';
export { S3Storage, S3StorageError, type S3StorageOptions } from './s3.js';

/** `file:///abs/path` → LocalStorage; `s3://bucket/prefix` → S3Storage (credentials from the AWS chain). */
export function openStorage(spec: StorageSpec): Storage {
  const { root, endpoint, region, forcePathStyle, connectTimeoutMs, requestTimeoutMs, maxAttempts } = StorageSpec.parse(spec);
  if (root.startsWith('file:')) return new LocalStorage(fileURLToPath(root));
  return new S3Storage({ ...parseS3Root(root), endpoint, region, forcePathStyle, connectTimeoutMs, requestTimeoutMs, maxAttempts });
}

/**
 * User input → canonical root URI. Accepts `s3://bucket/prefix`, `file:///abs`,
 * `/abs`, and relative paths (`./data`, `data`, `file:./data`, `file://./data`)
 * resolved against baseDir.
 */
export function storageRootFromString(input: string, baseDir: string): string {
  const s = input.trim();
  if (s === '') throw new Error('empty storage root');
  if (s.startsWith('s3://')) {
    const { bucket, prefix } = parseS3Root(s);
    return `s3://${bucket}${prefix === '' ? '' : `/${prefix}`}`;
  }
  if (s.startsWith('file:')) return localRootUri(decodeFilePath(s), baseDir);
  if (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(s)) {
    throw new Error(`unsupported storage root ${JSON.stringify(input)}: use a path, file:// or s3://`);
  }
  return localRootUri(s, baseDir);
}

/** The path inside a `file:` form; relative when the user wrote one. */
function decodeFilePath(s: string): string {
  let path = s.slice('file:'.length);
  if (path.startsWith('//')) {
    const rest = path.slice(2);
    if (rest.startsWith('/') || rest.startsWith('.')) path = rest; // file:///abs, file://./rel
    else if (rest.startsWith('localhost/')) path = rest.slice('localhost'.length);
    else throw new Error(`file URLs with a remote host are not supported: ${JSON.stringify(s)}`);
  }
  try {
    return decodeURIComponent(path);
  } catch {
    throw new Error(`bad percent-encoding in storage root ${JSON.stringify(s)}`);
  }
}

function localRootUri(path: string, baseDir: string): string {
  const abs = resolve(baseDir, path);
  if (resolve(abs, '..') === abs) throw new Error('refusing to use the filesystem root as a storage root');
  return pathToFileURL(abs).href;
}
