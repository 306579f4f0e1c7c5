/**
 * A trained model on storage: `model.json` (the declarative spec, seed, back
 * end, and where each weight sits in `weights.bin`) and `weights.bin` (float32,
 * little-endian, back to back). Rebuilding the spec and loading the weights
 * gives the same model; no tfjs topology format is involved.
 */
import { z } from 'zod';
import { tf } from './tf.js';
import { buildModel, type BuiltModel } from './build.js';
import { ModelSpec } from './modelSpec.js';
import { packTensors, unpackTensors } from './tensorPack.js';

export const ModelFile = z.object({
  format: z.literal('topoflow.model/1'),
  spec: ModelSpec,
  seed: z.number(),
  backend: z.string(),
  params: z.number().int(),
  weights: z.array(z.object({ name: z.string(), shape: z.array(z.number().int()), offset: z.number().int() })),
});
export type ModelFile = z.infer<typeof ModelFile>;

/**
 * Weights are listed by `originalName` (`particles_1_gru/kernel`: build.ts names
 * layers after the spec), the same in every process; tfjs's variable `name`
 * gets a process-wide suffix (`kernel_3`) once a model was built before.
 */
export function encodeModel(model: tf.LayersModel, spec: ModelSpec, meta: { seed: number; backend: string }): { json: string; weights: Uint8Array; params: number } {
  const { bytes, layout } = packTensors(model.weights.map((w) => ({ name: w.originalName, shape: w.shape as number[], values: w.read().dataSync() as Float32Array })));
  const params = model.countParams();
  const file: ModelFile = { format: 'topoflow.model/1', spec, seed: meta.seed, backend: meta.backend, params, weights: layout };
  return { json: `${JSON.stringify(file, null, 1)}\n`, weights: bytes, params };
}

export function decodeModel(json: string, weights: Uint8Array): BuiltModel {
  const file = ModelFile.parse(JSON.parse(json));
  const built = buildModel(file.spec, file.seed);
  const values = unpackTensors(weights, file.weights);
  // By position: the spec fixes the order; names only label messages.
  const ws = built.model.weights;
  if (ws.length !== file.weights.length) throw new Error(`model.json lists ${file.weights.length} weights; the spec builds ${ws.length}`);
  tf.tidy(() =>
    ws.forEach((w, i) => {
      const entry = file.weights[i]!;
      if (JSON.stringify(entry.shape) !== JSON.stringify(w.shape)) throw new Error(`weight ${entry.name}: shape ${JSON.stringify(entry.shape)} in model.json, ${JSON.stringify(w.shape)} in the model`);
      w.write(tf.tensor(values[i]!, entry.shape));
    }),
  );
  return built;
}
