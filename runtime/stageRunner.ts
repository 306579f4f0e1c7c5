/**
 * Runs one stage against storage, independent of Temporal: cache look-up,
 * the stage kind's code, then the commit (data objects first, manifest last).
 * Activities are thin wrappers over these functions.
 */
import { hostname } from 'node:os';
import type { Storage } from '../storage/index.js';
import { StorageNotFoundError } from '../storage/index.js';
import { StageManifest, type JsonValue, type OutputEntry, type SourceRecord } from '../protocol/manifest.js';
import type { FanoutPlan, InputRef, ResolvedStage, ShardOutcome, StageOutcome, StageProgressSignal, StageRequest } from '../protocol/protocol.js';
import { MAX_OUTCOME_OUTPUTS, MAX_OUTCOME_SUMMARY_CHARS } from '../protocol/protocol.js';
import type { FanoutStageKind, Progress, ShardResult, SimpleStageKind, StageContext, StageKind, StageResult } from '../stages/kind.js';
import type { KindRegistry } from '../stages/registry.js';
import { hashJson } from '../common/hash.js';
import * as layout from './cacheLayout.js';
import { RecordingOutputWriter } from './outputWriter.js';
import { explainRun, recordLastRun } from './decisions.js';
import { BadInputError } from '../common/errors.js';
import { damageOf } from './intact.js';
import { DEFAULT_LEASE_TIMING, singleFlight, type HeldLease, type LeaseHolder, type LeaseTiming } from './keyLease.js';
import { contentHash, contentShard, memo } from './contentCache.js';
import { readJson } from './storedJson.js';
import { commitReusable } from './planReuse.js';

export interface RunnerEnv {
  registry: KindRegistry;
  storage: Storage;
  /** Called with every progress report (heartbeats, live details). */
  onProgress?: (p: StageProgressSignal) => void;
  signal?: AbortSignal;
  log?: (message: string) => void;
  /** Lease expiry and polling for single flight per key (keyLease.ts); defaults suit production. */
  leaseTiming?: LeaseTiming;
}

export const workerIdentity = () => `${hostname()}:${process.pid}`;

/** Cache key: kind and code version, resolved params, the content of every input, and the external files resolved (if the kind has any). */
export function stageKey(stage: ResolvedStage, inputs: Record<string, InputRef>, sources?: SourceRecord[]): string {
  const inputHashes = Object.fromEntries(Object.entries(inputs).map(([id, ref]) => [id, ref.contentHash]));
  return hashJson({ kind: stage.uses, version: stage.kindVersion, with: stage.with, inputs: inputHashes, ...(sources ? { sources: hashJson(sources) } : {}) });
}

/** The stage's key; a kind that reads external files lists them first (runtime/sources.ts). */
async function resolveKey(req: StageRequest, kind: StageKind, env: RunnerEnv): Promise<{ key: string; sources?: SourceRecord[] }> {
  if (!kind.resolveSources) return { key: stageKey(req.stage, req.inputs) };
  const inputs = await loadInputs(env.storage, req.inputs);
  const { output: _unused, ...ctx } = makeContext(req, kind, inputs, new RecordingOutputWriter(env.storage, 'unused'), env, Date.now(), 'unused');
  const sources = await kind.resolveSources(ctx);
  return { key: stageKey(req.stage, req.inputs, sources), sources };
}

/** Keeps the resolved list with the stage (for its manifest and the next run's "what changed"). */
async function keepSources(storage: Storage, req: StageRequest, key: string, sources: SourceRecord[] | undefined): Promise<void> {
  if (sources) await storage.put(layout.sourcesKey(req.stage.uses, key), JSON.stringify(sources));
}

/** A manifest counts only if it exists and parses; anything else is uncommitted. */
export async function readCommittedManifest(storage: Storage, key: string): Promise<StageManifest | null> {
  let bytes: Uint8Array;
  try {
    bytes = await storage.get(key);
  } catch (err) {
    if (err instanceof StorageNotFoundError) return null;
    throw err;
  }
  const parsed = StageManifest.safeParse(JSON.parse(Buffer.from(bytes).toString('utf8')));
  return parsed.success ? parsed.data : null;
}

