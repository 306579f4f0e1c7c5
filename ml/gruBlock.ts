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
 * Weight gradients are big matMuls over all steps after the loop. The
 * loops call the kernels on raw TensorFlow handles (nativeOps.ts' RawOps),
 * without a tfjs tensor per step: about a third of the per-call cost.
 */
import { tf } from './tf.js';
import { MASKED, runShape, timeMajorMask } from './recurrent.js';
import { hasNativeOp, RawOps, runFloatOp, type RawTensor } from './nativeOps.js';

type Tensor = tf.Tensor;

/** What the backward pass needs of one forward step: its input, the state before it, and the cell's gates. */
interface Step {
  x: RawTensor;
  h: RawTensor;
  r: RawTensor;
  u: RawTensor;
  c: RawTensor;
}

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
    const raw = new RawOps();
    // Time-major input [T, B, in(+1)].
    const xT = tf.tidy(() => (maskCol ? tf.concat([tf.transpose(xIn, [1, 0, 2]), maskCol], 2) : tf.transpose(xIn, [1, 0, 2])));
    // tfjs gate blocks along the last axis: z (= u here), r, h (= c here).
    const block = (m: Tensor, g: number) => tf.slice(m, [0, g * u], [-1, u]);
    const maskRow = (ru: boolean) => (mask ? [tf.concat([tf.zeros([1, u]), ...(ru ? [tf.fill([1, u], -MASKED)] : [])], 1)] : []);
    const wRu = tf.concat([tf.concat([block(w, 1), block(w, 0)], 1), ...maskRow(true), tf.concat([block(uRec, 1), block(uRec, 0)], 1)], 0);
    const wC = tf.concat([block(w, 2), ...maskRow(false), block(uRec, 2)], 0);
    const bRu = tf.concat([tf.slice(b, [u], [u]), tf.slice(b, [0], [u])]);
    const bC = tf.slice(b, [2 * u], [u]);

    // The loop runs on raw handles (no tfjs tensor per step): the per-step
    // handles live until the backward pass frees them.
    const weights = raw.handles([wRu, wC, bRu, bC]);
    const h0 = tf.zeros([batch, u]);
    const steps: Step[] = [];
    const stepHandles = () => steps.flatMap((st) => [st.h, st.r, st.u, st.c]); // their x are in xs
    const xs = raw.unpack(raw.handles([xT])[0]!, time);
    let h = raw.run('Identity', raw.handles([h0]), 1)[0]!;
    h0.dispose();
    try {
      for (let t = 0; t < time; t++) {
        const [r, uGate, c, hNew] = raw.run('GRUBlockCell', [xs[t]!.id, h.id, ...weights], 4) as [RawTensor, RawTensor, RawTensor, RawTensor];
        if (recording) steps.push({ x: xs[t]!, h, r, u: uGate, c });
        else raw.free([h, r, uGate, c]);
        h = hNew;
      }
      if (!recording) raw.free(xs);
    } catch (err) {
      raw.free([...xs, ...stepHandles(), h]);
      throw err;
    }
    if (recording) save([wRu, wC, bRu, bC, xT]);

    const gradFunc = (dy: Tensor, saved: Tensor[]): Tensor[] => tf.tidy(() => {
      const [sRu, sC, sbRu, sbC, xT] = saved as [Tensor, Tensor, Tensor, Tensor, Tensor];
      const grads = { dx: new Array<RawTensor>(time), dc: new Array<RawTensor>(time), dru: new Array<RawTensor>(time) };
      let dhOwned: RawTensor | null = null;
      let packed: Tensor[];
      try {
        const sw = raw.handles([sRu, sC, sbRu, sbC]);
        let dh = raw.handles([dy])[0]!;
        for (let t = time - 1; t >= 0; t--) {
          const st = steps[t]!;
          const [dx, dhPrev, dc, dru] = raw.run('GRUBlockCellGrad', [st.x.id, st.h.id, ...sw, st.r.id, st.u.id, st.c.id, dh], 4) as [RawTensor, RawTensor, RawTensor, RawTensor];
          raw.free([dhOwned]);
          dhOwned = dhPrev;
          dh = dhPrev.id;
          grads.dx[t] = dx;
          grads.dc[t] = dc;
          grads.dru[t] = dru;
        }
        // Each a [T, B, ·] stack, one op each; tfjs owns them from here.
        packed = [steps.map((st) => st.h), steps.map((st) => st.r), grads.dru, grads.dc, grads.dx].map((list) => raw.adopt(raw.pack(list)));
      } finally {
        raw.free([...xs, ...stepHandles(), ...grads.dx, ...grads.dc, ...grads.dru, dhOwned]);
        steps.length = 0;
      }
      const [H, R, dRu, dC, dX] = packed as [Tensor, Tensor, Tensor, Tensor, Tensor];
      const tb = time * batch;
      const gRu = tf.reshape(dRu, [tb, 2 * u]);
      const gC = tf.reshape(dC, [tb, u]);
      // Weight gradients: the input rows and the recurrent rows separately (no [T, B, in+u] concat).
      const x2 = tf.reshape(xT, [tb, cols]);
      const h2 = tf.reshape(H, [tb, u]);
      const kX = tf.slice(tf.matMul(x2, gRu, true, false), [0, 0], [inDim, -1]); // [in, 2u]
      const kH = tf.matMul(h2, gRu, true, false); // [u, 2u]
      const cX = tf.slice(tf.matMul(x2, gC, true, false), [0, 0], [inDim, -1]); // [in, u]
      const cH = tf.matMul(tf.reshape(tf.mul(R, H), [tb, u]), gC, true, false); // [u, u]
      const dBru = tf.sum(gRu, 0);
      const dBc = tf.sum(gC, 0);
      // Back to tfjs' layout (z, r, h), without the mask row.
      const z = (m: Tensor) => tf.slice(m, [0, u], [-1, u]);
      const r = (m: Tensor) => tf.slice(m, [0, 0], [-1, u]);
      const dKernel = tf.concat([z(kX), r(kX), cX], 1);
      const dRec = tf.concat([z(kH), r(kH), cH], 1);
      const dBias = tf.concat([tf.slice(dBru, [u], [u]), tf.slice(dBru, [0], [u]), dBc]);
      const dx = tf.transpose(tf.slice(dX, [0, 0, 0], [time, batch, inDim]), [1, 0, 2]);
      return [dx, dKernel, dRec, dBias];
    });
    if (!recording) xT.dispose();
    return { value: raw.adopt(h), gradFunc };
  });

  try {
    return op(x, kernel, recurrentKernel, bias);
  } finally {
    if (maskCol) maskCol.dispose();
  }
}
