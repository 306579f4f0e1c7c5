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

export const ModelFile = z.object({
  format: z.literal('topoflow.model/1'),
  spec: ModelSpec,
  seed: z.number(),
  backend: z.string(),
  params: z.number().int(),
  weights: z.array(z.object({ name: z.string(), shape: z.array(z.number().int()), offset: z.number().int() })),
});
export type ModelFile = z.infer<typeof ModelFile>;

export function encodeModel(model: tf.LayersModel, spec: ModelSpec, meta: { seed: number; backend: string }): { json: string; weights: Uint8Array; params: number } {
  const values = model.weights.map((w) => w.read().dataSync() as Float32Array);
  const flat = new Float32Array(values.reduce((s, v) => s + v.length, 0));
  const layout: ModelFile['weights'] = [];
  let at = 0;
  model.weights.forEach((w, i) => {
    flat.set(values[i]!, at);
    layout.push({ name: w.originalName, shape: w.shape as number[], offset: at });
    at += values[i]!.length;
  });
  const params = model.countParams();
  const file: ModelFile = { format: 'topoflow.model/1', spec, seed: meta.seed, backend: meta.backend, params, weights: layout };
  return { json: `${JSON.stringify(file, null, 1)}\n`, weights: new Uint8Array(flat.buffer), params };
}

export function decodeModel(json: string, weights: Uint8Array): BuiltModel {
  const file = ModelFile.parse(JSON.parse(json));
  const built = buildModel(file.spec, file.seed);
  const flat = new Float32Array(new Uint8Array(weights).buffer);
  const ws = built.model.weights;
  if (ws.length !== file.weights.length) throw new Error(`model.json lists ${file.weights.length} weights; the spec builds ${ws.length}`);
  tf.tidy(() =>
    ws.forEach((w, i) => {
      const entry = file.weights[i]!;
      const size = entry.shape.reduce((a, b) => a * b, 1);
      if (JSON.stringify(entry.shape) !== JSON.stringify(w.shape)) throw new Error(`weight ${entry.name}: shape ${JSON.stringify(entry.shape)} in model.json, ${JSON.stringify(w.shape)} in the model`);
      w.write(tf.tensor(flat.subarray(entry.offset, entry.offset + size), entry.shape));
    }),
  );
  return built;
}