/** The committed outcome for this request's key, or null: lets the workflow skip dispatching cached stages. */
export async function lookupCached(req: StageRequest, env: Pick<RunnerEnv, 'storage'> & Partial<RunnerEnv>): Promise<StageOutcome | null> {
  const kind = env.registry?.get(req.stage.uses);
  if (!kind?.resolveSources || kind.version !== req.stage.kindVersion) return cachedOutcome(req, env.storage, stageKey(req.stage, req.inputs));
  const { key } = await resolveKey(req, kind, { ...env, registry: env.registry! });
  return cachedOutcome(req, env.storage, key);
}

export async function runSimpleStage(req: StageRequest, env: RunnerEnv): Promise<StageOutcome> {
  const started = Date.now();
  const kind = kindOf(env.registry, req.stage, 'simple');
  const inputs = await loadInputs(env.storage, req.inputs);
  const { key, sources } = await resolveKey(req, kind, env);
  const mKey = layout.manifestKey(req.stage.uses, key);

  return onlyOnce(req, env, key, undefined, (joined) => cachedOutcome(req, env.storage, key, joined), async (lease) => {
    const reason = await whyRun(env.storage, req, key, sources);
    await wipeUncommitted(env.storage, layout.stageFolder(req.stage.uses, key), mKey);
    await keepSources(env.storage, req, key, sources);
    const writer = new RecordingOutputWriter(env.storage, layout.dataFolder(req.stage.uses, key));
    const checkpoints = checkpointFolderFor(req, key);
    const ctx = makeContext(req, kind, inputs, writer, { ...env, signal: lease.signal }, started, checkpoints);
    const result = await kind.run({ ...ctx, ...(sources ? { sources } : {}) });
    const manifest = buildManifest(req, key, writer.outputs(), result, inputs, started, sources ? { sources } : {});
    await lease.assertHeld();
    await commit(env.storage, mKey, manifest);
    await env.storage.deletePrefix(layout.asPrefix(checkpoints));
    await recordLastRun(env.storage, req, key);
    return outcomeOf(manifest, env.storage, mKey, 'completed', reason);
  });
}

/** Fan-out step 1: cache check, then the shard list (kept in storage, reused on resume). */
export async function planFanout(req: StageRequest, env: RunnerEnv): Promise<{ cached: StageOutcome } | { plan: FanoutPlan }> {
  const kind = kindOf(env.registry, req.stage, 'fanout');
  const { key, sources } = await resolveKey(req, kind, env);
  const cachedPlan = async (joined: LeaseHolder | null): Promise<{ cached: StageOutcome } | { plan: FanoutPlan } | null> => {
    const cached = await cachedOutcome(req, env.storage, key, joined);
    return cached ? { cached } : null;
  };
  return onlyOnce(req, env, key, 'plan', cachedPlan, async (lease) => {
    const damaged = await damagedCommit(env.storage, req, key);
    const reason = damaged ?? (await explainRun(env.storage, req, key, sources));
    const folder = layout.stageFolder(req.stage.uses, key);
    // A damaged commit is redone whole, as a forced one: its shards' outputs may be what is missing.
    if (req.force || damaged) await wipeUncommitted(env.storage, folder, layout.manifestKey(req.stage.uses, key));
    await keepSources(env.storage, req, key, sources);

    const pKey = layout.planKey(req.stage.uses, key);
    let shards = await readJson<JsonValue[]>(env.storage, pKey);
    if (!shards) {
      const inputs = await loadInputs(env.storage, req.inputs);
      const { output: _unused, ...ctx } = makeContext(req, kind, inputs, new RecordingOutputWriter(env.storage, folder), { ...env, signal: lease.signal }, Date.now(), checkpointFolderFor(req, key));
      shards = await kind.plan({ ...ctx, ...(sources ? { sources } : {}) });
      await lease.assertHeld();
      await env.storage.put(pKey, JSON.stringify(shards));
    }
    const w = parseWith(kind, req.stage);
    const window = Math.max(1, kind.window ? kind.window(w) : defaultWindow(req.stage.with));
    // Shards already in the content cache are committed now and not dispatched (a forced stage recomputes them).
    const reuse = req.force ? null : await commitReusable(env.storage, kind, key, w, shards);
    const planned: FanoutPlan = { key, shardCount: shards.length, window, reason, ...(kind.prepass ? { prepass: true } : {}), ...(kind.nextRound ? { rounds: true } : {}) };
    if (reuse?.done.length) planned.done = reuse.done;
    if (reuse?.prepassReady.length) planned.prepassReady = reuse.prepassReady;
    return { plan: planned };
  });
}

