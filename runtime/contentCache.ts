/**
 * Shard-level content cache. A fan-out shard's result depends on its own
 * inputs (a file's identity, an entry range, the params it uses), not on the
 * whole stage's key: a kind that says so (`shardContentKey`) has its shards'
 * results kept under `content/<kind>-shards/<hash>/` and reused wherever the
 * same shard reappears (a run over the same files plus a new one, a stage
 * with another key). Prepass results and `ctx.memo` values are kept the same
 * way, as single JSON objects. Computation of one content shard happens once
 * across runs (the same leases as cache keys); `--force` recomputes.
 */
import type { Storage } from '../storage/index.js';
import type { JsonValue, OutputEntry } from '../protocol/manifest.js';
import type { ShardNote, StageResult } from '../stages/kind.js';
import { hashJson } from '../common/hash.js';
import * as layout from './cacheLayout.js';
import { RecordingOutputWriter } from './outputWriter.js';
import { singleFlight, type HeldLease, type LeaseHolder, type LeaseTiming } from './keyLease.js';
import { readJson } from './storedJson.js';

/** What a content shard keeps: the kind's result and the objects it wrote (under the content folder). */
export interface ContentShard {
  outputs: OutputEntry[];
  counts: Record<string, number>;
  summary?: JsonValue;
  note?: ShardNote;
  worker: string;
  createdAt: string;
}

/** The content hash of a piece of a kind's work: what it depends on, the kind and its code version. */
export function contentHash(kind: { name: string; version: string }, key: JsonValue): string {
  return hashJson({ kind: kind.name, version: kind.version, key });
}

export interface ContentShardEnv {
  storage: Storage;
  kind: string;
  hash: string;
  forced: boolean;
  holder: LeaseHolder;
  timing: LeaseTiming;
  signal?: AbortSignal;
}

/**
 * The stored result of the content shard, or runs `run` (writing under the
 * content folder) and stores it. `reused` says which happened.
 */
export async function contentShard(env: ContentShardEnv, run: (writer: RecordingOutputWriter, signal: AbortSignal) => Promise<StageResult>): Promise<{ record: ContentShard; reused: boolean }> {
  const recordKey = layout.contentShardRecordKey(env.kind, env.hash);
  // The common case (an old file) needs no lease: a committed record is final.
  const stored = env.forced ? null : await intactRecord(env.storage, recordKey);
  if (stored) return { record: stored, reused: true };
  let first = true;
  return singleFlight<{ record: ContentShard; reused: boolean }>({
    storage: env.storage,
    folder: layout.contentLeaseFolder(env.kind, env.hash),
    holder: env.holder,
    timing: env.timing,
    ...(env.signal ? { signal: env.signal } : {}),
    // A forced stage recomputes once; after waiting for another run it takes that run's result.
    committed: async () => {
      const skip = env.forced && first;
      first = false;
      if (skip) return null;
      const record = await intactRecord(env.storage, recordKey);
      return record ? { record, reused: true } : null;
    },
    compute: async (lease: HeldLease) => {
      await env.storage.delete(recordKey);
      await env.storage.deletePrefix(layout.asPrefix(layout.contentShardDataFolder(env.kind, env.hash)));
      const writer = new RecordingOutputWriter(env.storage, layout.contentShardDataFolder(env.kind, env.hash));
      const result = await run(writer, lease.signal);
      const record: ContentShard = {
        outputs: writer.outputs(),
        counts: result.counts ?? {},
        ...(result.summary !== undefined ? { summary: result.summary } : {}),
        ...(result.note ? { note: result.note } : {}),
        worker: env.holder.worker,
        createdAt: new Date().toISOString(),
      };
      await lease.assertHeld();
      await env.storage.put(recordKey, JSON.stringify(record));
      return { record, reused: false };
    },
  });
}

/** The stored result of a content shard whose outputs are all there, or null. */
export const storedShard = (storage: Storage, kind: string, hash: string) => intactRecord(storage, layout.contentShardRecordKey(kind, hash));

/** A record whose outputs are all there with their recorded sizes (else it is recomputed). */
async function intactRecord(storage: Storage, recordKey: string): Promise<ContentShard | null> {
  const record = await readJson<ContentShard>(storage, recordKey);
  if (!record) return null;
  for (const out of record.outputs) {
    const info = await storage.stat(out.key);
    if (!info || info.size !== out.bytes) return null;
  }
  return record;
}

/** The stored memo value for `key`, or null. */
export const storedMemo = <T extends JsonValue>(storage: Storage, kind: { name: string; version: string }, area: string, key: JsonValue) =>
  readJson<T>(storage, layout.contentMemoKey(kind.name, area, contentHash(kind, key)));

/** A content-addressed JSON value (`content/<kind>-<area>/<hash>.json`): stored, or computed and stored. */
export async function memo<T extends JsonValue>(storage: Storage, kind: { name: string; version: string }, area: string, key: JsonValue, forced: boolean, compute: () => Promise<T>): Promise<{ value: T; reused: boolean }> {
  const k = layout.contentMemoKey(kind.name, area, contentHash(kind, key));
  const stored = forced ? null : await storedMemo<T>(storage, kind, area, key);
  if (stored !== null) return { value: stored, reused: true };
  const value = await compute();
  // Two writers of one key store the same value; put is atomic.
  await storage.put(k, JSON.stringify(value));
  return { value, reused: false };
}
