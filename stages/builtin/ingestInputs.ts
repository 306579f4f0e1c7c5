/**
 * Where ingest's ROOT files come from: storage keys (relative to the root, so
 * they cannot leave it), absolute local paths or file:// URIs, and s3:// URIs
 * (other buckets use the standard AWS settings, e.g. AWS_ENDPOINT_URL).
 * Files are read whole into memory: jsroot reads in-memory files far faster.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BadInputError } from '../../common/errors.js';
import { joinKey, openStorage, StorageNotFoundError, type Storage } from '../../storage/index.js';

export interface InputFile {
  /** As configured or as the upstream manifest names it; used in messages and provenance. */
  uri: string;
  /** Storage key, when the file lives in the pipeline's storage. */
  key?: string;
  label: number;
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

export async function loadInput(storage: Storage, file: InputFile): Promise<Uint8Array> {
  const key = storageKey(storage, file);
  if (key !== null) return storage.get(key).catch((err: unknown) => { throw notFound(err, file); });
  if (file.uri.startsWith('s3://')) {
    const { bucket, key: objectKey } = splitS3(file.uri);
    return openStorage({ root: `s3://${bucket}` }).get(objectKey).catch((err: unknown) => { throw notFound(err, file); });
  }
  const path = file.uri.startsWith('file:') ? fileURLToPath(file.uri) : file.uri;
  return readFile(path).catch((err: NodeJS.ErrnoException) => {
    throw new InputFileError(file.uri, err.code === 'ENOENT' ? 'no such file' : `cannot read (${err.code ?? err.message})`);
  });
}

/** The key of a file inside the pipeline's storage, or null for files elsewhere. */
function storageKey(storage: Storage, file: InputFile): string | null {
  if (file.key) return file.key;
  if (file.uri.startsWith(`${storage.rootUri}/`)) return file.uri.slice(storage.rootUri.length + 1);
  if (/^[a-z][a-z0-9+.-]*:/i.test(file.uri) || isAbsolute(file.uri)) return null;
  return joinKey(...file.uri.split('/')); // relative: inside the root, validated
}

function splitS3(uri: string): { bucket: string; key: string } {
  const rest = uri.slice('s3://'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) throw new InputFileError(uri, 'expected s3://bucket/key');
  return { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}

function notFound(err: unknown, file: InputFile): unknown {
  return err instanceof StorageNotFoundError ? new InputFileError(file.uri, 'no such object') : err;
}