/**
 * Fan-out rounds: once the `plan.shardCount` shards planned so far are done,
 * the kind's nextRound decides the next shards from their results; they are
 * appended to plan.json. Returns the plan with its new shard count (unchanged
 * when the kind is done). A resumed call finds the round already appended.
 */
export async function planNextRound(req: StageRequest, plan: FanoutPlan, env: RunnerEnv): Promise<FanoutPlan> {
  const kind = kindOf(env.registry, req.stage, 'fanout');
  if (!kind.nextRound) return plan;
  const nextRound = kind.nextRound.bind(kind);
  const pKey = layout.planKey(req.stage.uses, plan.key);
  const grown = async () => {
    const shards = await readJson<JsonValue[]>(env.storage, pKey);
    return shards && shards.length > plan.shardCount ? { ...plan, shardCount: shards.length } : null;
  };
  return onlyOnce(req, env, plan.key, `round-after-${plan.shardCount}`, grown, async (lease) => {
    const shards = await readJson<JsonValue[]>(env.storage, pKey);
    if (!shards || shards.length < plan.shardCount) throw new Error(`fan-out plan for stage "${req.stage.id}" has fewer shards than its ${plan.shardCount}`);
    const done = [];
    for (let i = 0; i < plan.shardCount; i++) {
      const result = await readJson<ShardResult>(env.storage, layout.shardManifestKey(req.stage.uses, plan.key, i));
      if (!result) throw new Error(`stage "${req.stage.id}": shard ${i} has no committed manifest`);
      done.push({ shard: shards[i] as JsonValue, result });
    }
    const inputs = await loadInputs(env.storage, req.inputs);
    const { output: _unused, ...ctx } = makeContext(req, kind, inputs, new RecordingOutputWriter(env.storage, layout.stageFolder(req.stage.uses, plan.key)), { ...env, signal: lease.signal }, Date.now(), checkpointFolderFor(req, plan.key));
    const next = await nextRound(ctx, done);
    if (next.length === 0) return plan;
    await lease.assertHeld();
    await env.storage.put(pKey, JSON.stringify([...shards.slice(0, plan.shardCount), ...next]));
    return { ...plan, shardCount: plan.shardCount + next.length };
  });
}

/**
 * Fan-out prepass, one shard: its result is stored; an existing one makes this
 * a no-op. With the kind's prepass.contentKey, a result stored by any earlier
 * stage for the same content is reused (and marked, for the manifest's counts).
 */
