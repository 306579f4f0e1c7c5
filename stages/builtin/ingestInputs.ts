/**
 * Where ingest's ROOT files come from: storage keys (relative to the root, so
 * they cannot leave it), absolute local paths or file:// URIs, and s3:// URIs
 * (other buckets use the standard AWS settings, e.g. AWS_ENDPOINT_URL).
 * Files are read whole into memory (jsroot reads in-memory files far faster),
 * so every read is bounded: only regular files and storage objects, at most
 * `maxBytes` each, checked before anything is read, and abortable. Outputs of
 * upstream stages are checked against their manifest records (size, SHA-256).
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BadInputError } from '../../common/errors.js';
import { joinKey, openStorage, StorageNotFoundError, type Storage } from '../../storage/index.js';
import { getVerified } from '../../storage/verified.js';

/** The default cap on one input file (TOPOFLOW_MAX_INPUT_BYTES or the stage's `maxInputBytes` change it). */
export const DEFAULT_MAX_INPUT_BYTES = 4 * 1024 ** 3;

export interface InputFile {
  /** As configured or as the upstream manifest names it; used in messages and provenance. */
  uri: string;
  /** Storage key, when the file lives in the pipeline's storage. */
  key?: string;
  label: number;
  /** What the upstream manifest recorded, for outputs of upstream stages: the read is checked against it. */
  bytes?: number;
  sha256?: string;
  /** The identity listed when the run was planned (other files): a read that finds another one fails. */
  size?: number;
  etag?: string;
  mtimeMs?: number;
  [k: string]: string | number | undefined;
}

/** A file that cannot be read at all (missing, unreadable): "bad" for onBadFile. */
export class InputFileError extends Error {
  constructor(readonly file: string, reason: string) {
    super(`${file}: ${reason}`);
    this.name = 'InputFileError';
  }
}

const SAMPLE_LABELS: Array<[RegExp, number]> = [
  [/qcd/i, 0],
  [/ttbar|\btt_/i, 1],
  [/wjets|wlnu|w_jets/i, 2],
];

/** Label from a sample name in the file name: qcd → 0, ttbar → 1, wjets/Wlnu → 2. */
export function inputLabel(name: string, where: string): number {
  const base = name.split('/').pop() ?? name;
  const hit = SAMPLE_LABELS.find(([re]) => re.test(base)) ?? SAMPLE_LABELS.find(([re]) => re.test(name));
  if (!hit) throw new BadInputError(`${where}: cannot tell the sample (qcd, ttbar, wjets) from the name; give {uri, label} instead`);
  return hit[1];
}

export interface ReadLimits {
  maxBytes: number;
  signal?: AbortSignal;
}

