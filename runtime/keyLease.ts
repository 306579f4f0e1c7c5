/**
 * One computation per cache key, across runs, workers and hosts. A unit of
 * work (a stage, or a shard of a fan-out stage) runs only while its caller
 * holds the unit's lease in storage; a run that finds the lease held by
 * another run waits for that run's result and reuses it ("joined").
 *
 * A lease is a sequence of generation objects `leases/…/<generation>.json`,
 * each created with a conditional write (`putIfAbsent`: O_EXCL-like locally,
 * `If-None-Match: *` on S3), so of two callers that race for a generation
 * exactly one wins. The holder renews its record while it computes; a holder
 * that stops renewing (a dead worker) loses the lease after `ttlMs`, and the
 * next caller takes generation n + 1. A retried attempt of the same run and
 * stage takes over at once (Temporal retries an attempt only once it has
 * given the previous one up). A holder that finds a newer generation has lost
 * the lease: its computation is aborted. Expiry compares wall clocks, so hosts
 * need clocks in step to well within `ttlMs` (NTP).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { Storage } from '../storage/index.js';
import { StorageNotFoundError } from '../storage/index.js';
import { asPrefix } from './cacheLayout.js';

export const LeaseHolder = z.object({ runId: z.string(), stageId: z.string(), worker: z.string() });
export type LeaseHolder = z.infer<typeof LeaseHolder>;

const LeaseRecord = z.object({ holder: LeaseHolder, renewedAt: z.number(), ttlMs: z.number() });
type LeaseRecord = z.infer<typeof LeaseRecord>;

export interface LeaseTiming {
  /** A record not renewed for this long is given up. */
  ttlMs: number;
  /** How often a waiting caller looks for the holder's result. */
  pollMs: number;
}

export const DEFAULT_LEASE_TIMING: LeaseTiming = { ttlMs: 60_000, pollMs: 1_000 };

export class LeaseLostError extends Error {
  constructor(folder: string, to: LeaseHolder | null) {
    super(`lost the lease on ${folder}${to ? ` to run ${to.runId} (stage "${to.stageId}")` : ''}: another run took over this key`);
    this.name = 'LeaseLostError';
  }
}

/** A lease this caller holds, while it computes. */
export interface HeldLease {
  /** Aborted when the lease is lost (or the caller's signal aborts). */
  readonly signal: AbortSignal;
  /** Throws LeaseLostError unless this caller still holds the lease: call it right before committing. */
  assertHeld(): Promise<void>;
}

export interface SingleFlight<T> {
  storage: Storage;
  /** The unit's lease folder (cacheLayout.leaseFolder). */
  folder: string;
  holder: LeaseHolder;
  timing: LeaseTiming;
  signal?: AbortSignal;
  /** The unit's committed result, if any; `joined` is the holder whose work it is, when we waited for it. */
  committed(joined: LeaseHolder | null): Promise<T | null>;
  /** Computes and commits the unit (only while holding the lease). */
  compute(lease: HeldLease): Promise<T>;
  /** Called while waiting for another holder. */
  onWait?(holder: LeaseHolder): void;
}

/** The unit's result: computed here, or committed by another run while this one waited. */
export async function singleFlight<T>(o: SingleFlight<T>): Promise<T> {
  let waitedFor: LeaseHolder | null = null;
  for (;;) {
    const taken = await acquire(o.storage, o.folder, o.holder, o.timing.ttlMs);
    if (taken.held) {
      // The previous holder may have committed and left between our look and our acquiring.
      const done = await o.committed(waitedFor);
      if (done !== null) {
        await release(o.storage, o.folder, taken.generation);
        return done;
      }
      return await computeHolding(o, taken.generation);
    }
    waitedFor = taken.by;
    o.onWait?.(taken.by);
    await sleep(o.timing.pollMs, undefined, o.signal ? { signal: o.signal } : {});
    const done = await o.committed(waitedFor);
    if (done !== null) return done;
  }
}

async function computeHolding<T>(o: SingleFlight<T>, generation: number): Promise<T> {
  const lost = new AbortController();
  const signal = o.signal ? AbortSignal.any([o.signal, lost.signal]) : lost.signal;
  const check = async (): Promise<void> => {
    const current = await latest(o.storage, o.folder);
    if (current?.generation !== generation) throw new LeaseLostError(o.folder, current?.record?.holder ?? null);
  };
  const renew = async () => {
    try {
      await check();
      await o.storage.put(generationKey(o.folder, generation), recordOf(o.holder, o.timing.ttlMs));
    } catch (err) {
      lost.abort(err);
    }
  };
  const timer = setInterval(() => void renew(), Math.max(50, o.timing.ttlMs / 3));
  try {
    return await o.compute({ signal, assertHeld: check });
  } finally {
    clearInterval(timer);
    await release(o.storage, o.folder, generation);
  }
}

type Acquired = { held: true; generation: number } | { held: false; by: LeaseHolder };

async function acquire(storage: Storage, folder: string, holder: LeaseHolder, ttlMs: number): Promise<Acquired> {
  for (;;) {
    const current = await latest(storage, folder);
    const record = current?.record;
    if (current && record && !givenUp(record, holder)) return { held: false, by: record.holder };
    const generation = current ? current.generation + 1 : 0;
    if (await storage.putIfAbsent(generationKey(folder, generation), recordOf(holder, ttlMs))) return { held: true, generation };
    // Another caller won this generation: look again.
  }
}

/** Expired, or left by an earlier attempt of the same run and stage (which Temporal has given up). */
function givenUp(record: LeaseRecord, by: LeaseHolder): boolean {
  if (Date.now() - record.renewedAt > record.ttlMs) return true;
  return record.holder.runId === by.runId && record.holder.stageId === by.stageId;
}

/** Drops the lease if it is still ours (a newer generation belongs to someone else). */
async function release(storage: Storage, folder: string, generation: number): Promise<void> {
  const current = await latest(storage, folder);
  if (current?.generation === generation) await storage.deletePrefix(asPrefix(folder));
}

/** The newest generation and its record (null while it is unreadable, e.g. being deleted). */
async function latest(storage: Storage, folder: string): Promise<{ generation: number; record: LeaseRecord | null } | null> {
  const objects = await storage.list(asPrefix(folder));
  const newest = objects.map((o) => o.key).filter((k) => /\/\d{8}\.json$/.test(k)).sort().pop();
  if (!newest) return null;
  const generation = Number(newest.slice(-13, -5));
  try {
    const parsed = LeaseRecord.safeParse(JSON.parse(Buffer.from(await storage.get(newest)).toString('utf8')));
    return { generation, record: parsed.success ? parsed.data : null };
  } catch (err) {
    if (err instanceof StorageNotFoundError || err instanceof SyntaxError) return { generation, record: null };
    throw err;
  }
}

const generationKey = (folder: string, generation: number) => `${folder}/${String(generation).padStart(8, '0')}.json`;
const recordOf = (holder: LeaseHolder, ttlMs: number) => JSON.stringify({ holder, renewedAt: Date.now(), ttlMs } satisfies LeaseRecord);