export async function runPrepassShard(req: StageRequest, key: string, index: number, env: RunnerEnv): Promise<void> {
  const kind = kindOf(env.registry, req.stage, 'fanout');
  if (!kind.prepass) throw new Error(`stage "${req.stage.id}": kind "${kind.name}" has no prepass`);
  const prepass = kind.prepass;
  const rKey = layout.prepassShardKey(req.stage.uses, key, index);
  const stored = async () => ((await env.storage.stat(rKey)) ? true : null);
  await onlyOnce(req, env, key, `prepass-${index}`, stored, async (lease) => {
    const shard = await shardOf(req, key, index, env);
    const inputs = await loadInputs(env.storage, req.inputs);
    const { output: _unused, ...ctx } = makeContext(req, kind, inputs, new RecordingOutputWriter(env.storage, layout.stageFolder(req.stage.uses, key)), { ...env, signal: lease.signal }, Date.now(), checkpointFolderFor(req, key));
    const compute = () => prepass.runShard(ctx, shard, index);
    const { value, reused } = prepass.contentKey
      ? await memo(env.storage, kind, 'prepass', prepass.contentKey(ctx.with, shard), !!req.force, compute)
      : { value: await compute(), reused: false };
    await lease.assertHeld();
    if (reused) await env.storage.put(layout.prepassReusedKey(req.stage.uses, key, index), '{}');
    await env.storage.put(rKey, JSON.stringify(value));
    return true;
  });
}

/** Fan-out prepass, merge: all shard results into prepared.json (once). */
export async function mergePrepass(req: StageRequest, plan: FanoutPlan, env: RunnerEnv): Promise<void> {
  const kind = kindOf(env.registry, req.stage, 'fanout');
  if (!kind.prepass) throw new Error(`stage "${req.stage.id}": kind "${kind.name}" has no prepass`);
  const pKey = layout.preparedKey(req.stage.uses, plan.key);
  if (await env.storage.stat(pKey)) return;
  const results: JsonValue[] = [];
  for (let i = 0; i < plan.shardCount; i++) {
    const r = await readJson<JsonValue>(env.storage, layout.prepassShardKey(req.stage.uses, plan.key, i));
    if (r === null) throw new Error(`stage "${req.stage.id}": prepass shard ${i} has no result`);
    results.push(r);
  }
  const inputs = await loadInputs(env.storage, req.inputs);
  const { output: _unused, ...ctx } = makeContext(req, kind, inputs, new RecordingOutputWriter(env.storage, layout.stageFolder(req.stage.uses, plan.key)), env, Date.now(), checkpointFolderFor(req, plan.key));
  await env.storage.put(pKey, JSON.stringify(await kind.prepass.merge(ctx, results)));
}

async function shardOf(req: StageRequest, key: string, index: number, env: RunnerEnv): Promise<JsonValue> {
  const shards = await readJson<JsonValue[]>(env.storage, layout.planKey(req.stage.uses, key));
  if (!shards || index >= shards.length) throw new Error(`fan-out plan for stage "${req.stage.id}" is missing shard ${index}`);
  return shards[index] as JsonValue;
}

/** The merged prepass result, for kinds that have one. */
async function preparedOf(req: StageRequest, kind: FanoutStageKind, key: string, storage: Storage): Promise<JsonValue | undefined> {
  if (!kind.prepass) return undefined;
  const prepared = await readJson<JsonValue>(storage, layout.preparedKey(req.stage.uses, key));
  if (prepared === null) throw new Error(`stage "${req.stage.id}": the prepass has not been merged`);
  return prepared;
}

/**
 * Fan-out step 2: one shard; a committed shard manifest makes it a no-op
 * (resume). A kind with shardContentKey has the result kept in (or taken
 * from) the shard-level content cache (contentCache.ts).
 */
