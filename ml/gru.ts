/**
 * FastGRU: a drop-in for `tf.layers.gru({units, activation: 'tanh',
 * recurrentActivation: 'sigmoid', returnSequences: false})` with a
 * hand-written backward pass.
 *
 * The stock tfjs RNN unstacks the batch-major input over time and lets
 * autodiff run through every per-step op; on the wasm back end each slice
 * (and each slice's gradient, a pad to the full input) touches the whole
 * sequence, so one training step is quadratic in the number of time steps.
 * Here the input projection x·W + b for all steps is ONE matMul, the loop
 * does only the small recurrent ops, and the backward pass (tf.customGrad)
 * collects per-step gate gradients so that dW, dU, db and dx are again a
 * handful of big matMuls.
 *
 * Same math and weight layout as tfjs's GRUCell (Keras 1, reset_after=false):
 * kernel [in, 3u], recurrent_kernel [u, 3u], bias [3u], gates (z, r, h) along
 * the last axis:
 *   z = σ(x·Wz + h·Uz + bz)   r = σ(x·Wr + h·Ur + br)
 *   hh = tanh(x·Wh + (r∘h)·Uh + bh)   h' = z∘h + (1−z)∘hh
 * With a mask, a masked step carries the state over unchanged.
 *
 * Implementation notes (all measured on the wasm back end, where per-op
 * overhead dominates):
 * - The loop keeps the state feature-major, hᵀ [u, batch], so the per-step
 *   gate blocks are contiguous row ranges (cheap slices, cheap concats).
 * - Columns of W, U, b are rescaled once per call by c = (−1, 1, 2) per gate
 *   block: the first gate then yields k = 1 − z directly (σ(−a) = 1 − σ(a)),
 *   and the candidate yields s with tanh(a) = 2σ(2a) − 1 (wasm's tanh is
 *   several times slower than its sigmoid). The gradients w.r.t. the scaled
 *   weights are scaled back by the same c.
 * - matMuls never use transposeA/transposeB: wasm runs those on a slow path.
 * - A mask closes the update gate (pre-activation −1e30) instead of costing
 *   ops in the loop.
 * - Backward factors that do not depend on the incoming gradient are computed
 *   for all steps at once, leaving 8 small ops and 2 small matMuls per step.
 */
import { tf } from './tf.js';
import { FastRecurrent, MASKED, featureMajor, nativeCells, runShape, timeMajorMask, type FastRecurrentConfig } from './recurrent.js';
import { gruBlockLastState, hasGruBlock } from './gruBlock.js';

type Tensor = tf.Tensor;

export type FastGRUConfig = FastRecurrentConfig;

/**
 * Runs the GRU over x [batch, time, in] and returns the last state
 * [batch, units]. `mask` ([batch, time], bool or 0/1) freezes the state of a
 * sample at its masked steps. Differentiable w.r.t. x, kernel, recurrent
 * kernel and bias (not the mask).
 */
