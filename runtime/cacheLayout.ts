/**
 * Where a stage's objects live in storage. Everything under a stage's cache
 * folder is derived from its cache key, so retries and re-runs write the same
 * keys (idempotence), and a folder without `manifest.json` is uncommitted.
 *
 *   cache/<kind>/<key>/manifest.json          committed last
 *   cache/<kind>/<key>/data/<name>            stage outputs
 *   cache/<kind>/<key>/plan.json              fan-out shard list
 *   cache/<kind>/<key>/prepass/<i>.json, prepared.json   fan-out prepass results, merged
 *   cache/<kind>/<key>/shards/<i>/manifest.json, shards/<i>/data/<name>
 *   runs/<pipeline>/<stageId>.json            last key per stage (for "why it ran")
 *   checkpoints/<kind>/<key>[/shards/<i>][/forced-<run>]/...   progress a retried
 *                                              attempt resumes from; outside the stage
 *                                              folder (which a retry wipes), dropped on commit
 *   leases/<kind>/<key>[/<unit>]/<generation>.json   who is computing a key (or a shard of
 *                                              it) right now; see keyLease.ts; dropped on commit
 *   cache/<kind>/<key>/sources.json           external files the stage resolved (resolveSources)
 *
 * Content-addressed objects live outside any stage's folder, under
 * `content/<kind>-<area>/`, named by the hash of what they depend on (with the
 * kind's code version), so any stage or run whose work includes the same
 * piece reuses it; a stage manifest may name outputs there. Nothing deletes
 * them yet (they are small next to the outputs they save recomputing).
 *
 *   content/<kind>-shards/<hash>/result.json, data/<name>   a fan-out shard's result
 *                                              (shardContentKey), reused by every stage
 *                                              whose plan has that shard: e.g. ingest's
 *                                              per-file parts
 *   content/<kind>-prepass/<hash>.json         a prepass shard's result (prepass.contentKey),
 *                                              e.g. features' per-part statistics
 *   content/<kind>-<area>/<hash>.json          ctx.memo values (e.g. ingest-entries)
 *   content/tune-samples/<hash>.bin, content/tune-trials/<hash>.json   the tune kind's own
 *   leases/content/<kind>-shards/<hash>/…      who is computing a content shard right now
 *
 * Folders are returned without a trailing '/'; `asPrefix` adds it for listing.
 */
import { joinKey } from '../storage/index.js';

export const asPrefix = (folder: string) => `${folder}/`;
export const stageFolder = (kind: string, key: string) => joinKey('cache', kind, key);
export const manifestKey = (kind: string, key: string) => joinKey(stageFolder(kind, key), 'manifest.json');
export const dataFolder = (kind: string, key: string) => joinKey(stageFolder(kind, key), 'data');
export const planKey = (kind: string, key: string) => joinKey(stageFolder(kind, key), 'plan.json');
export const shardFolder = (kind: string, key: string, index: number) =>
  joinKey(stageFolder(kind, key), 'shards', String(index).padStart(5, '0'));
export const shardManifestKey = (kind: string, key: string, index: number) =>
  joinKey(shardFolder(kind, key, index), 'manifest.json');
export const shardDataFolder = (kind: string, key: string, index: number) => joinKey(shardFolder(kind, key, index), 'data');
export const prepassFolder = (kind: string, key: string) => joinKey(stageFolder(kind, key), 'prepass');
export const prepassShardKey = (kind: string, key: string, index: number) =>
  joinKey(prepassFolder(kind, key), `${String(index).padStart(5, '0')}.json`);
export const preparedKey = (kind: string, key: string) => joinKey(stageFolder(kind, key), 'prepared.json');
export const lastRunKey = (pipeline: string, stageId: string) => joinKey('runs', pipeline, `${stageId}.json`);
/** Survives retries of the same stage (or shard); a forced run gets its own, so it starts from scratch. */
export const checkpointFolder = (kind: string, key: string, opts: { shard?: number; forcedRun?: string } = {}) =>
  joinKey('checkpoints', kind, key, ...(opts.shard !== undefined ? ['shards', String(opts.shard).padStart(5, '0')] : []), ...(opts.forcedRun ? [`forced-${opts.forcedRun}`] : []));
/** The lease folder of a unit of work on a key: the stage itself, or `shard-<i>` / `prepass-<i>` of a fan-out. */
export const leaseFolder = (kind: string, key: string, unit?: string) => joinKey('leases', kind, key, ...(unit ? [unit] : []));
export const sourcesKey = (kind: string, key: string) => joinKey(stageFolder(kind, key), 'sources.json');
/** A prepass shard whose result came from the content cache leaves this marker (counted at commit). */
export const prepassReusedKey = (kind: string, key: string, index: number) =>
  joinKey(prepassFolder(kind, key), `${String(index).padStart(5, '0')}.reused`);
export const contentFolder = (kind: string, area: string) => joinKey('content', `${kind}-${area}`);
export const contentShardFolder = (kind: string, hash: string) => joinKey(contentFolder(kind, 'shards'), hash);
export const contentShardRecordKey = (kind: string, hash: string) => joinKey(contentShardFolder(kind, hash), 'result.json');
export const contentShardDataFolder = (kind: string, hash: string) => joinKey(contentShardFolder(kind, hash), 'data');
export const contentMemoKey = (kind: string, area: string, hash: string) => joinKey(contentFolder(kind, area), `${hash}.json`);
export const contentLeaseFolder = (kind: string, hash: string) => joinKey('leases', 'content', `${kind}-shards`, hash);
