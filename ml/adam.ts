/**
 * Adam with state we own: the moments are plain tensors that a checkpoint
 * saves and restores bit for bit, and the bias correction is computed in
 * double precision from the step count (tfjs's AdamOptimizer accumulates
 * β^t in float32 and recomputes it differently after setWeights, so a resumed
 * run would drift). Same update as Keras: lr·√(1−β2^t)/(1−β1^t)·m/(√v+ε).
 */
import { tf } from './tf.js';
import type { WasmBackend } from './wasmKernels.js';

export interface AdamConfig {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** Keras defaults, as in the seed's models. */
export const KERAS_ADAM: AdamConfig = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

/** Whether updates run as one loop over the wasm heap (TOPOFLOW_WASM_ADAM=0: as tfjs ops, like the other back ends). */
function onWasmHeap(): boolean {
  return tf.getBackend() === 'wasm' && process.env.TOPOFLOW_WASM_ADAM !== '0';
}

/** Tensors flattened and concatenated, in order: one vector for the whole model. */
export function flatten(tensors: tf.Tensor[]): tf.Tensor1D {
  return tf.tidy(() => tf.concat<tf.Tensor1D>(tensors.map((x) => tf.reshape(x, [-1]))));
}

/**
 * The moments are kept flat, all variables in one tensor each, so an update
 * is a dozen ops for the whole model instead of a dozen per variable: on the
 * native back end every op call costs ~25 µs, more than the arithmetic of a
 * small model (elementwise the same operations, so the same bits).
 */
export class Adam {
  /** Completed updates. */
  step = 0;
  /** Multiplies the learning rate (a schedule sets it per epoch); 1 gives the same bits as none. */
  lrFactor = 1;
  private readonly sizes: number[];
  private readonly m: tf.Variable;
  private readonly v: tf.Variable;

  constructor(private readonly vars: tf.Variable[], private readonly cfg: AdamConfig = KERAS_ADAM) {
    this.sizes = vars.map((x) => x.size);
    const total = this.sizes.reduce((a, b) => a + b, 0);
    this.m = tf.variable(tf.zeros([total]), false);
    this.v = tf.variable(tf.zeros([total]), false);
  }

  /** One update; `grads` in the order of the variables. */
  apply(grads: tf.Tensor[]): void {
    if (onWasmHeap()) this.applyOnHeap(grads);
    else tf.tidy(() => this.applyFlat(flatten(grads)));
  }

  /** One update from the gradients of all variables, flattened and concatenated in their order (as `flatten`). */
  applyFlat(g: tf.Tensor): void {
    if (onWasmHeap()) return this.applyOnHeap([g]);
    if (g.size !== this.m.size) throw new Error(`Adam: ${g.size} gradient values for ${this.m.size} weights`);
    const { beta1, beta2, epsilon, alpha } = this.next();
    tf.tidy(() => {
      const m = this.m.mul(beta1).add(g.mul(1 - beta1));
      const v = this.v.mul(beta2).add(g.square().mul(1 - beta2));
      this.m.assign(m);
      this.v.assign(v);
      const steps = tf.split(m.mul(alpha).div(v.sqrt().add(epsilon)), this.sizes);
      this.vars.forEach((x, i) => x.assign(x.sub(tf.reshape(steps[i]!, x.shape))));
    });
  }

  /** Counts the update and gives its constants (the step size in double precision, from the step count). */
  private next() {
    const t = ++this.step;
    const { beta1, beta2, epsilon } = this.cfg;
    return { beta1, beta2, epsilon, alpha: (this.cfg.learningRate * this.lrFactor * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t) };
  }

  /**
   * The update as one loop over the wasm heap: the moments are rewritten
   * where they lie, the gradients (any split into tensors, in the variables'
   * order) read where they lie, and each weight gets a new tensor. Weights
   * must not change in place: the wasm back end's matMul packs its weight
   * operand once per tensor and reuses the packing while that tensor lives.
   * On wasm each tfjs op costs a few µs whatever its size, and Adam's ~45 ops
   * were about half an HLF net's step. The same formula in double precision,
   * rounded to float32 once per value (within rounding of the op path; a
   * resumed run repeats it bit for bit).
   */
  private applyOnHeap(grads: tf.Tensor[]): void {
    const backend = tf.backend() as unknown as WasmBackend;
    const heap = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array; // float32 tensors only
    const total = grads.reduce((s, g) => s + g.size, 0);
    if (total !== this.m.size) throw new Error(`Adam: ${total} gradient values for ${this.m.size} weights`);
    const { beta1, beta2, epsilon, alpha } = this.next();
    // Views taken together, with no allocation in between (a growing heap would detach them).
    const m = heap(this.m);
    const v = heap(this.v);
    const ws = this.vars.map(heap);
    const gs = grads.map(heap);
    const next = ws.map((w) => new Float32Array(w.length)); // JS memory: no wasm allocation
    let gi = 0;
    let gAt = 0;
    let k = 0;
    ws.forEach((w, j) => {
      const out = next[j]!;
      for (let i = 0; i < w.length; i++, k++, gAt++) {
        while (gAt >= gs[gi]!.length) [gi, gAt] = [gi + 1, 0];
        const g = gs[gi]![gAt]!;
        m[k] = beta1 * m[k]! + (1 - beta1) * g;
        v[k] = beta2 * v[k]! + (1 - beta2) * g * g;
        out[i] = w[i]! - (alpha * m[k]!) / (Math.sqrt(v[k]!) + epsilon);
      }
    });
    tf.tidy(() => this.vars.forEach((x, j) => x.assign(tf.tensor(next[j]!, x.shape))));
  }

  /** The first and second moments per variable (for a checkpoint), in the order of the variables. */
  moments(): { m: Float32Array[]; v: Float32Array[] } {
    const split = (flat: Float32Array) => {
      let at = 0;
      return this.sizes.map((n) => flat.slice(at, (at += n)));
    };
    return { m: split(this.m.dataSync() as Float32Array), v: split(this.v.dataSync() as Float32Array) };
  }

  /** Restores moments() output. */
  setMoments(m: Float32Array[], v: Float32Array[]): void {
    const join = (parts: Float32Array[], what: string) => {
      if (parts.length !== this.sizes.length || parts.some((p, i) => p.length !== this.sizes[i])) throw new Error(`Adam ${what}: sizes do not match the model's variables`);
      const flat = new Float32Array(this.m.size);
      let at = 0;
      for (const p of parts) {
        flat.set(p, at);
        at += p.length;
      }
      return flat;
    };
    tf.tidy(() => {
      this.m.assign(tf.tensor1d(join(m, 'first moments')));
      this.v.assign(tf.tensor1d(join(v, 'second moments')));
    });
  }

  /** How many variables it updates (a checkpoint holds two moments per variable). */
  get count(): number {
    return this.sizes.length;
  }

  dispose(): void {
    this.m.dispose();
    this.v.dispose();
  }
}
