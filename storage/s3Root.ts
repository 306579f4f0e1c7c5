/**
 * `s3://bucket/prefix` storage roots: their parts, and S3's bucket naming
 * rules, with messages that say which rule a name breaks. Pure (no Node
 * built-ins): the workflow checks a run's storage with it (storage/spec.ts),
 * so a bad root stops the run before its first stage.
 */
import { keyProblem } from './keyRules.js';

const BUCKET_RULES = 'a bucket name of 3-63 lowercase letters, digits, "." or "-" that starts and ends with a letter or digit';

/** How `bucket` breaks S3's naming rules, as phrases ("has uppercase letters"); none when it is valid. */
export function bucketNameFaults(bucket: string): string[] {
  if (bucket === '') return ['is empty'];
  const faults: string[] = [];
  if (bucket.length < 3 || bucket.length > 63) faults.push(`is ${bucket.length} characters long`);
  if (/[A-Z]/.test(bucket)) faults.push('has uppercase letters');
  const others = [...new Set(bucket.replace(/[A-Za-z0-9.-]/g, ''))];
  if (others.length > 0) faults.push(`contains ${others.map((c) => JSON.stringify(c)).join(', ')}`);
  // Letters of either case here: an uppercase first or last letter is already reported above.
  if (!/^[A-Za-z0-9]/.test(bucket)) faults.push(`starts with ${JSON.stringify(bucket[0])}`);
  if (!/[A-Za-z0-9]$/.test(bucket)) faults.push(`ends with ${JSON.stringify(bucket[bucket.length - 1])}`);
  if (bucket.includes('..')) faults.push('has two adjacent periods');
  if (/^\d+\.\d+\.\d+\.\d+$/.test(bucket)) faults.push('is formatted as an IP address');
  return faults;
}

/** `a bucket name of …, but "Bad_Bucket" has uppercase letters and contains "_"`, or undefined for a valid name. */
export function bucketNameProblem(bucket: string): string | undefined {
  const faults = bucketNameFaults(bucket);
  if (faults.length === 0) return undefined;
  const listed = faults.length === 1 ? faults[0]! : `${faults.slice(0, -1).join(', ')} and ${faults[faults.length - 1]!}`;
  return `${BUCKET_RULES}, but ${JSON.stringify(bucket)} ${listed}`;
}

/** Why `s3://<bucket>/<prefix>` cannot be a storage root, after "invalid S3 root …; ", or undefined. */
export function s3PartsProblem(bucket: string, prefix: string): string | undefined {
  const badBucket = bucketNameProblem(bucket);
  if (badBucket !== undefined) return `expected s3://bucket/prefix with ${badBucket}`;
  const badPrefix = prefix === '' ? undefined : keyProblem(prefix);
  if (badPrefix !== undefined) return `the prefix ${JSON.stringify(prefix)} is not a valid storage key (${badPrefix})`;
  return undefined;
}

export const invalidS3Root = (root: string, problem: string) => `invalid S3 root ${JSON.stringify(root)}; ${problem}`;

/** The whole message for a bad `s3://` root, or undefined when it is valid. */
export function s3RootProblem(root: string): string | undefined {
  const parts = splitS3Root(root);
  if (parts === undefined) return `expected s3://bucket/prefix, got ${JSON.stringify(root)}`;
  const problem = s3PartsProblem(parts.bucket, parts.prefix);
  return problem === undefined ? undefined : invalidS3Root(root, problem);
}

/** `s3://bucket/prefix` → its parts, validated (throws an Error that says what is wrong). */
export function parseS3Root(root: string): { bucket: string; prefix: string } {
  const problem = s3RootProblem(root);
  if (problem !== undefined) throw new Error(problem);
  return splitS3Root(root)!;
}

/** The parts as written; a trailing "/" on the prefix is ignored. */
function splitS3Root(root: string): { bucket: string; prefix: string } | undefined {
  const m = /^s3:\/\/([^/]*)\/?(.*)$/.exec(root);
  if (!m) return undefined;
  return { bucket: m[1] ?? '', prefix: (m[2] ?? '').replace(/\/+$/, '') };
}
