/**
 * Stage manifests: the small, JSON-only results that stages exchange.
 * Data stays in storage; a manifest names it (URI, bytes, sha256, rows).
 * Pure types and schemas: safe to import from workflows.
 */
import { z } from 'zod';

export const OutputEntry = z.object({
  /** Name relative to the stage's data folder, e.g. `part-0000.parquet`. */
  name: z.string(),
  key: z.string(),
  uri: z.string(),
  bytes: z.number().int().nonnegative(),
  sha256: z.string(),
  rows: z.number().int().nonnegative().optional(),
  /**
   * Informational (wall-clock timings and the like): left out of the stage's
   * content hash, so a re-run that differs only here keeps downstream cached.
   */
  volatile: z.literal(true).optional(),
});
export type OutputEntry = z.infer<typeof OutputEntry>;

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
export const JsonValue: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(JsonValue), z.record(z.string(), JsonValue)]),
);

/**
 * One external file a stage read, as listed when the run was planned: its
 * identity (size plus ETag or mtime, or the sha256 an upstream manifest
 * recorded) is part of the stage's cache key, so a file replaced in place is
 * read again. `missing`: named one by one but absent (its shard reports it).
 */
export const SourceRecord = z.strictObject({
  uri: z.string(),
  /** When the file lives in the pipeline's storage. */
  key: z.string().optional(),
  size: z.number().int().nonnegative().optional(),
  etag: z.string().optional(),
  mtimeMs: z.number().optional(),
  sha256: z.string().optional(),
  missing: z.literal(true).optional(),
  /** What the kind attaches to the file (ingest: its class label). */
  label: z.number().int().optional(),
});
export type SourceRecord = z.infer<typeof SourceRecord>;

export const StageManifest = z.object({
  format: z.literal('topoflow.stage/1'),
  stageId: z.string(),
  kind: z.string(),
  kindVersion: z.string(),
  /** Cache key: hash of kind+version, resolved `with`, input manifest hashes. */
  key: z.string(),
  /** Hash of the outputs' contents (names + sha256), so unchanged outputs keep downstream cached. */
  contentHash: z.string(),
  with: z.record(z.string(), z.unknown()),
  inputs: z.record(z.string(), z.string()),
  outputs: z.array(OutputEntry),
  counts: z.record(z.string(), z.number()).default({}),
  summary: JsonValue.optional(),
  /** External files the stage saw (kinds with `resolveSources`); not part of the content hash, which covers the outputs. */
  sources: z.array(SourceRecord).optional(),
  /** Fan-out shards taken from the shard-level content cache instead of run (not part of the content hash). */
  reuse: z.object({ shards: z.number().int(), reused: z.number().int(), prepassReused: z.number().int().optional() }).optional(),
  /** Short text the CLI prints when the run ends (e.g. the AUC table). */
  report: z.string().max(8000).optional(),
  createdAt: z.string(),
  seconds: z.number(),
});
export type StageManifest = z.infer<typeof StageManifest>;

/** Why a stage ran or was skipped; shown per stage in the CLI and the UI. */
export type StageDecision =
  | { action: 'cached'; reason: string }
  | { action: 'run'; reason: string };
