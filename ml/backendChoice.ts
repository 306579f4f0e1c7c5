/**
 * Which TensorFlow.js back end to use, as configured: no TensorFlow.js here,
 * so stage schemas and the CLI can name back ends without loading it.
 */
import { z } from 'zod';

export const BackendChoice = z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']);
export type BackendChoice = z.infer<typeof BackendChoice>;

/** The choice from the stage (`backend:`) or TOPOFLOW_BACKEND, stage first. */
export function backendChoice(fromStage: BackendChoice | undefined, env: NodeJS.ProcessEnv = process.env): BackendChoice {
  if (fromStage && fromStage !== 'auto') return fromStage;
  const fromEnv = env.TOPOFLOW_BACKEND;
  if (fromEnv === undefined || fromEnv === '') return 'auto';
  const parsed = BackendChoice.safeParse(fromEnv);
  if (!parsed.success) throw new Error(`TOPOFLOW_BACKEND=${JSON.stringify(fromEnv)} is not a back end; expected one of: ${BackendChoice.options.join(', ')}`);
  return parsed.data;
}

/**
 * What a `train` stage may name: the TensorFlow.js back ends, or `torch` (the
 * Python training kernel in kernels/torch/, run by ml/torchClassifier.ts).
 */
export const TrainBackendChoice = z.enum([...BackendChoice.options, 'torch']);
export type TrainBackendChoice = z.infer<typeof TrainBackendChoice>;

/** Where the torch back end trains: `auto` takes CUDA when torch sees a GPU, else the CPU. */
export const TorchDevice = z.enum(['auto', 'cpu', 'cuda']);
export type TorchDevice = z.infer<typeof TorchDevice>;
