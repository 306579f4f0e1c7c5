/**
 * Adam with state we own: the moments are plain tensors that a checkpoint
 * saves and restores bit for bit, and the bias correction is computed in
 * double precision from the step count (tfjs's AdamOptimizer accumulates
 * β^t in float32 and recomputes it differently after setWeights, so a resumed
 * run would drift). Same update as Keras: lr·√(1−β2^t)/(1−β1^t)·m/(√v+ε).
 */
import { tf } from './tf.js';

export interface AdamConfig {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
}

/** Keras defaults, as in the seed's models. */
export const KERAS_ADAM: AdamConfig = { learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

export class Adam {
  /** Completed updates. */
  step = 0;
  readonly m: tf.Variable[];
  readonly v: tf.Variable[];

  constructor(private readonly vars: tf.Variable[], private readonly cfg: AdamConfig = KERAS_ADAM) {
    this.m = vars.map((x) => tf.variable(tf.zerosLike(x), false));
    this.v = vars.map((x) => tf.variable(tf.zerosLike(x), false));
  }

  /** One update; `grads` in the order of the variables. */
  apply(grads: tf.Tensor[]): void {
    const t = ++this.step;
    const { beta1, beta2, epsilon } = this.cfg;
    const alpha = (this.cfg.learningRate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
    tf.tidy(() => {
      this.vars.forEach((x, i) => {
        const g = grads[i]!;
        const m = this.m[i]!.mul(beta1).add(g.mul(1 - beta1));
        const v = this.v[i]!.mul(beta2).add(g.square().mul(1 - beta2));
        this.m[i]!.assign(m);
        this.v[i]!.assign(v);
        x.assign(x.sub(m.mul(alpha).div(v.sqrt().add(epsilon))));
      });
    });
  }

  dispose(): void {
    for (const t of [...this.m, ...this.v]) t.dispose();
  }
}
