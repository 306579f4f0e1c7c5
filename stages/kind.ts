/**
 * Stage kinds: the plug-in point of the engine. A stage kind is a plain,
 * unit-testable object: a zod schema for its `with`, a code version (bump it
 * whenever outputs for the same inputs would change: it invalidates caches),
 * and either a `run` function or, for fan-out kinds, plan/runShard/combine.
 */
import type { z } from 'zod';
import type { Storage } from '../storage/storage.js';
import type { JsonValue, OutputEntry, SourceRecord, StageManifest } from '../protocol/manifest.js';

export interface Progress {
  done: number;
  total?: number;
  /** What `done` counts: "events", "files", "epochs"... */
  unit?: string;
  message?: string;
}

export interface OutputInfo {
  rows?: number;
  /** Informational only (e.g. timings): not part of the content hash, so it never makes downstream stages re-run. */
  volatile?: boolean;
}

export interface OutputWriter {
  /** Writes `<stage data folder>/<name>` atomically and records it in the manifest. */
  write(name: string, body: Uint8Array | string | AsyncIterable<Uint8Array>, info?: OutputInfo): Promise<OutputEntry>;
  /** Storage key for `name`, for libraries that write through their own code. */
  keyFor(name: string): string;
}

export interface StageContext<W> {
  stageId: string;
  with: W;
  /** Manifests of the stages in `needs`, by stage id. */
  inputs: Record<string, StageManifest>;
  storage: Storage;
  output: OutputWriter;
  /** Throttled internally; call as often as convenient. */
  progress(p: Progress): void;
  /** Fan-out kinds with a prepass: the merged prepass result (e.g. dataset statistics). */
  prepared?: JsonValue;
  /**
   * A storage folder that survives retries of this stage (or shard) with the
   * same cache key, for checkpoints; it is deleted once the stage commits.
   */
  checkpointFolder: string;
  /** Aborted when the activity is cancelled (run aborted, stage timed out). */
  signal: AbortSignal;
  /** The run forces this stage (`--force`): content-addressed results the kind keeps of its own must be recomputed too. */
  forced?: boolean;
  /** Kinds with `resolveSources`: the external files this run resolved (part of the cache key). */
  sources?: SourceRecord[];
  /**
   * Fan-out kinds with `shardContentKey`, in runShard: the shard's content
   * hash. Name outputs from it, not from the shard's index: the result is
   * reused wherever the same shard reappears, at any index.
   */
  shardContentHash?: string;
  /**
   * A small content-addressed memo (`content/<kind>-<area>/<hash>.json`): the
   * stored value for `key` or, if none (or the stage is forced), `compute()`'s,
   * stored. For results that depend only on `key`, e.g. a file's entry count.
   * Always set by the engine; optional for contexts built by hand (tests).
   */
  memo?<T extends JsonValue>(area: string, key: JsonValue, compute: () => Promise<T>): Promise<T>;
  log(message: string): void;
}

/** A fan-out shard's one-line result, optionally scored: the run's progress shows the best so far (e.g. a sweep's best trial). */
export interface ShardNote {
  text: string;
  score?: number;
  higherIsBetter?: boolean;
}

export interface StageResult {
  counts?: Record<string, number>;
  summary?: JsonValue;
  /** A few lines (markdown) to show when the run ends, e.g. a metrics table; at most 8,000 characters. */
  report?: string;
  /** Fan-out shards: a line for the stage's progress. */
  note?: ShardNote;
}

/** What resolveSources gets: no outputs, no sources yet. */
export type ResolveContext<W> = Omit<StageContext<W>, 'output' | 'sources' | 'shardContentHash'>;

