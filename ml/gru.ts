/**
 * FastGRU: a drop-in for `tf.layers.gru({units, activation: 'tanh',
 * recurrentActivation: 'sigmoid', returnSequences: false})` with a
 * hand-written backward pass.
 *
 * The stock tfjs RNN unstacks the batch-major input over time and lets
 * autodiff run through every per-step op; on the wasm back end each slice
 * (and each slice's gradient, a pad to the full input) touches the whole
 * sequence, so one training step is quadratic in the number of time steps.
 * Here the input projection x·W + b for all steps is ONE matMul on a
 * time-major copy, the loop does only the small recurrent ops, and the
 * backward pass (tf.customGrad) collects per-step gate gradients so that
 * dW, dU, db and dx are again a handful of big matMuls.
 *
 * Same math and weight layout as tfjs's GRUCell (Keras 1, reset_after=false):
 * kernel [in, 3u], recurrent_kernel [u, 3u], bias [3u], gates (z, r, h) along
 * the last axis:
 *   z = σ(x·Wz + h·Uz + bz)   r = σ(x·Wr + h·Ur + br)
 *   hh = tanh(x·Wh + (r∘h)·Uh + bh)   h' = z∘h + (1−z)∘hh
 * With a mask, a masked step carries the state over unchanged.
 */
import { tf } from './tf.js';

type Tensor = tf.Tensor;
type Tensor2D = tf.Tensor2D;
type Kwargs = Record<string, unknown>;
type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface FastGRUConfig extends LayerArgs {
  units: number;
  /** Seeds the kernel (glorotUniform) and recurrent kernel (orthogonal) initializers. */
  seed?: number;
  /** Accepted for drop-in compatibility; only 'tanh' / 'sigmoid' / false are implemented. */
  activation?: string;
  recurrentActivation?: string;
  returnSequences?: boolean;
}

/** What the backward pass needs from one forward step (all [batch, units]). */
interface Step { hPrev: Tensor; z: Tensor; r: Tensor; hh: Tensor }

/**
 * Runs the GRU over x [batch, time, in] and returns the last state
 * [batch, units]. `mask` ([batch, time], bool or 0/1) freezes the state of a
 * sample at its masked steps. Differentiable w.r.t. x, kernel, recurrent
 * kernel and bias.
 */
