/**
 * One object-storage interface for every backend (local directory, S3).
 *
 * Keys are relative, '/'-separated paths below the storage root. Every method
 * validates its key with `assertSafeKey`, so a key taken from configuration can
 * never address anything outside the root.
 *
 * Atomicity: `put` and `putStream` make an object visible only once it is
 * complete (local: temp file + rename; S3: single PUT or multipart upload,
 * which S3 exposes only on completion). A writer that crashes mid-way leaves
 * no object under the final key.
 */
import type { Readable } from 'node:stream';

export interface PutResult {
  key: string;
  bytes: number;
  /** hex sha256 of the object's bytes */
  sha256: string;
}

export interface ObjectInfo {
  key: string;
  size: number;
  /** S3: the object's ETag (changes when it is rewritten); absent locally. */
  etag?: string;
  /** Local: modification time in ms; absent on S3 (the ETag says more). */
  mtimeMs?: number;
}

export type Body = Uint8Array | string;

export interface Storage {
  /** Root URI without credentials, e.g. `file:///data/store` or `s3://bucket/prefix`. */
  readonly rootUri: string;
  /** Full URI of a key (for manifests and messages). */
  uri(key: string): string;
  put(key: string, body: Body): Promise<PutResult>;
  /**
   * Creates the object only if no object has the key (atomically: of two
   * concurrent callers exactly one wins); false when it already exists.
   * Local: hard link of a complete temp file (O_EXCL semantics); S3: a PUT with
   * `If-None-Match: *`.
   */
  putIfAbsent(key: string, body: Body): Promise<boolean>;
  /** Streaming write; S3 uses multipart upload for large bodies. */
  putStream(key: string, body: AsyncIterable<Uint8Array> | Readable): Promise<PutResult>;
  /** Whole object; throws StorageNotFoundError when absent. */
  get(key: string): Promise<Uint8Array>;
  /** `length` bytes from `offset` (fewer at the end of the object). */
  getRange(key: string, offset: number, length: number): Promise<Uint8Array>;
  getStream(key: string): Promise<Readable>;
  /** null when absent. */
  stat(key: string): Promise<ObjectInfo | null>;
  /** All objects whose key starts with `prefix` (recursive), sorted by key. */
  list(prefix: string): Promise<ObjectInfo[]>;
  /** No error when absent. */
  delete(key: string): Promise<void>;
  /** Deletes every object under prefix; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
}

export class StorageNotFoundError extends Error {
  constructor(readonly uri: string) {
    super(`object not found: ${uri}`);
    this.name = 'StorageNotFoundError';
  }
}

export class UnsafeKeyError extends Error {
  constructor(readonly key: string, reason: string) {
    super(`unsafe storage key ${JSON.stringify(key)}: ${reason}`);
    this.name = 'UnsafeKeyError';
  }
}
