/**
 * Storage in a local directory (or a shared filesystem mounted on every
 * worker). Objects are regular files; symlinks, directories and in-progress
 * temp files are never objects.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, readdir, realpath, rename, rm, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { PARTIAL_MARKER, assertRange, assertSafeKey, assertSafePrefix, compareKeys } from './keys.js';
import {
  StorageNotFoundError,
  UnsafeKeyError,
  type Body,
  type ObjectInfo,
  type PutResult,
  type Storage,
} from './storage.js';

interface WalkEntry {
  kind: 'file' | 'dir';
  key: string;
  path: string;
}

export class LocalStorage implements Storage {
  /** Absolute, normalized directory. */
  readonly root: string;
  readonly rootUri: string;
  private realRootPromise: Promise<string> | undefined;

  constructor(root: string) {
    if (!isAbsolute(root)) throw new Error(`local storage root must be an absolute path, got ${JSON.stringify(root)}`);
    this.root = resolve(root);
    if (dirname(this.root) === this.root) throw new Error('refusing to use the filesystem root as a storage root');
    this.rootUri = pathToFileURL(this.root).href;
  }

  uri(key: string): string {
    return pathToFileURL(this.lexicalPath(key)).href;
  }

  async put(key: string, body: Body): Promise<PutResult> {
    assertSafeKey(key);
    return this.writeAtomic(key, [typeof body === 'string' ? Buffer.from(body) : body]);
  }

  async putIfAbsent(key: string, body: Body): Promise<boolean> {
    assertSafeKey(key);
    try {
      await this.writeAtomic(key, [typeof body === 'string' ? Buffer.from(body) : body], 'create');
      return true;
    } catch (err) {
      if (errCode(err) === 'EEXIST') return false;
      throw err;
    }
  }

  async putStream(key: string, body: AsyncIterable<Uint8Array> | Readable): Promise<PutResult> {
    assertSafeKey(key);
    return this.writeAtomic(key, body);
  }

  async get(key: string): Promise<Uint8Array> {
    const { fh } = await this.openObject(key);
    try {
      return await fh.readFile();
    } finally {
      await fh.close();
    }
  }

  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    assertRange(offset, length);
    const { fh, size } = await this.openObject(key);
    try {
      const buf = Buffer.alloc(Math.max(0, Math.min(length, size - offset)));
      let filled = 0;
      while (filled < buf.length) {
        const { bytesRead } = await fh.read(buf, filled, buf.length - filled, offset + filled);
        if (bytesRead === 0) break; // the file shrank meanwhile
        filled += bytesRead;
      }
      return buf.subarray(0, filled);
    } finally {
      await fh.close();
    }
  }

  async getStream(key: string): Promise<Readable> {
    const { fh } = await this.openObject(key);
    return fh.createReadStream(); // closes the handle at end or error
  }

  async stat(key: string): Promise<ObjectInfo | null> {
    const st = await unlessMissing(lstat(await this.pathInside(key)));
    return st?.isFile() ? { key, size: st.size, mtimeMs: st.mtimeMs } : null;
  }

  async list(prefix: string): Promise<ObjectInfo[]> {
    assertSafePrefix(prefix);
    const out: ObjectInfo[] = [];
    for await (const entry of this.walkPrefix(prefix)) {
      if (entry.kind !== 'file' || entry.key.includes(PARTIAL_MARKER) || !entry.key.startsWith(prefix)) continue;
      const st = await unlessMissing(lstat(entry.path));
      if (st?.isFile()) out.push({ key: entry.key, size: st.size, mtimeMs: st.mtimeMs });
    }
    return out.sort((a, b) => compareKeys(a.key, b.key));
  }

  async delete(key: string): Promise<void> {
    const path = await this.pathInside(key);
    try {
      await unlink(path);
    } catch (err) {
      if (!isMissing(err) && errCode(err) !== 'EISDIR') throw err;
    }
  }

  /** Also removes temp files of crashed writers and the directories left empty. */
  async deletePrefix(prefix: string): Promise<number> {
    assertSafePrefix(prefix);
    let count = 0;
    for await (const entry of this.walkPrefix(prefix)) {
      if (entry.kind === 'dir') {
        await removeIfEmpty(entry.path);
        continue;
      }
      const partial = entry.key.includes(PARTIAL_MARKER);
      const objectKey = partial ? entry.key.slice(0, entry.key.lastIndexOf(PARTIAL_MARKER)) : entry.key;
      if (!objectKey.startsWith(prefix)) continue;
      await rm(entry.path, { force: true });
      if (!partial) count++;
    }
    if (prefix.endsWith('/')) await removeIfEmpty(this.lexicalPath(prefix.slice(0, -1)));
    return count;
  }

  /**
   * Temp file beside the target, fsync, then rename (`replace`) or hard link
   * (`create`: fails with EEXIST when the target exists): readers see the
   * whole object or none.
   */
  private async writeAtomic(key: string, body: AsyncIterable<unknown> | Iterable<unknown>, mode: 'replace' | 'create' = 'replace'): Promise<PutResult> {
    const target = await this.pathInside(key);
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}${PARTIAL_MARKER}${process.pid}-${randomBytes(6).toString('hex')}`;
    const hash = createHash('sha256');
    let bytes = 0;
    try {
      const fh = await open(temp, 'wx');
      try {
        for await (const chunk of body) {
          const buf = toBytes(chunk);
          hash.update(buf);
          bytes += buf.byteLength;
          await writeFully(fh, buf);
        }
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (mode === 'replace') await rename(temp, target);
      else await link(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    if (mode === 'create') await rm(temp, { force: true });
    await syncDir(dirname(target)); // makes the rename itself durable
    return { key, bytes, sha256: hash.digest('hex') };
  }

  private async openObject(key: string): Promise<{ fh: FileHandle; size: number }> {
    const path = await this.pathInside(key);
    let fh: FileHandle;
    try {
      // O_NOFOLLOW: a symlink planted at the key cannot point reads outside the root.
      fh = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      if (isMissing(err) || errCode(err) === 'ELOOP') throw new StorageNotFoundError(this.uri(key));
      throw err;
    }
    const st = await fh.stat();
    if (!st.isFile()) {
      await fh.close();
      throw new StorageNotFoundError(this.uri(key));
    }
    return { fh, size: st.size };
  }

  /** Validated key → absolute path, checked lexically and through symlinks of its parents. */
  private async pathInside(key: string): Promise<string> {
    const path = this.lexicalPath(key);
    await this.assertRealInside(key, dirname(path));
    return path;
  }

  private lexicalPath(key: string): string {
    assertSafeKey(key);
    const path = resolve(this.root, ...key.split('/'));
    if (!path.startsWith(this.root + sep)) throw new UnsafeKeyError(key, 'resolves outside the storage root');
    return path;
  }

  /** The nearest existing ancestor of `dir`, symlinks resolved, must lie inside the root. */
  private async assertRealInside(key: string, dir: string): Promise<void> {
    const realRoot = await this.realRoot();
    let real: string | undefined;
    for (let d = dir; real === undefined; d = dirname(d)) {
      real = await unlessMissing(realpath(d));
      if (real === undefined && dirname(d) === d) throw new Error(`storage root ${this.root} does not exist`);
    }
    if (real !== realRoot && !real.startsWith(realRoot + sep)) {
      throw new UnsafeKeyError(key, 'resolves outside the storage root through a symlink');
    }
  }

  private realRoot(): Promise<string> {
    this.realRootPromise ??= mkdir(this.root, { recursive: true })
      .then(() => realpath(this.root))
      .catch((err: unknown) => {
        this.realRootPromise = undefined;
        throw err;
      });
    return this.realRootPromise;
  }

  /** Files and directories (children first) whose key may start with `prefix`. */
  private async *walkPrefix(prefix: string): AsyncGenerator<WalkEntry> {
    const slash = prefix.lastIndexOf('/');
    const dirKey = prefix.slice(0, Math.max(0, slash));
    const dir = dirKey === '' ? this.root : this.lexicalPath(dirKey);
    await this.assertRealInside(prefix, dir);
    yield* walk(dir, dirKey, prefix.slice(slash + 1));
  }
}

/** Depth-first; symlinks are skipped, so the walk never leaves the tree. */
async function* walk(dir: string, dirKey: string, namePrefix: string): AsyncGenerator<WalkEntry> {
  let names;
  try {
    names = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (isMissing(err)) return;
    throw err;
  }
  for (const entry of names) {
    if (!entry.name.startsWith(namePrefix)) continue;
    const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      yield* walk(path, key, '');
      yield { kind: 'dir', key, path };
    } else if (entry.isFile()) {
      yield { kind: 'file', key, path };
    }
  }
}

function toBytes(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  throw new TypeError(`stream chunks must be Uint8Array or string, got ${typeof chunk}`);
}

async function writeFully(fh: FileHandle, buf: Uint8Array): Promise<void> {
  for (let done = 0; done < buf.byteLength; ) {
    const { bytesWritten } = await fh.write(buf, done, buf.byteLength - done);
    done += bytesWritten;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function removeIfEmpty(dir: string): Promise<void> {
  await rmdir(dir).catch((err: unknown) => {
    if (!isMissing(err) && errCode(err) !== 'ENOTEMPTY' && errCode(err) !== 'EEXIST') throw err;
  });
}

/** The promise's value, or undefined when the path does not exist. */
async function unlessMissing<T>(promise: Promise<T>): Promise<T | undefined> {
  try {
    return await promise;
  } catch (err) {
    if (isMissing(err)) return undefined;
    throw err;
  }
}

function errCode(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code;
}

function isMissing(err: unknown): boolean {
  const code = errCode(err);
  return code === 'ENOENT' || code === 'ENOTDIR';
}
