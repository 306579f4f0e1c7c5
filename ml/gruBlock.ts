/**
 * FastGRU on native TensorFlow: one fused `GRUBlockCell` op per time step
 * forward and one `GRUBlockCellGrad` per step backward (TensorFlow's CPU
 * kernels, by op name), instead of the ~10 small tfjs ops per step of
 * gru.ts, whose per-op cost through N-API dominates on this back end.
 *
 * GRUBlockCell is the same cell as tfjs' GRU (reset gate before the
 * recurrent product, one bias): r = σ([x, h]·W_ru_r + b_r), u = σ(…_u),
 * c = tanh([x, r∘h]·W_c + b_c), h' = u∘h + (1−u)∘c. Its weights stack the
 * input and recurrent rows: W_ru [in+u, 2u] (r, then u = tfjs' z), W_c
 * [in+u, u]. A mask enters as one more input column whose weight into u is
 * +1e30: u = 1 exactly at masked steps, so h' = h (and every gate gradient
 * there is 0), as the Masking layer wants, with no extra op per step.
 * Weight gradients are two big matMuls over all steps after the loop.
 */
import { tf } from './tf.js';
import { MASKED, runShape, timeMajorMask } from './recurrent.js';
import { hasNativeOp, runFloatOp } from './nativeOps.js';

type Tensor = tf.Tensor;

/** Whether the active back end has TensorFlow's fused GRU cell (native TensorFlow only). */
export function hasGruBlock(): boolean {
  return hasNativeOp('GRUBlockCell', () => {
    const z = (...s: number[]) => tf.zeros(s);
    runFloatOp('GRUBlockCell', [z(1, 1), z(1, 1), z(2, 2), z(2, 1), z(2), z(1)], 4);
  });
}

/** gruLastState (gru.ts) with the fused cell: same inputs, same result within float rounding. */
export function gruBlockLastState(x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor, mask: Tensor | null): Tensor {
  const { batch, time, inDim, units: u, recording } = runShape('FastGRU', x, recurrentKernel);
  if (time === 0) return tf.zeros([batch, u]);
  const cols = inDim + (mask ? 1 : 0);
  // The extra input column: 1 at masked steps, time-major [T, B, 1].
  const maskCol = mask ? tf.tidy(() => tf.expandDims(tf.sub(1, timeMajorMask(mask, batch, time)), 2)) : null;

  const op = tf.customGrad((...args) => {
    const [xIn, w, uRec, b, save] = args as [Tensor, Tensor, Tensor, Tensor, tf.GradSaveFunc];
    // Time-major input [T, B, in(+1)].
    const xT = tf.tidy(() => (maskCol ? tf.concat([tf.transpose(xIn, [1, 0, 2]), maskCol], 2) : tf.transpose(xIn, [1, 0, 2])));
    // tfjs gate blocks along the last axis: z (= u here), r, h (= c here).
    const block = (m: Tensor, g: number) => tf.slice(m, [0, g * u], [-1, u]);
    const maskRow = (ru: boolean) => (mask ? [tf.concat([tf.zeros([1, u]), ...(ru ? [tf.fill([1, u], -MASKED)] : [])], 1)] : []);
    const wRu = tf.concat([tf.concat([block(w, 1), block(w, 0)], 1), ...maskRow(true), tf.concat([block(uRec, 1), block(uRec, 0)], 1)], 0);
    const wC = tf.concat([block(w, 2), ...maskRow(false), block(uRec, 2)], 0);
    const bRu = tf.concat([tf.slice(b, [u], [u]), tf.slice(b, [0], [u])]);
    const bC = tf.slice(b, [2 * u], [u]);
    const xs = tf.unstack(xT);

    const hs: Tensor[] = [];
    const rs: Tensor[] = [];
    const us: Tensor[] = [];
    const cs: Tensor[] = [];
    let h: Tensor = tf.zeros([batch, u]);
    for (let t = 0; t < time; t++) {
      const [r, uGate, c, hNew] = runFloatOp('GRUBlockCell', [xs[t]!, h, wRu, wC, bRu, bC], 4) as [Tensor, Tensor, Tensor, Tensor];
      if (recording) {
        hs.push(h);
        rs.push(r);
        us.push(uGate);
        cs.push(c);
      } else {
        tf.dispose([h, r, uGate, c]);
      }
      h = hNew;
    }
    tf.dispose(xs);
    if (recording) save([wRu, wC, bRu, bC, xT, ...hs, ...rs, ...us, ...cs]);

    const gradFunc = (dy: Tensor, saved: Tensor[]): Tensor[] => tf.tidy(() => {
      const [sRu, sC, sbRu, sbC, xT] = saved as [Tensor, Tensor, Tensor, Tensor, Tensor];
      const at = (k: number, t: number) => saved[5 + k * time + t]!;
      const xsB = tf.unstack(xT);
      const dRu = new Array<Tensor>(time);
      const dC = new Array<Tensor>(time);
      const dX = new Array<Tensor>(time);
      let dh = dy;
      for (let t = time - 1; t >= 0; t--) {
        const [dx, dhPrev, dc, dru] = runFloatOp('GRUBlockCellGrad', [xsB[t]!, at(0, t), sRu, sC, sbRu, sbC, at(1, t), at(2, t), at(3, t), dh], 4) as [Tensor, Tensor, Tensor, Tensor];
        dX[t] = dx;
        dC[t] = dc;
        dRu[t] = dru;
        dh = dhPrev;
      }
      const tb = time * batch;
      const H = tf.stack(saved.slice(5, 5 + time)); // h before each step [T, B, u]
      const R = tf.stack(saved.slice(5 + time, 5 + 2 * time));
      const gRu = tf.reshape(tf.stack(dRu), [tb, 2 * u]);
      const gC = tf.reshape(tf.stack(dC), [tb, u]);
      const dWru = tf.matMul(tf.reshape(tf.concat([xT, H], 2), [tb, cols + u]), gRu, true, false); // [cols+u, 2u]
      const dWc = tf.matMul(tf.reshape(tf.concat([xT, tf.mul(R, H)], 2), [tb, cols + u]), gC, true, false); // [cols+u, u]
      const dBru = tf.sum(gRu, 0);
      const dBc = tf.sum(gC, 0);
      // Back to tfjs' layout (z, r, h), without the mask row.
      const rowsOf = (m: Tensor, from: number, n: number) => tf.slice(m, [from, 0], [n, -1]);
      const z = (m: Tensor) => tf.slice(m, [0, u], [-1, u]);
      const r = (m: Tensor) => tf.slice(m, [0, 0], [-1, u]);
      const kX = rowsOf(dWru, 0, inDim);
      const kH = rowsOf(dWru, cols, u);
      const dKernel = tf.concat([z(kX), r(kX), rowsOf(dWc, 0, inDim)], 1);
      const dRec = tf.concat([z(kH), r(kH), rowsOf(dWc, cols, u)], 1);
      const dBias = tf.concat([tf.slice(dBru, [u], [u]), tf.slice(dBru, [0], [u]), dBc]);
      const dx = tf.transpose(tf.slice(tf.stack(dX), [0, 0, 0], [time, batch, inDim]), [1, 0, 2]);
      return [dx, dKernel, dRec, dBias];
    });
    return { value: h, gradFunc };
  });

  try {
    return op(x, kernel, recurrentKernel, bias);
  } finally {
    if (maskCol) maskCol.dispose();
  }
}
