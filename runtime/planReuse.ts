/**
 * Reuse decided when a fan-out is planned: shards (and prepass shards) whose
 * result is already in the content cache are committed into the stage at
 * once, and the plan lists them, so the workflow dispatches only the rest: a
 * run with 1 new file among 1,000 runs 1 shard activity, not 1,001. What is
 * committed here is what runShard would commit on finding the same record.
 */
import type { Storage } from '../storage/index.js';
import type { JsonValue } from '../protocol/manifest.js';
import type { FanoutStageKind, ShardResult } from '../stages/kind.js';
import * as layout from './cacheLayout.js';
import { contentHash, storedMemo, storedShard } from './contentCache.js';

/** Storage requests in flight while looking records up. */
const PARALLEL = 8;

export interface PlannedReuse {
  /** Shards whose manifest is committed (reused now, or earlier in this stage). */
  done: number[];
  /** Prepass shards whose result is stored. */
  prepassReady: number[];
}

export async function commitReusable<W>(storage: Storage, kind: FanoutStageKind<W>, stageKey: string, w: W, shards: JsonValue[]): Promise<PlannedReuse> {
  const done: number[] = [];
  const prepassReady: number[] = [];
  const shardKey = kind.shardContentKey?.bind(kind);
  const prepassKey = kind.prepass?.contentKey?.bind(kind.prepass);
  await forEachLimited(shards.length, async (i) => {
    const shard = shards[i] as JsonValue;
    if (shardKey && (await reuseShard(storage, kind, stageKey, i, shardKey(w, shard)))) done.push(i);
    if (prepassKey && (await reusePrepass(storage, kind, stageKey, i, prepassKey(w, shard)))) prepassReady.push(i);
  });
  return { done: done.sort((a, b) => a - b), prepassReady: prepassReady.sort((a, b) => a - b) };
}

async function reuseShard(storage: Storage, kind: FanoutStageKind, stageKey: string, index: number, contentKey: JsonValue): Promise<boolean> {
  const smKey = layout.shardManifestKey(kind.name, stageKey, index);
  if (await storage.stat(smKey)) return true;
  if (contentKey === null) return false;
  const record = await storedShard(storage, kind.name, contentHash(kind, contentKey));
  if (!record) return false;
  const { outputs, counts, worker, summary, note } = record;
  const result: ShardResult = { index, outputs, counts, worker, ...(summary !== undefined ? { summary } : {}), ...(note ? { note } : {}), reused: true };
  await storage.put(smKey, JSON.stringify(result));
  return true;
}

async function reusePrepass(storage: Storage, kind: FanoutStageKind, stageKey: string, index: number, contentKey: JsonValue): Promise<boolean> {
  const rKey = layout.prepassShardKey(kind.name, stageKey, index);
  if (await storage.stat(rKey)) return true;
  const value = await storedMemo(storage, kind, 'prepass', contentKey);
  if (value === null) return false;
  await storage.put(layout.prepassReusedKey(kind.name, stageKey, index), '{}');
  await storage.put(rKey, JSON.stringify(value));
  return true;
}

async function forEachLimited(count: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await task(next++);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, count) }, lane));
}