export async function runShard(req: StageRequest, key: string, index: number, env: RunnerEnv): Promise<ShardOutcome> {
  const started = Date.now();
  const kind = kindOf(env.registry, req.stage, 'fanout');
  const smKey = layout.shardManifestKey(req.stage.uses, key, index);
  const committedShard = async (): Promise<ShardOutcome | null> => {
    const existing = await readJson<ShardResult>(env.storage, smKey);
    return existing ? { index, worker: existing.worker, cached: true, ...(existing.note ? { note: existing.note } : {}) } : null;
  };
  return onlyOnce(req, env, key, `shard-${index}`, committedShard, async (lease) => {
    const shard = await shardOf(req, key, index, env);
    await wipeUncommitted(env.storage, layout.shardFolder(req.stage.uses, key, index), smKey);
    const inputs = await loadInputs(env.storage, req.inputs);
    const prepared = await preparedOf(req, kind, key, env.storage);
    const checkpoints = checkpointFolderFor(req, key, index);
    const run = (writer: RecordingOutputWriter, signal: AbortSignal, hash?: string) => kind.runShard({
      ...makeContext(req, kind, inputs, writer, { ...env, signal }, started, checkpoints),
      ...(prepared !== undefined ? { prepared } : {}),
      ...(hash !== undefined ? { shardContentHash: hash } : {}),
    }, shard, index);
    let done: ShardResult;
    const contentKey = kind.shardContentKey?.(parseWith(kind, req.stage), shard) ?? null;
    if (contentKey !== null) {
      const hash = contentHash(kind, contentKey);
      const holder = { runId: req.runId, stageId: req.stage.id, worker: workerIdentity() };
      const { record, reused } = await contentShard(
        { storage: env.storage, kind: kind.name, hash, forced: !!req.force, holder, timing: env.leaseTiming ?? DEFAULT_LEASE_TIMING, signal: lease.signal },
        (writer, signal) => run(writer, signal, hash),
      );
      done = { index, outputs: record.outputs, counts: record.counts, worker: record.worker, ...(record.summary !== undefined ? { summary: record.summary } : {}), ...(record.note ? { note: record.note } : {}), ...(reused ? { reused } : {}) };
    } else {
      const writer = new RecordingOutputWriter(env.storage, layout.shardDataFolder(req.stage.uses, key, index));
      const result = await run(writer, lease.signal);
      done = { index, outputs: writer.outputs(), counts: result.counts ?? {}, worker: workerIdentity(), ...(result.summary !== undefined ? { summary: result.summary } : {}), ...(result.note ? { note: result.note } : {}) };
    }
    await lease.assertHeld();
    await env.storage.put(smKey, JSON.stringify(done));
    await env.storage.deletePrefix(layout.asPrefix(checkpoints));
    return { index, worker: done.worker, cached: !!done.reused, ...(done.note ? { note: done.note } : {}) };
  });
}

/** Fan-out step 3: gather shard manifests, optionally combine, commit the stage manifest. */
export async function commitFanout(req: StageRequest, plan: FanoutPlan, startedAt: number, env: RunnerEnv): Promise<StageOutcome> {
  const kind = kindOf(env.registry, req.stage, 'fanout');
  const { key } = plan;
  const mKey = layout.manifestKey(req.stage.uses, key);
  const committedStage = async () => {
    const existing = await readCommittedManifest(env.storage, mKey);
    return existing ? outcomeOf(existing, env.storage, mKey, 'completed', withReuse(plan.reason, existing.reuse)) : null;
  };
  return onlyOnce(req, env, key, 'commit', committedStage, (lease) => combineAndCommit(req, kind, plan, startedAt, { ...env, signal: lease.signal }, lease));
}

