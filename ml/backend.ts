/**
 * Picks the TensorFlow.js back end: native TensorFlow (tfjs-node-gpu, then
 * tfjs-node) when installed and loadable, else WebAssembly, else pure JS.
 * The native packages are optional dependencies: their own install downloads
 * libtensorflow, which fails offline, so infra/tfjs-node.sh builds them from
 * a registry wheel instead; without it they are absent and `auto` falls back.
 */
import { tf } from './tf.js';
import type { BackendChoice } from './backendChoice.js';
import { installWasmKernels } from './wasmKernels.js';
import { nativeAddonProblem, nvidiaDriverPresent, prepareNativeEnv } from './nativeAddon.js';

export interface ActiveBackend {
  /** tfjs back-end name: `tensorflow`, `wasm` or `cpu`. */
  name: string;
  /** Which package provided it, and why earlier choices were passed over. */
  description: string;
  /** The choice that loaded (never `auto`): what another thread of this process names to get the same back end. */
  choice: Exclude<BackendChoice, 'auto'>;
  /** For the user, when a faster back end for this model only needs building (see fasterBackendHint). */
  hint?: string;
}

/** Native packages register the `tensorflow` back end when imported. */
const NATIVE: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
};

/** What `auto` weighs besides what loads. */
export interface ModelHints {
  /** The model has a recurrent layer. Without one (hlf), wasm trains faster than native CPU TensorFlow, whose ~25 µs per op call outweighs a small dense net's arithmetic (bench/RESULTS.md), so `auto` puts wasm first after the GPU. */
  recurrent: boolean;
}

let active: ActiveBackend | undefined;
let activeKey: string | undefined;

/**
 * Activates a back end (once per process; later calls with the same choice are
 * free). An explicit choice that cannot load is an error; `auto` falls through.
 */
export async function useBackend(choice: BackendChoice, hints?: ModelHints): Promise<ActiveBackend> {
  const key = `${choice}/${hints?.recurrent ?? ''}`;
  if (active && activeKey === key) return active;
  const passed: string[] = [];
  const cpuOrder: BackendChoice[] = hints?.recurrent === false ? ['wasm', 'tensorflow'] : ['tensorflow', 'wasm'];
  const order: BackendChoice[] = choice === 'auto' ? ['tensorflow-gpu', ...cpuOrder, 'cpu'] : [choice];
  for (const candidate of order) {
    const problem = await tryActivate(candidate, choice === 'auto');
    if (problem === null) {
      const why = choice === 'auto' && candidate === 'wasm' && hints?.recurrent === false ? ['tensorflow: not tried first, wasm is faster for a model without a recurrent layer'] : [];
      const hint = choice === 'auto' ? fasterBackendHint(candidate, hints, nativeAddonProblem(NATIVE.tensorflow)) : null;
      active = { name: tf.getBackend(), description: describe(candidate, [...passed, ...why]), choice: candidate as Exclude<BackendChoice, 'auto'>, ...(hint ? { hint } : {}) };
      activeKey = key;
      return active;
    }
    if (choice !== 'auto') throw new Error(`back end "${candidate}" is not available: ${problem}`);
    passed.push(`${candidate}: ${problem}`);
  }
  throw new Error(`no TensorFlow.js back end could start (${passed.join('; ')})`);
}

/**
 * What to tell the user when `auto` trained a recurrent model on WebAssembly
 * or pure JS only because native TensorFlow is not built here (an optional,
 * separate set-up step): the GRU models train about 2× faster on it (the demo's,
 * 2026-12-05: 120 s → 53 s and 153 s → 68 s). Null otherwise, including when
 * native TensorFlow is built but failed to load (the worker log says why).
 */
export function fasterBackendHint(loaded: BackendChoice, hints: ModelHints | undefined, nativeProblem: string | null): string | null {
  if (!hints?.recurrent || (loaded !== 'wasm' && loaded !== 'cpu') || nativeProblem === null) return null;
  return 'native TensorFlow is not built here: `npm run native` (once: about 20 s and 552 MB) builds it, and recurrent models then train about 2× faster';
}

/** The back end this thread activated last, if any. */
export function activeBackend(): ActiveBackend | undefined {
  return active;
}

async function tryActivate(candidate: BackendChoice, auto: boolean): Promise<string | null> {
  try {
    if (candidate === 'tensorflow-gpu' || candidate === 'tensorflow') {
      const pkg = NATIVE[candidate];
      // Checked before importing: a package without its addon would register
      // its kernels and then fail, leaving them behind for the other package.
      const missing = nativeAddonProblem(pkg);
      if (missing) return missing;
      // Without a GPU the CUDA build runs on the CPU: `auto` takes tfjs-node instead.
      if (candidate === 'tensorflow-gpu' && auto && !nvidiaDriverPresent()) return 'no NVIDIA GPU driver here (/dev/nvidiactl)';
      prepareNativeEnv();
      try {
        await import(pkg);
      } catch (err) {
        return `${pkg} is not installed or does not load (${firstLine(err)})`;
      }
      return (await tf.setBackend('tensorflow')) ? null : `${pkg} loaded but the tensorflow back end did not start`;
    }
    if (!(await tf.setBackend(candidate))) return `tf.setBackend('${candidate}') failed`;
    await tf.ready();
    if (candidate === 'wasm') installWasmKernels();
    return null;
  } catch (err) {
    return firstLine(err);
  }
}

function describe(candidate: BackendChoice, passed: string[]): string {
  const what = {
    'tensorflow-gpu': 'native TensorFlow with CUDA (@tensorflow/tfjs-node-gpu)',
    tensorflow: `native TensorFlow (@tensorflow/tfjs-node, ${process.env.TF_NUM_INTRAOP_THREADS ?? '?'} intra-op thread${process.env.TF_NUM_INTRAOP_THREADS === '1' ? '' : 's'})`,
    wasm: 'WebAssembly (@tensorflow/tfjs-backend-wasm, SIMD, one thread)',
    cpu: 'pure JavaScript (@tensorflow/tfjs-backend-cpu)',
    auto: '',
  }[candidate];
  return passed.length ? `${what}; not used: ${passed.join('; ')}` : what;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 200);
}