/** The cap from the stage's `maxInputBytes`, else TOPOFLOW_MAX_INPUT_BYTES, else 4 GiB. */
export function maxInputBytes(fromStage: number | undefined, env: NodeJS.ProcessEnv = process.env): number {
  if (fromStage !== undefined) return fromStage;
  const fromEnv = Number(env.TOPOFLOW_MAX_INPUT_BYTES);
  return Number.isSafeInteger(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_MAX_INPUT_BYTES;
}

export async function loadInput(storage: Storage, file: InputFile, limits: ReadLimits): Promise<Uint8Array> {
  limits.signal?.throwIfAborted();
  const key = storageKey(storage, file);
  if (key !== null) return readObject(storage, key, file, limits);
  if (file.uri.startsWith('s3://')) {
    const { bucket, key: objectKey } = splitS3(file.uri);
    return readObject(openStorage({ root: `s3://${bucket}` }), objectKey, file, limits);
  }
  return readLocalFile(file.uri.startsWith('file:') ? fileURLToPath(file.uri) : file.uri, file, limits);
}

async function readObject(storage: Storage, key: string, file: InputFile, limits: ReadLimits): Promise<Uint8Array> {
  const info = await storage.stat(key);
  if (!info) throw new InputFileError(file.uri, 'no such object');
  checkSize(file, info.size, limits.maxBytes);
  checkIdentity(file, info);
  const read = file.bytes !== undefined && file.sha256 !== undefined
    ? getVerified(storage, { key, bytes: file.bytes, sha256: file.sha256 })
    : storage.get(key);
  const bytes = await read.catch((err: unknown) => { throw notFound(err, file); });
  limits.signal?.throwIfAborted();
  return bytes;
}

/** Regular files only (not FIFOs, devices such as /dev/zero, or directories), read in chunks that stop on abort. */
async function readLocalFile(path: string, file: InputFile, limits: ReadLimits): Promise<Uint8Array> {
  // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
  const fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch((err: NodeJS.ErrnoException) => {
    throw new InputFileError(file.uri, err.code === 'ENOENT' ? 'no such file' : `cannot read (${err.code ?? err.message})`);
  });
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new InputFileError(file.uri, 'not a regular file (a FIFO, device or directory cannot be ingested)');
    checkSize(file, st.size, limits.maxBytes);
    checkIdentity(file, { size: st.size, mtimeMs: st.mtimeMs });
    const out = Buffer.allocUnsafe(st.size);
    for (let at = 0; at < st.size; ) {
      limits.signal?.throwIfAborted();
      const { bytesRead } = await fh.read(out, at, Math.min(16 * 1024 ** 2, st.size - at), at);
      if (bytesRead === 0) throw new InputFileError(file.uri, `shrank while being read (${at} of ${st.size} bytes)`);
      at += bytesRead;
    }
    return out;
  } finally {
    await fh.close();
  }
}

function checkSize(file: InputFile, size: number, maxBytes: number): void {
  if (size > maxBytes) {
    throw new InputFileError(file.uri, `${size} bytes is more than the limit of ${maxBytes} bytes per input file (raise it with the stage's maxInputBytes or TOPOFLOW_MAX_INPUT_BYTES)`);
  }
}

/**
 * The file must still be the one the run listed (its identity is in the
 * stage's key): one rewritten since would be read under the old identity and
 * cached as such. Not a bad file (onBadFile): the run must list it again.
 */
function checkIdentity(file: InputFile, now: { size: number; etag?: string; mtimeMs?: number }): void {
  const changed = (file.size !== undefined && now.size !== file.size)
    || (file.etag !== undefined && now.etag !== file.etag)
    || (file.mtimeMs !== undefined && now.mtimeMs !== file.mtimeMs);
  if (changed) throw new BadInputError(`${file.uri}: changed since this run listed it (size ${file.size ?? '?'} → ${now.size}); run the pipeline again to read the new version`);
}

/** The key of a file inside the pipeline's storage, or null for files elsewhere. */
function storageKey(storage: Storage, file: InputFile): string | null {
  return file.key ?? storageKeyOf(storage, file.uri);
}

/** The storage key a configured URI names ('./a/b' and 'a/b' alike), or null for files elsewhere. */
export function storageKeyOf(storage: Storage, uri: string): string | null {
  if (uri.startsWith(`${storage.rootUri}/`)) return uri.slice(storage.rootUri.length + 1);
  if (/^[a-z][a-z0-9+.-]*:/i.test(uri) || isAbsolute(uri)) return null;
  const segments = uri.split('/');
  while (segments[0] === '.') segments.shift();
  // Glob characters are checked as keys only once expanded: validate the literal part.
  return /[*?]/.test(uri) || uri.endsWith('/') ? segments.join('/') : joinKey(...segments); // relative: inside the root
}

export function splitS3(uri: string): { bucket: string; key: string } {
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) throw new InputFileError(uri, 'expected s3://bucket/key');
  return { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}

function notFound(err: unknown, file: InputFile): unknown {
  return err instanceof StorageNotFoundError ? new InputFileError(file.uri, 'no such object') : err;
}