async function combineAndCommit(req: StageRequest, kind: FanoutStageKind, plan: FanoutPlan, startedAt: number, env: RunnerEnv, lease: HeldLease): Promise<StageOutcome> {
  const { key } = plan;
  const mKey = layout.manifestKey(req.stage.uses, key);
  const shards: ShardResult[] = [];
  for (let i = 0; i < plan.shardCount; i++) {
    const shard = await readJson<ShardResult>(env.storage, layout.shardManifestKey(req.stage.uses, key, i));
    if (!shard) throw new Error(`stage "${req.stage.id}": shard ${i} has no committed manifest`);
    shards.push(shard);
  }
  const inputs = await loadInputs(env.storage, req.inputs);
  const writer = new RecordingOutputWriter(env.storage, layout.dataFolder(req.stage.uses, key));
  let combined: StageResult = {};
  if (kind.combine) {
    await env.storage.deletePrefix(layout.asPrefix(layout.dataFolder(req.stage.uses, key)));
    const prepared = await preparedOf(req, kind, key, env.storage);
    combined = await kind.combine({ ...makeContext(req, kind, inputs, writer, env, startedAt, checkpointFolderFor(req, key)), ...(prepared !== undefined ? { prepared } : {}) }, shards);
  }
  const outputs = [...shards.flatMap((s) => s.outputs), ...writer.outputs()];
  // combine() may report the stage's totals itself; otherwise the shards' counts are summed.
  const counts = combined.counts ?? sumCounts(shards.map((s) => s.counts));
  const sources = await readJson<SourceRecord[]>(env.storage, layout.sourcesKey(req.stage.uses, key));
  const reuse = await reuseOf(req, kind, key, shards, env.storage);
  const extra = { ...(sources ? { sources } : {}), ...(reuse ? { reuse } : {}) };
  const manifest = buildManifest(req, key, outputs, { counts, ...(combined.summary !== undefined ? { summary: combined.summary } : {}), ...(combined.report !== undefined ? { report: combined.report } : {}) }, inputs, startedAt, extra);
  await lease.assertHeld();
  await commit(env.storage, mKey, manifest);
  // What the stage kept across shards and rounds (e.g. distributed training's round checkpoints).
  await env.storage.deletePrefix(layout.asPrefix(checkpointFolderFor(req, key)));
  await recordLastRun(env.storage, req, key);
  return outcomeOf(manifest, env.storage, mKey, 'completed', withReuse(plan.reason, reuse));
}

/** "…; 1 shard run, 1,000 reused from the content cache" (and the prepass's): what a re-run actually did. */
function withReuse(reason: string, reuse: StageManifest['reuse']): string {
  if (!reuse) return reason;
  const n = (x: number) => x.toLocaleString('en-US');
  const prepass = reuse.prepassReused !== undefined ? `; prepass: ${n(reuse.shards - reuse.prepassReused)} run, ${n(reuse.prepassReused)} reused` : '';
  return `${reason}; ${n(reuse.shards - reuse.reused)} shard${reuse.shards - reuse.reused === 1 ? '' : 's'} run, ${n(reuse.reused)} reused from the content cache${prepass}`;
}

/** How many shards (and prepass shards) came from the content cache; undefined for kinds without one. */
async function reuseOf(req: StageRequest, kind: FanoutStageKind, key: string, shards: ShardResult[], storage: Storage): Promise<StageManifest['reuse']> {
  if (!kind.shardContentKey && !kind.prepass?.contentKey) return undefined;
  const reused = shards.filter((s) => s.reused).length;
  if (!kind.prepass?.contentKey) return { shards: shards.length, reused };
  const marks = await storage.list(layout.asPrefix(layout.prepassFolder(req.stage.uses, key)));
  return { shards: shards.length, reused, prepassReused: marks.filter((o) => o.key.endsWith('.reused')).length };
}

// ---------------------------------------------------------------------------

/** The committed outcome of the key (none for a forced stage); `joined`: the run whose computation this one waited for. */
async function cachedOutcome(req: StageRequest, storage: Storage, key: string, joined: LeaseHolder | null = null): Promise<StageOutcome | null> {
  if (req.force) return null;
  const mKey = layout.manifestKey(req.stage.uses, key);
  const manifest = await readCommittedManifest(storage, mKey);
  if (!manifest || (await damageOf(storage, manifest))) return null;
  await recordLastRun(storage, req, key);
  const reason = joined
    ? `joined: run ${joined.runId} (stage "${joined.stageId}") was computing this key; reused its result (key ${key.slice(0, 12)})`
    : `cached: same kind version, params and inputs${manifest.sources ? ` (and the same ${manifest.sources.length} source files: nothing new)` : ''} as the run of ${manifest.createdAt} (key ${key.slice(0, 12)})`;
  return outcomeOf(manifest, storage, mKey, 'cached', reason);
}

/** Why a stage with no usable cache entry runs: its commit is damaged, or explainRun's reason. */
async function whyRun(storage: Storage, req: StageRequest, key: string, sources?: SourceRecord[]): Promise<string> {
  return (await damagedCommit(storage, req, key)) ?? explainRun(storage, req, key, sources);
}