export function gruLastState(x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor, mask: Tensor | null): Tensor2D {
  const [batch, time, inDim] = x.shape as [number, number, number];
  const units = recurrentKernel.shape[0]!;
  if (x.rank !== 3) throw new Error(`FastGRU expects input [batch, time, features], got [${x.shape.join(', ')}]`);
  if (time === 0) return tf.zeros([batch, units]);
  // Per-step masks [batch, 1], time-major; built outside the custom op because
  // the mask is not something to differentiate.
  const stepMasks = mask ? tf.tidy(() => tf.unstack(tf.reshape(tf.transpose(tf.reshape(tf.cast(mask, 'float32'), [batch, time])), [time, batch, 1]))) as Tensor2D[] : null;

  const op = tf.customGrad((...args) => {
    const [xIn, w, u, b, save] = args as [Tensor, Tensor2D, Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const uZR = tf.slice(u, [0, 0], [units, 2 * units]);
    const uH = tf.slice(u, [0, 2 * units], [units, units]);
    // Time-major rows (t·batch + i), so step t is a contiguous block.
    const xTm = tf.reshape(tf.transpose(xIn, [1, 0, 2]), [time * batch, inDim]) as Tensor2D;
    const xw = tf.fused.matMul({ a: xTm, b: w, bias: b });
    const xwZR = tf.unstack(tf.reshape(tf.slice(xw, [0, 0], [time * batch, 2 * units]), [time, batch, 2 * units])) as Tensor2D[];
    const xwH = tf.unstack(tf.reshape(tf.slice(xw, [0, 2 * units], [time * batch, units]), [time, batch, units])) as Tensor2D[];

    const steps: Step[] = [];
    let h: Tensor = tf.zeros([batch, units]);
    for (let t = 0; t < time; t++) {
      const hPrev = h;
      const step = tf.tidy(() => {
        const zr = tf.sigmoid(tf.add(xwZR[t]!, tf.matMul(hPrev, uZR)));
        const [z, r] = tf.split(zr, 2, 1) as [Tensor, Tensor];
        const hh = tf.tanh(tf.add(xwH[t]!, tf.matMul(tf.mul(r, hPrev), uH)));
        // z∘h + (1−z)∘hh, written with one fewer op.
        let hNew = tf.add(hh, tf.mul(z, tf.sub(hPrev, hh)));
        const m = stepMasks?.[t];
        if (m) hNew = tf.add(hPrev, tf.mul(m, tf.sub(hNew, hPrev)));
        return { z, r, hh, hNew };
      });
      steps.push({ hPrev, z: step.z, r: step.r, hh: step.hh });
      h = step.hNew;
    }
    // Saved (kept past this op) only when a gradient is being recorded.
    save([xTm, w, uZR, uH, ...steps.flatMap((s) => [s.hPrev, s.z, s.r, s.hh]), ...(stepMasks ?? [])]);

    const gradFunc = (dy: Tensor, saved: Tensor[]): Tensor[] => {
      const [sxTm, sw, suZR, suH] = saved as Tensor2D[];
      const at = (t: number, k: number) => saved[4 + 4 * t + k] as Tensor2D;
      const maskAt = (t: number) => (stepMasks ? saved[4 + 4 * time + t] as Tensor2D : null);
      const daZR = new Array<Tensor>(time);
      const daH = new Array<Tensor>(time);
      let dh = dy;
      for (let t = time - 1; t >= 0; t--) {
        const dhNext = dh;
        const out = tf.tidy(() => {
          const [hPrev, z, r, hh] = [at(t, 0), at(t, 1), at(t, 2), at(t, 3)];
          const m = maskAt(t);
          // A masked step passes dh straight through to h_{t-1}.
          const dhStep = m ? tf.mul(dhNext, m) : dhNext;
          const dz = tf.mul(dhStep, tf.sub(hPrev, hh));
          const dhh = tf.sub(dhStep, tf.mul(dhStep, z));
          const aH = tf.mul(dhh, tf.sub(1, tf.square(hh)));
          const dRh = tf.matMul(aH, suH!, false, true);
          const dr = tf.mul(dRh, hPrev);
          const aZR = tf.mul(tf.concat([dz, dr], 1), tf.concat([tf.mul(z, tf.sub(1, z)), tf.mul(r, tf.sub(1, r))], 1));
          let dhPrev = tf.add(tf.add(tf.mul(dhStep, z), tf.mul(dRh, r)), tf.matMul(aZR, suZR!, false, true));
          if (m) dhPrev = tf.add(dhPrev, tf.sub(dhNext, dhStep));
          return { aZR, aH, dhPrev };
        });
        daZR[t] = out.aZR;
        daH[t] = out.aH;
        if (dh !== dy) dh.dispose();
        dh = out.dhPrev;
      }
      // Big matMuls over all T·batch rows at once.
      const aZRAll = tf.reshape(tf.stack(daZR), [time * batch, 2 * units]) as Tensor2D;
      const aHAll = tf.reshape(tf.stack(daH), [time * batch, units]) as Tensor2D;
      const hPrevAll = tf.reshape(tf.stack(Array.from({ length: time }, (_, t) => at(t, 0))), [time * batch, units]) as Tensor2D;
      const rAll = tf.reshape(tf.stack(Array.from({ length: time }, (_, t) => at(t, 2))), [time * batch, units]) as Tensor2D;
      const dU = tf.concat([tf.matMul(hPrevAll, aZRAll, true), tf.matMul(tf.mul(rAll, hPrevAll), aHAll, true)], 1);
      const dXW = tf.concat([aZRAll, aHAll], 1);
      const dW = tf.matMul(sxTm!, dXW, true);
      const dB = tf.sum(dXW, 0);
      const dx = tf.transpose(tf.reshape(tf.matMul(dXW, sw!, false, true), [time, batch, inDim]), [1, 0, 2]);
      return [dx, dW, dU, dB];
    };
    return { value: h, gradFunc };
  });

  try {
    return op(x, kernel, recurrentKernel, bias) as Tensor2D;
  } finally {
    if (stepMasks) tf.dispose(stepMasks);
  }
}

/** tfjs-layers layer wrapping gruLastState; weights named and ordered like tf.layers.gru's. */
export class FastGRU extends tf.layers.Layer {
  static className = 'FastGRU';
  readonly units: number;
  readonly seed: number | undefined;
  private kernel: tf.LayerVariable | null = null;
  private recurrentKernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(config: FastGRUConfig) {
    super(config);
    if (!Number.isInteger(config.units) || config.units <= 0) throw new Error(`FastGRU: units must be a positive integer, got ${config.units}`);
    if (config.activation !== undefined && config.activation !== 'tanh') throw new Error(`FastGRU: only activation 'tanh' is implemented`);
    if (config.recurrentActivation !== undefined && config.recurrentActivation !== 'sigmoid') throw new Error(`FastGRU: only recurrentActivation 'sigmoid' is implemented`);
    if (config.returnSequences) throw new Error('FastGRU: returnSequences is not implemented');
    this.units = config.units;
    this.seed = config.seed;
    this.supportsMasking = true;
    this.inputSpec = [new tf.InputSpec({ ndim: 3 })];
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const inDim = shape[shape.length - 1];
    if (inDim == null) throw new Error('FastGRU: the feature dimension must be known');
    const u = this.units;
    const seed = this.seed;
    // Distinct seeds per weight, so equal shapes would still not get equal values.
    this.kernel = this.addWeight('kernel', [inDim, 3 * u], 'float32', tf.initializers.glorotUniform({ seed }), undefined, true);
    this.recurrentKernel = this.addWeight('recurrent_kernel', [u, 3 * u], 'float32', tf.initializers.orthogonal({ seed: seed === undefined ? undefined : seed + 1 }), undefined, true);
    this.bias = this.addWeight('bias', [3 * u], 'float32', tf.initializers.zeros(), undefined, true);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0] ?? null, this.units];
  }

  // The output has no time axis, so no mask goes on (as in tfjs RNN with
  // returnSequences false); tfjs types computeMask without null, hence the cast.
  override computeMask(): Tensor | Tensor[] {
    return null as unknown as Tensor;
  }

  override call(inputs: Tensor | Tensor[], kwargs: Kwargs): Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const mask = (kwargs.mask ?? null) as Tensor | null;
      if (!this.kernel || !this.recurrentKernel || !this.bias) throw new Error('FastGRU: call before build');
      return gruLastState(x, this.kernel.read(), this.recurrentKernel.read(), this.bias.read(), mask);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { ...super.getConfig(), units: this.units, activation: 'tanh', recurrentActivation: 'sigmoid', returnSequences: false };
    if (this.seed !== undefined) config.seed = this.seed;
    return config;
  }
}
tf.serialization.registerClass(FastGRU);

export function fastGru(config: FastGRUConfig): FastGRU {
  return new FastGRU(config);
}
