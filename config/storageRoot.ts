/**
 * Canonical storage roots: `file:///absolute/path` or `s3://bucket/prefix`,
 * without a trailing slash. Local paths in pipelines.yaml are relative to the
 * YAML file's directory.
 */
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { invalidS3Root, s3PartsProblem } from '../storage/s3Root.js';

export const DEFAULT_STORAGE_ROOT = './data/store';

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/** Throws an Error whose message says what was found and what is accepted. */
export function canonicalStorageRoot(root: string, baseDir: string): string {
  const scheme = SCHEME.exec(root)?.[1]?.toLowerCase();
  if (scheme === undefined) return pathToFileURL(resolve(baseDir, root)).href;
  if (scheme === 'file') return canonicalFileUrl(root);
  if (scheme === 's3') return canonicalS3Url(root);
  throw new Error(`unsupported storage root ${JSON.stringify(root)} (scheme "${scheme}:"); ${ACCEPTED}`);
}

const ACCEPTED = 'expected a local path (relative to pipelines.yaml), file:///absolute/path or s3://bucket/prefix';

function canonicalFileUrl(root: string): string {
  let path: string;
  try {
    path = fileURLToPath(root);
  } catch {
    throw new Error(`invalid file URL ${JSON.stringify(root)}; expected file:///absolute/path (three slashes, no host)`);
  }
  return pathToFileURL(resolve(path)).href;
}

function canonicalS3Url(root: string): string {
  const [bucket = '', ...prefix] = root.slice('s3://'.length).split('/');
  // Empty segments (`a//b`, a trailing "/") are forgiven here, as for file paths.
  const cleanPrefix = prefix.filter((part) => part !== '').join('/');
  const problem = root.startsWith('s3://') ? s3PartsProblem(bucket, cleanPrefix) : 'expected s3://bucket/prefix (lowercase "s3://")';
  if (problem !== undefined) throw new Error(invalidS3Root(root, problem));
  return cleanPrefix ? `s3://${bucket}/${cleanPrefix}` : `s3://${bucket}`;
}
