/**
 * The tfjs-layers side shared by topoflow's recurrent layers (FastGRU,
 * FastLSTM): a layer over [batch, time, features] that returns the last state
 * [batch, units], honours a Masking layer's mask, and holds `kernel`
 * [in, gates·u], `recurrent_kernel` [u, gates·u] and `bias` [gates·u] named,
 * shaped and seeded like the stock tfjs layer built the ml/build.ts way. The
 * math (forward and hand-written backward) is the subclass's `lastState`.
 */
import { tf } from './tf.js';
import { installWasmKernels } from './wasmKernels.js';

type Tensor = tf.Tensor;
type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

export interface FastRecurrentConfig extends LayerArgs {
  units: number;
  /** Seeds the kernel (glorotUniform, seed) and recurrent kernel (orthogonal, seed + 1) initializers. */
  seed?: number;
  /** Accepted for drop-in compatibility; only 'tanh' / 'sigmoid' / false are implemented. */
  activation?: string;
  recurrentActivation?: string;
  returnSequences?: boolean;
  /**
   * Read at each call, never saved: whether a masked batch may skip each
   * row's steps after its last real one (rowPlan.ts; the native fused cell
   * only). Absent: it may. The trainer sets it false when a run keeps its
   * padding (trim: false), which then costs what it costs Keras.
   */
  packing?: { packed: boolean };
  /**
   * Whether anything trainable comes before the layer, so that its input's
   * gradient is wanted (never saved; absent: yes). ml/build.ts says no for a
   * recurrent layer on a model input, and the fused cell then skips it.
   */
  inputGradient?: boolean;
}

/** What differs between the cells. */
export interface CellShape {
  /** Class name, for messages. */
  label: string;
  /** Gate blocks in the weights (GRU 3, LSTM 4). */
  gates: number;
  /** Bias starts at 1 in the second gate block (LSTM's forget gate, as Keras' unit_forget_bias), else 0. */
  unitForgetBias: boolean;
}

/**
 * Pre-activation offset that shuts a sigmoid gate at masked steps:
 * σ(a − 1e30) is exactly 0 in float32 on both back ends (and σ(a + 1e30) exactly 1).
 */
export const MASKED = -1e30;

export abstract class FastRecurrent extends tf.layers.Layer {
  readonly units: number;
  readonly seed: number | undefined;
  private kernel: tf.LayerVariable | null = null;
  private recurrentKernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;
  private readonly packing: { packed: boolean } | undefined;
  /** See FastRecurrentConfig.inputGradient. */
  readonly inputGradient: boolean;

  protected constructor(config: FastRecurrentConfig, private readonly cell: CellShape) {
    super(config);
    const name = cell.label;
    if (!Number.isInteger(config.units) || config.units <= 0) throw new Error(`${name}: units must be a positive integer, got ${config.units}`);
    if (config.activation !== undefined && config.activation !== 'tanh') throw new Error(`${name}: only activation 'tanh' is implemented, got '${config.activation}'`);
    if (config.recurrentActivation !== undefined && config.recurrentActivation !== 'sigmoid') {
      throw new Error(`${name}: only recurrentActivation 'sigmoid' is implemented, got '${config.recurrentActivation}'`);
    }
    if (config.returnSequences) throw new Error(`${name}: returnSequences is not implemented`);
    this.units = config.units;
    this.seed = config.seed;
    this.packing = config.packing;
    this.inputGradient = config.inputGradient ?? true;
    this.supportsMasking = true;
    this.inputSpec = [new tf.InputSpec({ ndim: 3 })];
  }

  /** Whether this call may skip masked rows' trailing steps (see FastRecurrentConfig.packing). */
  protected get packed(): boolean {
    return this.packing?.packed ?? true;
  }

  /** x [batch, time, in] → last state [batch, units]; `mask` [batch, time] freezes a sample's state where false. */
  protected abstract lastState(x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor, mask: Tensor | null): Tensor;

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const inDim = shape[shape.length - 1];
    if (inDim == null) throw new Error(`${this.cell.label}: the feature dimension must be known`);
    const width = this.cell.gates * this.units;
    const seed = this.seed;
    this.kernel = this.addWeight('kernel', [inDim, width], 'float32', tf.initializers.glorotUniform({ seed }), undefined, true);
    // seed + 1: the same convention as ml/build.ts uses for the stock layers.
    const recurrentInit = tf.initializers.orthogonal({ seed: seed === undefined ? undefined : seed + 1 });
    this.recurrentKernel = this.addWeight('recurrent_kernel', [this.units, width], 'float32', recurrentInit, undefined, true);
    this.bias = this.addWeight('bias', [width], 'float32', tf.initializers.zeros(), undefined, true);
    if (this.cell.unitForgetBias) {
      const u = this.units;
      const initial = tf.tidy(() => tf.concat([tf.zeros([u]), tf.ones([u]), tf.zeros([width - 2 * u])]));
      this.bias.write(initial);
      initial.dispose();
    }
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

  override call(inputs: Tensor | Tensor[], kwargs: Record<string, unknown>): Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0]! : inputs;
      const mask = (kwargs.mask ?? null) as Tensor | null;
      if (!this.kernel || !this.recurrentKernel || !this.bias) throw new Error(`${this.cell.label}: call before build`);
      return this.lastState(x, this.kernel.read(), this.recurrentKernel.read(), this.bias.read(), mask);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    const config: tf.serialization.ConfigDict = { ...super.getConfig(), units: this.units, activation: 'tanh', recurrentActivation: 'sigmoid', returnSequences: false };
    if (this.seed !== undefined) config.seed = this.seed;
    return config;
  }
}

/** x [batch, time, in] → [in, time·batch]: feature-major, column t·batch + i (the layout both cells loop over). */
export function featureMajor(x: Tensor): Tensor {
  const [batch, time, inDim] = x.shape as [number, number, number];
  return tf.reshape(tf.transpose(x, [2, 1, 0]), [inDim, time * batch]);
}

/** mask [batch, time] (bool or 0/1) → float [time, batch], 1 where the step is real. */
export function timeMajorMask(mask: Tensor, batch: number, time: number): Tensor {
  return tf.transpose(tf.reshape(tf.cast(mask, 'float32'), [batch, time]));
}

/** The sizes of one run of a cell over a batch. */
export interface RunShape {
  batch: number;
  time: number;
  inDim: number;
  units: number;
  /** time · batch: the columns of the feature-major input. */
  tb: number;
  /** A gradient is being recorded: keep per-step tensors for the backward pass (else free them as soon as used). */
  recording: boolean;
}

/** Checks x [batch, time, in], installs the wasm kernels the loops rely on, and gives the run's sizes. */
export function runShape(label: string, x: Tensor, recurrentKernel: Tensor): RunShape {
  if (x.rank !== 3) throw new Error(`${label} expects input [batch, time, features], got [${x.shape.join(', ')}]`);
  const [batch, time, inDim] = x.shape as [number, number, number];
  if (tf.getBackend() === 'wasm') installWasmKernels();
  return { batch, time, inDim, units: recurrentKernel.shape[0], tb: time * batch, recording: tf.engine().isTapeOn() };
}

/**
 * Whether the layers may use TensorFlow's fused cells on the native back end
 * (gruBlock.ts): yes unless TOPOFLOW_NATIVE_CELLS=0 (benchmarks compare both).
 */
export function nativeCells(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.TOPOFLOW_NATIVE_CELLS !== '0';
}