/** The reason to redo a committed stage whose outputs are missing or damaged, or null. */
async function damagedCommit(storage: Storage, req: StageRequest, key: string): Promise<string | null> {
  if (req.force) return null;
  const manifest = await readCommittedManifest(storage, layout.manifestKey(req.stage.uses, key));
  const damage = manifest && (await damageOf(storage, manifest));
  return damage ? `committed outputs missing or damaged (${damage}); recomputing` : null;
}

/**
 * Runs `compute` as the only computation of a unit of a key (the stage, or
 * `unit`: its plan, a shard, the commit) across runs; a run that finds
 * another computing it waits and returns `committed` (keyLease.ts).
 */
function onlyOnce<T>(req: StageRequest, env: RunnerEnv, key: string, unit: string | undefined, committed: (joined: LeaseHolder | null) => Promise<T | null>, compute: (lease: HeldLease) => Promise<T>): Promise<T> {
  return singleFlight({
    storage: env.storage,
    folder: layout.leaseFolder(req.stage.uses, key, unit),
    holder: { runId: req.runId, stageId: req.stage.id, worker: workerIdentity() },
    timing: env.leaseTiming ?? DEFAULT_LEASE_TIMING,
    ...(env.signal ? { signal: env.signal } : {}),
    committed,
    compute,
    onWait: (h) => env.onProgress?.({ stageId: req.stage.id, done: 0, message: `waiting: run ${h.runId} (stage "${h.stageId}") is computing ${unit ? `its ${unit}` : 'this key'}` }),
  });
}

/**
 * Removes what an interrupted writer left under an uncommitted folder. With
 * --force the old manifest goes first, so no reader trusts data being rewritten.
 */
async function wipeUncommitted(storage: Storage, folder: string, mKey: string): Promise<void> {
  await storage.delete(mKey);
  await storage.deletePrefix(layout.asPrefix(folder));
}

async function commit(storage: Storage, mKey: string, manifest: StageManifest): Promise<void> {
  await storage.put(mKey, JSON.stringify(manifest, null, 1));
}

function kindOf(registry: KindRegistry, stage: ResolvedStage, type: 'simple'): SimpleStageKind;
function kindOf(registry: KindRegistry, stage: ResolvedStage, type: 'fanout'): FanoutStageKind;
function kindOf(registry: KindRegistry, stage: ResolvedStage, type: StageKind['type']): StageKind {
  const kind = registry.get(stage.uses);
  if (!kind) throw new BadInputError(`stage "${stage.id}": this worker does not know stage kind "${stage.uses}" (known: ${registry.names().join(', ')})`);
  if (kind.version !== stage.kindVersion) {
    throw new BadInputError(`stage "${stage.id}": kind "${stage.uses}" is version ${kind.version} on this worker but the run was planned with ${stage.kindVersion}; upgrade or restart workers so they agree`);
  }
  // A simple kind may run as a fan-out for some params (fanoutFor); the plan said which.
  const fanout = type === 'fanout' && kind.type === 'simple' ? kind.fanoutFor?.(parseWith(kind, stage)) : undefined;
  if (fanout) return fanout;
  if (kind.type !== type) throw new BadInputError(`stage "${stage.id}": kind "${stage.uses}" is a ${kind.type} kind, not ${type}`);
  return kind;
}

function parseWith<W>(kind: StageKind<W>, stage: ResolvedStage): W {
  const parsed = kind.withSchema.safeParse(stage.with);
  if (!parsed.success) throw new BadInputError(`stage "${stage.id}": invalid "with": ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return parsed.data;
}

function defaultWindow(w: Record<string, unknown>): number {
  return typeof w.window === 'number' ? w.window : 8;
}

async function loadInputs(storage: Storage, refs: Record<string, InputRef>): Promise<Record<string, StageManifest>> {
  const out: Record<string, StageManifest> = {};
  for (const [id, ref] of Object.entries(refs)) {
    const manifest = await readCommittedManifest(storage, ref.manifestKey);
    if (!manifest) throw new Error(`input "${id}": no committed manifest at ${storage.uri(ref.manifestKey)} (was it deleted?)`);
    if (manifest.contentHash !== ref.contentHash) {
      throw new BadInputError(
        `input "${id}": the manifest at ${storage.uri(ref.manifestKey)} has content hash ${manifest.contentHash}, but this stage's key was computed from ${ref.contentHash}: ` +
          'the input was recomputed or overwritten since this run read it; resume the run to use the current one',
      );
    }
    out[id] = manifest;
  }
  return out;
}