interface KindBase<W> {
  name: string;
  version: string;
  description: string;
  withSchema: z.ZodType<W>;
  /** Default task queue (e.g. `train`); the stage's `queue` overrides it. */
  queue?: string;
  /**
   * `with` keys whose value names another stage, which must be among the
   * stage's needs and of the given kind (e.g. train's `tuned: tune`);
   * `topoflow validate` checks them.
   */
  inputRefs?: Record<string, string>;
  /**
   * Optional, for kinds that read files from outside the pipeline's stages
   * (patterns, paths, URIs): lists them with their identity before the cache
   * look-up. The list is part of the cache key, recorded in the manifest as
   * `sources` and given to plan/run as `ctx.sources`. In a deterministic order.
   */
  resolveSources?(ctx: ResolveContext<W>): Promise<SourceRecord[]>;
}

export interface SimpleStageKind<W = unknown> extends KindBase<W> {
  type: 'simple';
  run(ctx: StageContext<W>): Promise<StageResult>;
  /**
   * Optional: for some `with` values the stage runs as a fan-out instead
   * (train with `workers: N` > 1 is a loop of rounds over N train workers).
   * The fan-out has the kind's name, version and schema, so the cache key is
   * the same function of `with`; the engine asks when it plans the run.
   */
  fanoutFor?(w: W): FanoutStageKind<W, any> | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
}

/** Shards are small JSON descriptions (a file, an entry range, a trial). */
/** Shards must be plain JSON-serialisable data (they are stored in plan.json). */
export interface FanoutStageKind<W = unknown, S = JsonValue> extends KindBase<W> {
  type: 'fanout';
  plan(ctx: Omit<StageContext<W>, 'output'>): Promise<S[]>;
  /** Writes its outputs under its own shard folder; must be idempotent. */
  runShard(ctx: StageContext<W>, shard: S, index: number): Promise<StageResult>;
  /**
   * Optional first pass over the same shards (e.g. statistics), run in parallel
   * before runShard; the results are merged into one JSON value that runShard
   * and combine receive as `ctx.prepared`.
   */
  prepass?: {
    runShard(ctx: Omit<StageContext<W>, 'output'>, shard: S, index: number): Promise<JsonValue>;
    merge(ctx: Omit<StageContext<W>, 'output'>, results: JsonValue[]): Promise<JsonValue>;
    /** Optional: as shardContentKey, for prepass results (kept in `content/<kind>-prepass/`). */
    contentKey?(w: W, shard: S): JsonValue;
  };
  /**
   * Optional shard-level content cache: everything a shard's result depends
   * on (its input file's identity, its entry range, the params it uses), not
   * the whole stage's key. The engine keeps the result under
   * `content/<kind>-shards/<hash>/` (hash of this, the kind and its version)
   * and reuses it in any stage whose plan has the same shard, so a run over
   * 1,000 old files and 1 new one runs 1 shard. `--force` recomputes. null:
   * this shard is not cached (e.g. a file without an identity).
   */
  shardContentKey?(w: W, shard: S): JsonValue;
  /**
   * Optional: further rounds of shards, decided from the results so far (e.g.
   * successive halving promotes the best trials of a rung to the next). Called
   * when every shard planned so far is done, with all of them in plan order;
   * returns the next round's shards, or none when the stage is done. Must be a
   * function of the shards and their results' summaries only, so that a
   * resumed run plans the same rounds.
   */
  nextRound?(ctx: Omit<StageContext<W>, 'output'>, done: Array<{ shard: S; result: ShardResult }>): Promise<S[]>;
  /** Max shards in flight (default: stage `with.window` if numeric, else 8). */
  window?(w: W): number;
  /**
   * Optional: reduce shard results into the stage's own outputs. Counts it returns
   * replace the default (the sum of the shards' counts).
   */
  combine?(ctx: StageContext<W>, shards: ShardResult[]): Promise<StageResult>;
}

export interface ShardResult {
  index: number;
  outputs: OutputEntry[];
  counts: Record<string, number>;
  summary?: JsonValue;
  /** Worker identity that ran the shard (diagnostics only; not part of content). */
  worker: string;
  note?: ShardNote;
  /** Taken from the shard-level content cache (computed by an earlier stage or run). */
  reused?: boolean;
}

export type StageKind<W = any> = SimpleStageKind<W> | FanoutStageKind<W, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
