/**
 * Custom layers the stock tfjs set lacks. `SeededDropout`: tfjs's Dropout with
 * a fixed seed draws the same mask at every step, and without one it uses
 * Math.random (not reproducible). This one derives each step's mask from
 * (seed, step), so a resumed run draws exactly the masks an uninterrupted run
 * would have drawn.
 */
import { tf } from './tf.js';

/**
 * Shared by the model's dropout and recurrent layers; the trainer sets
 * `step` before each step. `rows`: this pass holds rows offset.. of a batch
 * of `total` (a replica's shard, ml/replicas.ts), so each row gets the mask
 * it would have had in the whole batch.
 */
export class StepClock {
  step = 0;
  rows: { offset: number; total: number } | null = null;
  /** Recurrent layers may skip masked rows' trailing steps (FastRecurrentConfig.packing). */
  packed = true;
}

interface SeededDropoutArgs {
  rate: number;
  seed: number;
  clock: StepClock;
  name?: string;
}

export class SeededDropout extends tf.layers.Layer {
  static readonly className = 'TopoflowSeededDropout';
  private readonly rate: number;
  private readonly seed: number;
  private readonly clock: StepClock;

  constructor(args: SeededDropoutArgs) {
    super(args.name !== undefined ? { name: args.name } : {});
    this.rate = args.rate;
    this.seed = args.seed;
    this.clock = args.clock;
    this.supportsMasking = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0]! : inputs;
    if (kwargs.training !== true || this.rate === 0) return x;
    return tf.tidy(() => {
      const rows = this.clock.rows;
      const seed = `${this.seed}:${this.clock.step}`;
      // The mask of the whole batch, then this shard's rows of it (rows are drawn in order, so row i's mask is the same either way).
      const drawn = rows ? tf.slice(tf.randomUniform([rows.total, ...x.shape.slice(1)], 0, 1, 'float32', seed), rows.offset, x.shape[0]) : tf.randomUniform(x.shape, 0, 1, 'float32', seed);
      const keep = drawn.greaterEqual(this.rate);
      // Inverted dropout, as Keras: scale the kept units so the expectation is unchanged.
      return x.mul(keep.cast('float32')).div(1 - this.rate);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate, seed: this.seed };
  }
}
tf.serialization.registerClass(SeededDropout);
