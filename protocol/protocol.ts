/**
 * The contract between the pipeline workflow, its activities, the workers and
 * the CLI: request/result shapes, signal/query/update names, search
 * attributes. Pure (workflow-safe).
 */
import { z } from 'zod';
import { defineSearchAttributeKey } from '@temporalio/common';
import { Identifier, Params, PipelineSpec, RetrySpec, RunKind, Duration } from '../config/spec.js';
import { StorageSpec } from '../storage/spec.js';
import type { JsonValue, OutputEntry } from './manifest.js';

export const DEFAULT_TASK_QUEUE = 'topoflow';
export const TRAIN_TASK_QUEUE = 'train';

export const SA_PIPELINE_NAME = defineSearchAttributeKey('PipelineName', 'KEYWORD');
export const SA_RUN_KIND = defineSearchAttributeKey('RunKind', 'KEYWORD');
export const SA_CURRENT_STAGE = defineSearchAttributeKey('CurrentStage', 'KEYWORD');

/** The one JSON object `pipelineRun` takes (also typed by hand in the Web UI's form). */
export const PipelineRunInput = z.strictObject({
  /** A pipeline name from the worker's pipelines.yaml, or an inline pipeline spec. */
  pipeline: z.union([Identifier, PipelineSpec]),
  /** Overrides of the pipeline's params. */
  params: Params.optional(),
  /** pipelines.yaml on the worker's machine (default: the worker's configured file). */
  specFile: z.string().optional(),
  /** Required with an inline spec unless the worker has a default storage. */
  storage: StorageSpec.optional(),
  /** Stage ids to re-run even when cached (their downstream re-runs too). */
  force: z.array(Identifier).default([]),
  runKind: RunKind.optional(),
});
export type PipelineRunInput = z.input<typeof PipelineRunInput>;

export interface ResolvedStage {
  id: string;
  uses: string;
  kindVersion: string;
  kindType: 'simple' | 'fanout';
  needs: string[];
  /** `with` after param substitution and the kind's schema (defaults applied). */
  with: Record<string, unknown>;
  retry: RetrySpec;
  timeout: Duration;
  heartbeatTimeout: Duration;
  queue: string;
}

export interface PreparedRun {
  pipeline: string;
  storage: StorageSpec;
  params: Params;
  /** In topological order. */
  stages: ResolvedStage[];
  /** The unresolved spec, kept so operators can re-run with new params. */
  spec: PipelineSpec;
}

export interface PrepareRunRequest {
  pipeline: string | PipelineSpec;
  params?: Params;
  specFile?: string;
  storage?: StorageSpec;
}

/** A committed upstream manifest, as a downstream stage sees it. */
export interface InputRef {
  manifestKey: string;
  contentHash: string;
}

export interface StageRequest {
  /** Workflow id of the pipeline run (progress signals go there). */
  runId: string;
  pipeline: string;
  stage: ResolvedStage;
  storage: StorageSpec;
  inputs: Record<string, InputRef>;
  force: boolean;
}

/** At most this many output entries travel back in a stage outcome; the manifest has all. */
export const MAX_OUTCOME_OUTPUTS = 20;

export interface StageOutcome {
  status: 'completed' | 'cached';
  reason: string;
  key: string;
  manifestKey: string;
  manifestUri: string;
  contentHash: string;
  outputs: OutputEntry[];
  outputCount: number;
  counts: Record<string, number>;
  seconds: number;
  /** The stage's end-of-run text (StageResult.report), if any. */
  report?: string;
  /** The manifest's summary when small (at most MAX_OUTCOME_SUMMARY_CHARS of JSON), e.g. evaluate's AUCs. */
  summary?: JsonValue;
}

/** Larger summaries stay in the manifest only: outcomes travel through Temporal payloads and histories. */
export const MAX_OUTCOME_SUMMARY_CHARS = 8_192;

export interface FanoutPlan {
  key: string;
  shardCount: number;
  window: number;
  reason: string;
  /** The kind has a prepass (runPrepassShard for every shard, then mergePrepass). */
  prepass?: boolean;
  /** The kind plans further rounds of shards once those planned are done (planNextRound). */
  rounds?: boolean;
  /** Shards committed when planning (from the shard-level content cache, or earlier): not dispatched. */
  done?: number[];
  /** Prepass shards whose result was stored when planning: not dispatched. */
  prepassReady?: number[];
}

export interface ShardOutcome {
  index: number;
  worker: string;
  cached: boolean;
  /** The shard's one-line result, if its kind gives one (see StageResult.note). */
  note?: { text: string; score?: number; higherIsBetter?: boolean };
}

/** How often, by default, a running activity's progress reaches Temporal (heartbeat details; the floor between its signals). */
export const DEFAULT_PROGRESS_INTERVAL_MS = 2_000;

/**
 * A running stage's progress report: an activity's heartbeat details (live,
 * read by the CLI through the workflow's pending activities), and the payload
 * of the run's progress signal (coarse: see activities/progressSignals.ts).
 */
export const StageProgressSignal = z.object({
  stageId: z.string(),
  done: z.number(),
  total: z.number().optional(),
  unit: z.string().optional(),
  message: z.string().optional(),
  /** units per second since the stage attempt started */
  rate: z.number().optional(),
});
export type StageProgressSignal = z.infer<typeof StageProgressSignal>;

export type StageStatus = 'pending' | 'running' | 'held' | 'completed' | 'cached' | 'skipped' | 'failed';

export interface StageState {
  status: StageStatus;
  uses: string;
  needs: string[];
  reason?: string;
  error?: string;
  startedAt?: number;
  seconds?: number;
  outcome?: StageOutcome;
  progress?: StageProgressSignal;
}

export type RunStatus = 'preparing' | 'running' | 'held' | 'completed' | 'failed' | 'aborted';

export interface RunProgress {
  runId: string;
  pipeline: string;
  runKind: RunKind;
  status: RunStatus;
  order: string[];
  stages: Record<string, StageState>;
  /** Current params (defaults + overrides), so operators can retry with typed overrides. */
  params: Params;
  startedAt: number;
  message?: string;
}

export interface RunResult {
  runId: string;
  pipeline: string;
  status: 'completed' | 'failed' | 'aborted';
  stages: Record<string, { status: StageStatus; seconds: number; reason?: string; error?: string; outputs: OutputEntry[]; manifestUri?: string; counts?: Record<string, number> }>;
}

/** How an aborted run's failure message starts (the reason follows). */
export const RUN_ABORTED = 'run aborted: ';

export const RetryUpdateInput = z.strictObject({
  stage: Identifier.optional(),
  params: Params.optional(),
});
export type RetryUpdateInput = z.infer<typeof RetryUpdateInput>;
export const SkipUpdateInput = z.strictObject({ stage: Identifier.optional() });
export type SkipUpdateInput = z.infer<typeof SkipUpdateInput>;
export const AbortUpdateInput = z.strictObject({ reason: z.string().max(500).optional() });
export type AbortUpdateInput = z.infer<typeof AbortUpdateInput>;

export const NAMES = {
  workflow: 'pipelineRun',
  fanoutWorkflow: 'stageFanout',
  progressQuery: 'progress',
  progressSignal: 'stageProgress',
  retryUpdate: 'retry',
  skipUpdate: 'skip',
  abortUpdate: 'abort',
} as const;
