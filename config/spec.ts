/**
 * The normalized, JSON-only pipeline specification: what pipelines.yaml turns
 * into after parsing, and what a workflow receives. Pure (no Node built-ins):
 * workflows import it to validate their input.
 */
import { z } from 'zod';

/** "250ms", "30s", "5m", "2h", "1d" or a number of milliseconds. */
export const DURATION_RE = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
export const Duration = z.union([
  z.number().int().nonnegative(),
  z.string().regex(DURATION_RE, 'expected a duration such as "500ms", "30s", "5m", "2h"'),
]);
export type Duration = z.infer<typeof Duration>;

export function durationMs(d: Duration): number {
  if (typeof d === 'number') return d;
  const m = DURATION_RE.exec(d);
  if (!m) throw new Error(`bad duration ${d}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms' | 's' | 'm' | 'h' | 'd'];
  return Math.round(Number(m[1]) * unit);
}

export const ParamScalar = z.union([z.string(), z.number(), z.boolean()]);
export const ParamValue = z.union([ParamScalar, z.array(ParamScalar)]);
export type ParamValue = z.infer<typeof ParamValue>;
export const Params = z.record(z.string(), ParamValue);
export type Params = z.infer<typeof Params>;

/** Identifiers for pipelines, stages and params: safe in keys, ids and YAML. */
export const Identifier = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/, 'expected an identifier: a letter, then letters, digits, "_" or "-" (at most 64)');

export const RetrySpec = z.strictObject({
  maxAttempts: z.number().int().min(1).max(100).default(3),
  initialInterval: Duration.default('1s'),
  backoffCoefficient: z.number().min(1).max(10).default(2),
  maximumInterval: Duration.optional(),
  nonRetryableErrors: z.array(z.string()).optional(),
});
export type RetrySpec = z.infer<typeof RetrySpec>;

export const StageSpec = z.strictObject({
  uses: z.string().min(1),
  needs: z.array(Identifier).default([]),
  with: z.record(z.string(), z.unknown()).default({}),
  retry: RetrySpec.optional(),
  /** Limit for one attempt (startToClose). */
  timeout: Duration.default('2h'),
  /** A silent worker is declared dead after this long; its activity is retried elsewhere. */
  heartbeatTimeout: Duration.default('30s'),
  /** Task queue for this stage's activities (e.g. `train`). */
  queue: Identifier.optional(),
  description: z.string().optional(),
});
export type StageSpec = z.infer<typeof StageSpec>;

export const PipelineSpec = z.strictObject({
  name: Identifier,
  description: z.string().optional(),
  params: Params.default({}),
  stages: z.record(Identifier, StageSpec),
  /** Model definitions a stage may name in `with.model` (the file's `models:` section). */
  models: z.record(Identifier, z.record(z.string(), z.unknown())).optional(),
});
export type PipelineSpec = z.infer<typeof PipelineSpec>;

export const RunKind = z.enum(['manual', 'scheduled']);
export type RunKind = z.infer<typeof RunKind>;
