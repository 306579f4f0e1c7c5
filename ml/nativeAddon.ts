/**
 * Whether a native TensorFlow.js package (@tensorflow/tfjs-node or -gpu) is
 * there with its compiled addon, and the environment TensorFlow reads when it
 * loads. No TensorFlow.js here: this runs before the package is imported.
 */
import { createRequire } from 'node:module';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** null when `pkg`, its addon (lib/napi-v*\/tfjs_binding.node) and its TensorFlow library are installed, else why not, in one line. */
export function nativeAddonProblem(pkg: string): string | null {
  let dir: string;
  try {
    dir = dirname(require.resolve(`${pkg}/package.json`));
  } catch {
    return `${pkg} is not installed (${setup(pkg)})`;
  }
  const lib = join(dir, 'lib');
  const built = existsSync(lib) && readdirSync(lib).some((d) => d.startsWith('napi-v') && existsSync(join(lib, d, 'tfjs_binding.node')));
  if (!built) return `${pkg} is installed without its compiled addon (${setup(pkg)})`;
  // The addon loads the library from deps/lib (a link into .tools/ when infra/tfjs-node.sh built it).
  if (!existsSync(join(dir, 'deps', 'lib', 'libtensorflow.so.2'))) return `${pkg} is built but its TensorFlow library (deps/lib/libtensorflow.so.2) is missing (${setup(pkg)})`;
  return null;
}

const setup = (pkg: string) => `bash infra/tfjs-node.sh${pkg.endsWith('-gpu') ? ' --gpu' : ''} builds it`;

/**
 * TensorFlow reads these once, when its library loads: intra-op threads from
 * TOPOFLOW_THREADS, else one (these models' ops are too small to split: on 2
 * cores, with the other core assembling the next batches (ml/prefetch.ts),
 * one thread trained the GRU models as fast as two or up to 29 % faster); one inter-op thread
 * (the models' ops run one after another); INFO logs off. Values already set win.
 */
export function prepareNativeEnv(env: NodeJS.ProcessEnv = process.env): void {
  env.TF_NUM_INTRAOP_THREADS ??= env.TOPOFLOW_THREADS || '1';
  env.TF_NUM_INTEROP_THREADS ??= '1';
  env.TF_CPP_MIN_LOG_LEVEL ??= '2';
}

/** Whether an NVIDIA driver is loaded (its control device exists): tfjs-node-gpu is worth trying. */
export function nvidiaDriverPresent(): boolean {
  return existsSync('/dev/nvidiactl');
}
