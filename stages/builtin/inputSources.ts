/**
 * Resolves ingest-style inputs (storage keys, absolute paths, file:// and
 * s3:// URIs, each optionally a glob or a prefix) into the files they name
 * now, each with its identity: size plus ETag (S3) or mtime (local files and
 * the local store). Patterns list storage (ListObjectsV2 pages on S3, a
 * recursive directory walk locally) from their literal leading folder only.
 * A name given one by one is stat'ed: replaced in place, it gets a new
 * identity, so the stage's key changes and the file is read again.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BadInputError } from '../../common/errors.js';
import type { SourceRecord } from '../../protocol/manifest.js';
import { compileGlob, isPattern } from '../../storage/glob.js';
import { openStorage, UnsafeKeyError, type ObjectInfo, type Storage } from '../../storage/index.js';
import { splitS3, storageKeyOf } from './ingestInputs.js';

/** What a trailing '/' means for ingest: every ROOT file below it. */
const PREFIX_MATCHES = '**/*.root';

type Where = { at: 'store'; key: string } | { at: 's3'; bucket: string; key: string } | { at: 'local'; path: string; fileUrl: boolean };

/** The files `uri` names (one, or a pattern's matches, sorted); a pattern matching none is an error unless `allowEmpty`. */
export async function resolveInput(storage: Storage, uri: string, opts: { allowEmpty?: boolean; where: string }): Promise<SourceRecord[]> {
  try {
    return await resolve(storage, uri, opts);
  } catch (err) {
    if (err instanceof UnsafeKeyError) throw new BadInputError(`${opts.where}: "${uri}" is not a usable storage key or pattern (${err.message})`);
    throw err;
  }
}

async function resolve(storage: Storage, uri: string, opts: { allowEmpty?: boolean; where: string }): Promise<SourceRecord[]> {
  const where = locate(storage, uri);
  if (!isPattern(uri)) return [await statOne(storage, uri, where)];
  const found = await listMatching(storage, where);
  if (!found.length && !opts.allowEmpty) throw new BadInputError(`${opts.where}: the pattern "${uri}" matches no file (set allowEmpty: true to accept that)`);
  return found.sort((a, b) => (a.uri < b.uri ? -1 : a.uri > b.uri ? 1 : 0));
}

function locate(storage: Storage, uri: string): Where {
  const key = storageKeyOf(storage, uri);
  if (key !== null) return { at: 'store', key };
  if (uri.startsWith('s3://')) return { at: 's3', ...splitS3(uri) };
  return { at: 'local', path: uri.startsWith('file:') ? fileURLToPath(uri) : uri, fileUrl: uri.startsWith('file:') };
}

const identity = (info: ObjectInfo) => ({ size: info.size, ...(info.etag ? { etag: info.etag } : {}), ...(info.mtimeMs !== undefined ? { mtimeMs: info.mtimeMs } : {}) });

async function statOne(storage: Storage, uri: string, where: Where): Promise<SourceRecord> {
  if (where.at === 'local') {
    const st = await lstat(where.path).catch(() => null);
    // Not a regular file (missing, a FIFO, a device): its shard reports it, as before.
    return st?.isFile() ? { uri, size: st.size, mtimeMs: st.mtimeMs } : { uri, missing: true };
  }
  const info = where.at === 'store' ? await storage.stat(where.key) : await openStorage({ root: `s3://${where.bucket}` }).stat(where.key);
  return { uri, ...(where.at === 'store' ? { key: where.key } : {}), ...(info ? identity(info) : { missing: true as const }) };
}

async function listMatching(storage: Storage, where: Where): Promise<SourceRecord[]> {
  if (where.at === 'local') {
    const glob = compileGlob(where.path, PREFIX_MATCHES);
    const out: SourceRecord[] = [];
    for (const rel of await readdir(glob.base || '.', { recursive: true }).catch(() => [] as string[])) {
      const path = join(glob.base, rel);
      if (!glob.test(path)) continue;
      const st = await lstat(path).catch(() => null);
      if (st?.isFile()) out.push({ uri: where.fileUrl ? pathToFileURL(path).href : path, size: st.size, mtimeMs: st.mtimeMs });
    }
    return out;
  }
  const glob = compileGlob(where.key, PREFIX_MATCHES);
  const store = where.at === 'store' ? storage : openStorage({ root: `s3://${where.bucket}` });
  const objects = (await store.list(glob.base)).filter((o) => glob.test(o.key));
  // Objects of the pipeline's storage are named by key (provenance independent of the root), others by URI.
  return objects.map((o) => (where.at === 'store' ? { uri: o.key, key: o.key, ...identity(o) } : { uri: `s3://${where.bucket}/${o.key}`, ...identity(o) }));
}
