/**
 * TensorFlow kernels called by op name on the native `tensorflow` back end
 * (@tensorflow/tfjs-node): for ops tfjs has no kernel for, such as the fused
 * recurrent cells. One op call through N-API costs ~20-30 µs whatever its
 * size, so a fused cell per time step beats ten small ops per step.
 */
import { tf } from './tf.js';

interface OpAttr { name: string; type: number; value: number }

/** The parts of tfjs-node's NodeJSKernelBackend used here. */
interface NodeBackend {
  binding: { TF_ATTR_TYPE: number; TF_ATTR_FLOAT: number; TF_ATTR_BOOL: number; TF_FLOAT: number };
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tf.Tensor[], numOutputs: number): tf.Tensor[];
}

function nodeBackend(): NodeBackend | null {
  if (tf.getBackend() !== 'tensorflow') return null;
  const b = tf.backend() as unknown as Partial<NodeBackend>;
  return typeof b.executeMultipleOutputs === 'function' && b.binding ? (b as NodeBackend) : null;
}

/** Runs TensorFlow op `name` (float32, attribute T) with `inputs`; its `outputs` results are tracked by tf.tidy. */
export function runFloatOp(name: string, inputs: tf.Tensor[], outputs: number): tf.Tensor[] {
  const b = nodeBackend();
  if (!b) throw new Error(`${name}: the tensorflow back end is not active`);
  return b.executeMultipleOutputs(name, [{ name: 'T', type: b.binding.TF_ATTR_TYPE, value: b.binding.TF_FLOAT }], inputs, outputs);
}

const probed = new Map<string, boolean>();

/** Whether the active back end runs TensorFlow op `name`; `probe` tries it once on tiny inputs (cached per op). */
export function hasNativeOp(name: string, probe: () => void): boolean {
  if (!nodeBackend()) return false;
  let ok = probed.get(name);
  if (ok === undefined) {
    try {
      tf.tidy(probe);
      ok = true;
    } catch {
      ok = false;
    }
    probed.set(name, ok);
  }
  return ok;
}