/** A forced run must not resume an earlier run's progress; its retries share one folder. */
function checkpointFolderFor(req: StageRequest, key: string, shard?: number): string {
  return layout.checkpointFolder(req.stage.uses, key, { ...(shard !== undefined ? { shard } : {}), ...(req.force ? { forcedRun: hashJson(req.runId).slice(0, 16) } : {}) });
}

function makeContext<W>(
  req: StageRequest,
  kind: StageKind<W>,
  inputs: Record<string, StageManifest>,
  output: RecordingOutputWriter,
  env: RunnerEnv,
  started: number,
  checkpointFolder: string,
): StageContext<W> {
  return {
    stageId: req.stage.id,
    with: parseWith(kind, req.stage),
    inputs,
    storage: env.storage,
    output,
    checkpointFolder,
    progress: (p: Progress) => env.onProgress?.(withRate(req.stage.id, p, started)),
    signal: env.signal ?? new AbortController().signal,
    forced: req.force,
    memo: async (area, key, compute) => (await memo(env.storage, kind, area, key, !!req.force, compute)).value,
    log: (m) => env.log?.(`[${req.stage.id}] ${m}`),
  };
}

function withRate(stageId: string, p: Progress, started: number): StageProgressSignal {
  const secs = (Date.now() - started) / 1000;
  return { stageId, ...p, ...(secs > 0.5 ? { rate: p.done / secs } : {}) };
}

function buildManifest(
  req: StageRequest,
  key: string,
  outputs: OutputEntry[],
  result: StageResult,
  inputs: Record<string, StageManifest>,
  started: number,
  extra: Pick<StageManifest, 'sources' | 'reuse'> = {},
): StageManifest {
  const counts = result.counts ?? {};
  return {
    format: 'topoflow.stage/1',
    stageId: req.stage.id,
    kind: req.stage.uses,
    kindVersion: req.stage.kindVersion,
    key,
    contentHash: hashJson({ outputs: outputs.filter((o) => !o.volatile).map((o) => [o.name, o.sha256]), counts, summary: result.summary ?? null }),
    with: req.stage.with,
    inputs: Object.fromEntries(Object.entries(inputs).map(([id, m]) => [id, m.contentHash])),
    outputs,
    counts,
    ...(result.summary !== undefined ? { summary: result.summary } : {}),
    ...(result.report !== undefined ? { report: result.report.slice(0, 8000) } : {}),
    ...extra,
    createdAt: new Date().toISOString(),
    seconds: (Date.now() - started) / 1000,
  };
}

function outcomeOf(m: StageManifest, storage: Storage, mKey: string, status: StageOutcome['status'], reason: string): StageOutcome {
  return {
    status,
    reason,
    key: m.key,
    manifestKey: mKey,
    manifestUri: storage.uri(mKey),
    contentHash: m.contentHash,
    outputs: m.outputs.slice(0, MAX_OUTCOME_OUTPUTS),
    outputCount: m.outputs.length,
    counts: m.counts,
    seconds: m.seconds,
    ...(m.report !== undefined ? { report: m.report } : {}),
    ...(m.summary !== undefined && JSON.stringify(m.summary).length <= MAX_OUTCOME_SUMMARY_CHARS ? { summary: m.summary } : {}),
  };
}

function sumCounts(all: Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of all) for (const [k, v] of Object.entries(c)) out[k] = (out[k] ?? 0) + v;
  return out;
}