export function gruLastState(x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor, mask: Tensor | null): Tensor {
  const { batch, time, inDim, units: u, tb, recording } = runShape('FastGRU', x, recurrentKernel);
  if (time === 0) return tf.zeros([batch, u]);
  // The mask enters as one more input row, [1, T·batch] in time-major column
  // order, that only the k gate reads (weight 1): MASKED where masked, else 0.
  const maskRow = mask ? tf.tidy(() => tf.reshape(tf.mul(tf.sub(1, timeMajorMask(mask, batch, time)), MASKED), [1, tb])) : null;

  const op = tf.customGrad((...args) => {
    const [xIn, w, uRec, b, save] = args as [Tensor, Tensor, Tensor, Tensor, tf.GradSaveFunc];
    const one = tf.scalar(1);
    const two = tf.scalar(2);
    // Column scale per gate block: k = 1 − z, r, and 2·(candidate pre-activation).
    const c = tf.concat([tf.fill([u], -1), tf.ones([u]), tf.fill([u], 2)]);
    const wcT = tf.transpose(tf.mul(w, c)); // [3u, in]
    const uc = tf.mul(uRec, c); // [u, 3u]
    const ucT = tf.transpose(uc);
    const uKRt = tf.slice(ucT, [0, 0], [2 * u, u]);
    const uSt = tf.slice(ucT, [2 * u, 0], [u, u]);
    // Inputs feature-major, column t·batch + i, plus a row of ones so the bias
    // rides in the matMul (and comes back out of dW's), plus the mask row.
    const xa = tf.tidy(() => tf.concat([featureMajor(xIn), tf.ones([1, tb]), ...(maskRow ? [maskRow] : [])]));
    const waCols = [wcT, tf.reshape(tf.mul(b, c), [3 * u, 1])];
    if (maskRow) waCols.push(tf.reshape(tf.concat([tf.ones([u]), tf.zeros([2 * u])]), [3 * u, 1]));
    const waT = tf.concat(waCols, 1); // [3u, in+1(+1)]
    // Per-step input pre-activations [rows, batch]; two matMuls rather than a
    // slice of one, since a strided slice of a big tensor is slow on cpu.
    const perStep = (rows: number, from: number) => tf.tidy(() =>
      tf.unstack(tf.transpose(tf.reshape(tf.matMul(tf.slice(waT, [from, 0], [rows, -1]), xa), [rows, time, batch]), [1, 0, 2])));
    const xKR = perStep(2 * u, 0);
    const xS = perStep(u, 2 * u);

    const hs: Tensor[] = [];
    const ks: Tensor[] = [];
    const rs: Tensor[] = [];
    const hhs: Tensor[] = [];
    let h: Tensor = tf.zeros([u, batch]);
    for (let t = 0; t < time; t++) {
      const hT = h;
      const step = tf.tidy(() => {
        const kr = tf.sigmoid(tf.add(xKR[t]!, tf.matMul(uKRt, hT)));
        const k = tf.slice(kr, [0, 0], [u, batch]);
        const r = tf.slice(kr, [u, 0], [u, batch]);
        const hh = tf.sub(tf.mul(tf.sigmoid(tf.add(xS[t]!, tf.matMul(uSt, tf.mul(r, hT)))), two), one);
        // z∘h + (1−z)∘hh = h + k∘(hh − h)
        return { k, r, hh, hNew: tf.add(hT, tf.mul(k, tf.sub(hh, hT))) };
      });
      tf.dispose([xKR[t]!, xS[t]!]);
      if (recording) {
        hs.push(hT);
        ks.push(step.k);
        rs.push(step.r);
        hhs.push(step.hh);
      } else {
        tf.dispose([hT, step.k, step.r, step.hh]);
      }
      h = step.hNew;
    }
    if (recording) {
      // Saved (kept past this op) as four [T, u, batch] stacks.
      const stacks = [hs, ks, rs, hhs].map((list) => tf.stack(list));
      tf.dispose([...hs, ...ks, ...rs, ...hhs]);
      save([xa, wcT, uc, c, ...stacks]);
    }

    const gradFunc = (dy: Tensor, saved: Tensor[]): Tensor[] => tf.tidy(() => {
      const [sxa, swcT, suc, sc, H, K, R, HH] = saved as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
      const one = tf.scalar(1);
      const uKR = tf.slice(suc, [0, 0], [u, 2 * u]);
      const uS = tf.slice(suc, [0, 2 * u], [u, u]);
      // Per-step factors that do not depend on dh, for all steps at once (each
      // in its own tidy, to keep the peak memory down). At masked steps k = 0,
      // so all but gz vanish and dh passes straight through.
      const steps = (fn: () => Tensor) => tf.tidy(() => tf.unstack(fn()));
      const f = {
        gz: steps(() => tf.sub(one, K)), // ∂h'/∂h through h + k∘(hh − h)
        ak: steps(() => tf.mul(tf.mul(tf.sub(HH, H), K), tf.sub(one, K))), // dh → pre-activation of k
        as: steps(() => tf.mul(tf.mul(K, tf.sub(one, tf.square(HH))), 0.5)), // dh → pre-activation of s
        ar: steps(() => tf.mul(tf.mul(H, R), tf.sub(one, R))), // d(r∘h) → pre-activation of r
        r: tf.unstack(R),
        rh: tf.mul(R, H),
      };
      tf.dispose([K, HH, R]);

      const aKR = new Array<Tensor>(time);
      const aS = new Array<Tensor>(time);
      let dh = tf.transpose(dy); // [u, batch]
      for (let t = time - 1; t >= 0; t--) {
        const dhT = dh;
        const out = tf.tidy(() => {
          const ak = tf.mul(dhT, f.ak[t]!);
          const as = tf.mul(dhT, f.as[t]!);
          const dRh = tf.matMul(uS, as);
          const akr = tf.concat([ak, tf.mul(dRh, f.ar[t]!)]);
          const dhPrev = tf.add(tf.add(tf.mul(dhT, f.gz[t]!), tf.mul(dRh, f.r[t]!)), tf.matMul(uKR, akr));
          return { akr, as, dhPrev };
        });
        tf.dispose([dhT, f.ak[t]!, f.as[t]!, f.ar[t]!, f.gz[t]!, f.r[t]!]);
        aKR[t] = out.akr;
        aS[t] = out.as;
        dh = out.dhPrev;
      }

      // Gate gradients as [T·batch, gates] rows, for the big matMuls.
      const rows = (a: Tensor[], n: number) => tf.tidy(() => tf.reshape(tf.transpose(tf.stack(a), [0, 2, 1]), [tb, n]));
      const gKR = rows(aKR, 2 * u);
      const gS = rows(aS, u);
      tf.dispose([...aKR, ...aS]);
      const dUKR = tf.tidy(() => tf.matMul(tf.reshape(tf.transpose(H, [1, 0, 2]), [u, tb]), gKR)); // H as [u, T·B]
      tf.dispose(H);
      const dUS = tf.tidy(() => tf.matMul(tf.reshape(tf.transpose(f.rh, [1, 0, 2]), [u, tb]), gS));
      tf.dispose(f.rh);
      const dU = tf.concat([dUKR, dUS], 1);
      const dWa = tf.concat([tf.matMul(sxa, gKR), tf.matMul(sxa, gS)], 1); // [in+1(+1), 3u]
      const dW = tf.slice(dWa, [0, 0], [inDim, 3 * u]);
      const dB = tf.reshape(tf.slice(dWa, [inDim, 0], [1, 3 * u]), [3 * u]);
      const dxRows = tf.add(tf.matMul(gKR, tf.slice(swcT, [0, 0], [2 * u, inDim])), tf.matMul(gS, tf.slice(swcT, [2 * u, 0], [u, inDim])));
      const dx = tf.transpose(tf.reshape(dxRows, [time, batch, inDim]), [1, 0, 2]);
      // Gradients w.r.t. the scaled weights, scaled back to the layer's weights.
      return [dx, tf.mul(dW, sc), tf.mul(dU, sc), tf.mul(dB, sc)];
    });
    return { value: tf.transpose(h), gradFunc };
  });

  try {
    return op(x, kernel, recurrentKernel, bias);
  } finally {
    if (maskRow) maskRow.dispose();
  }
}

/** tfjs-layers layer wrapping gruLastState; weights named and ordered like tf.layers.gru's. */
export class FastGRU extends FastRecurrent {
  static className = 'FastGRU';

  constructor(config: FastGRUConfig) {
    super(config, { label: 'FastGRU', gates: 3, unitForgetBias: false });
  }

  protected lastState(x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor, mask: Tensor | null): Tensor {
    // Native TensorFlow: its fused cell (gruBlock.ts), one op per step.
    if (nativeCells() && hasGruBlock()) return gruBlockLastState(x, kernel, recurrentKernel, bias, mask, { packed: this.packed, inputGradient: this.inputGradient });
    return gruLastState(x, kernel, recurrentKernel, bias, mask);
  }
}
tf.serialization.registerClass(FastGRU);

export function fastGru(config: FastGRUConfig): FastGRU {
  return new FastGRU(config);
}
