/**
 * TensorFlow kernels called by op name on the native `tensorflow` back end
 * (@tensorflow/tfjs-node): for ops tfjs has no kernel for, such as the fused
 * recurrent cells. One op call through tfjs costs ~20-60 µs whatever its
 * size, so a fused cell per time step beats ten small ops per step; and a
 * loop of such calls can skip tfjs' tensor bookkeeping altogether (`RawOps`:
 * ~17 µs a call instead of ~58, measured with GRUBlockCell).
 */
import { tf } from './tf.js';

interface OpAttr { name: string; type: number; value: number }

/** A TensorFlow tensor handle as the binding returns it: outside tfjs' bookkeeping until adopted. */
export interface RawTensor {
  id: number;
  shape: number[];
  dtype: number;
}

/** The parts of tfjs-node's NodeJSKernelBackend used here. */
interface NodeBackend {
  binding: {
    TF_ATTR_TYPE: number;
    TF_ATTR_FLOAT: number;
    TF_ATTR_BOOL: number;
    TF_ATTR_INT: number;
    TF_FLOAT: number;
    TF_INT32: number;
    executeOp(name: string, attrs: OpAttr[], inputs: number[], outputs: number): RawTensor[];
    deleteTensor(id: number): void;
  };
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tf.Tensor[], numOutputs: number): tf.Tensor[];
  getInputTensorIds(tensors: tf.Tensor[]): number[];
  createOutputTensor(metadata: RawTensor): tf.Tensor;
}

function nodeBackend(): NodeBackend | null {
  if (tf.getBackend() !== 'tensorflow') return null;
  const b = tf.backend() as unknown as Partial<NodeBackend>;
  return typeof b.executeMultipleOutputs === 'function' && typeof b.getInputTensorIds === 'function' && typeof b.createOutputTensor === 'function' && b.binding ? (b as NodeBackend) : null;
}

function activeNodeBackend(what: string): NodeBackend {
  const b = nodeBackend();
  if (!b) throw new Error(`${what}: the tensorflow back end is not active`);
  return b;
}

const floatAttr = (b: NodeBackend): OpAttr => ({ name: 'T', type: b.binding.TF_ATTR_TYPE, value: b.binding.TF_FLOAT });

/** Runs TensorFlow op `name` (float32, attribute T) with `inputs`; its `outputs` results are tracked by tf.tidy. */
export function runFloatOp(name: string, inputs: tf.Tensor[], outputs: number): tf.Tensor[] {
  const b = activeNodeBackend(name);
  return b.executeMultipleOutputs(name, [floatAttr(b)], inputs, outputs);
}

/**
 * Float32 ops on raw handles, for loops of many small op calls: results are
 * plain handles that the caller frees (`free`) or hands to tfjs (`adopt`).
 */
export class RawOps {
  private readonly b: NodeBackend;

  constructor() {
    this.b = activeNodeBackend('RawOps');
  }

  /** Handles of tfjs tensors; tfjs still owns them (never free these). */
  handles(tensors: tf.Tensor[]): number[] {
    return this.b.getInputTensorIds(tensors);
  }

  /** Op `name` (float32, attribute T) on handles. */
  run(name: string, inputs: number[], outputs: number): RawTensor[] {
    return this.b.binding.executeOp(name, [floatAttr(this.b)], inputs, outputs);
  }

  /** The rows of handle `id` cut into consecutive pieces of `sizes` rows (one SplitV op). */
  splitRows(id: number, sizes: number[]): RawTensor[] {
    const b = this.b.binding;
    const attrs = [{ name: 'num_split', type: b.TF_ATTR_INT, value: sizes.length }, floatAttr(this.b), { name: 'Tlen', type: b.TF_ATTR_TYPE, value: b.TF_INT32 }];
    return this.alongRows([sizes], ([splits], axis) => b.executeOp('SplitV', attrs, [id, splits!, axis], sizes.length));
  }

  /** Handles `ids` joined along their first axis (one ConcatV2 op; one handle: a copy of it). */
  concatRows(ids: number[]): RawTensor {
    const b = this.b.binding;
    if (ids.length === 1) return this.run('Identity', ids, 1)[0]!;
    const attrs = [{ name: 'N', type: b.TF_ATTR_INT, value: ids.length }, floatAttr(this.b), { name: 'Tidx', type: b.TF_ATTR_TYPE, value: b.TF_INT32 }];
    return this.alongRows([], (_, axis) => b.executeOp('ConcatV2', attrs, [...ids, axis], 1)[0]!);
  }

  /** Runs `f` with handles of int32 vectors holding `vectors` and of the axis 0 (a scalar); the int tensors are disposed after. */
  private alongRows<T>(vectors: number[][], f: (vectorIds: number[], axis: number) => T): T {
    const ints = [tf.scalar(0, 'int32'), ...vectors.map((v) => tf.tensor1d(v, 'int32'))];
    try {
      const [axis, ...ids] = this.handles(ints);
      return f(ids, axis!);
    } finally {
      tf.dispose(ints);
    }
  }

  /** A tfjs tensor owning `t` (tracked by tf.tidy; do not free `t` after this). */
  adopt(t: RawTensor): tf.Tensor {
    return this.b.createOutputTensor(t);
  }

  free(tensors: ReadonlyArray<RawTensor | undefined | null>): void {
    for (const t of tensors) if (t) this.b.binding.deleteTensor(t.id);
  }
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
