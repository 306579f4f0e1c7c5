/**
 * Reads of upstream outputs checked against their manifest entries (size and
 * SHA-256). A damaged or overwritten object then fails the stage naming it,
 * rather than reaching a decoder: parquet-wasm traps on corrupt pages, which
 * in its async reader is an uncatchable error that takes the worker down.
 */
import { createHash } from 'node:crypto';
import type { Storage } from './storage.js';
import { BadInputError } from '../common/errors.js';
import { sha256Hex } from '../common/hash.js';

/** What a manifest records about an object. */
export interface RecordedObject {
  key: string;
  bytes: number;
  sha256: string;
}

/** The whole object, after checking it against its record. */
export async function getVerified(storage: Storage, object: RecordedObject): Promise<Uint8Array> {
  const data = await storage.get(object.key);
  check(storage, object, data.length, sha256Hex(data));
  return data;
}

/** Checks an object against its record without holding it (streamed). */
export async function verifyObject(storage: Storage, object: RecordedObject): Promise<void> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of await storage.getStream(object.key)) {
    hash.update(chunk as Uint8Array);
    bytes += (chunk as Uint8Array).length;
  }
  check(storage, object, bytes, hash.digest('hex'));
}

function check(storage: Storage, object: RecordedObject, bytes: number, sha256: string): void {
  if (bytes === object.bytes && sha256 === object.sha256) return;
  throw new BadInputError(
    `${storage.uri(object.key)}: the object differs from what its stage's manifest recorded (${bytes} bytes, sha256 ${sha256.slice(0, 12)}…; ` +
      `expected ${object.bytes} bytes, sha256 ${object.sha256.slice(0, 12)}…): it was damaged or overwritten; re-run the stage that wrote it with --force`,
  );
}
