/**
 * `node dist/test/support/runPipeline.js '<json>'`: one run of a pipeline in
 * this (fresh) process, on test/support/localRun.ts, against the storage root
 * given; prints `{"stages": {<id>: {key, contentHash, manifestKey}}}` on stdout.
 * With `warmUp`, it first builds every model of the pipeline (with another
 * seed), so that tfjs's process-wide layer counters stand elsewhere than in a
 * fresh process when the run's own models are built.
 */
import { z } from 'zod';
import { Params } from '../../config/spec.js';
import { prepareRun } from '../../runtime/prepare.js';
import { openStorage } from '../../storage/index.js';
import { loadRegistry } from '../../stages/index.js';
import { runLocally } from './localRun.js';

export const RunPipelineArgs = z.strictObject({
  file: z.string(),
  pipeline: z.string(),
  /** A `file:///` or `s3://` storage root, instead of the file's. */
  root: z.string(),
  params: Params.optional(),
  warmUp: z.boolean().default(false),
});
export type RunPipelineArgs = z.input<typeof RunPipelineArgs>;

export interface RunPipelineResult {
  stages: Record<string, { key: string; contentHash: string; manifestKey: string }>;
}

async function warmUp(models: Record<string, unknown>): Promise<void> {
  const { useBackend } = await import('../../ml/backend.js');
  const { buildModel } = await import('../../ml/build.js');
  const { ModelSpec } = await import('../../ml/modelSpec.js');
  await useBackend('wasm');
  for (const [name, body] of Object.entries(models)) buildModel(ModelSpec.parse({ name, ...(body as object) }), 1234).model.dispose();
}

async function main(): Promise<void> {
  const args = RunPipelineArgs.parse(JSON.parse(process.argv[2] ?? '{}'));
  const registry = await loadRegistry();
  const plan = prepareRun({ pipeline: args.pipeline, specFile: args.file, storage: { root: args.root }, ...(args.params ? { params: args.params } : {}) }, { registry, defaultSpecFile: args.file });
  if (args.warmUp) await warmUp(plan.spec.models ?? {});
  const outcomes = await runLocally(plan, { registry, storage: openStorage(plan.storage) });
  const result: RunPipelineResult = {
    stages: Object.fromEntries(Object.entries(outcomes).map(([id, o]) => [id, { key: o.key, contentHash: o.contentHash, manifestKey: o.manifestKey }])),
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

await main();
