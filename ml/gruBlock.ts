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
 * Packed rows (rowPlan.ts): with a mask, the batch runs longest row first
 * and each step only on the rows not yet past their last real step; the
 * loop then works on a shrinking prefix of the batch.
 */
import { tf } from './tf.js';
import { MASKED, runShape, timeMajorMask } from './recurrent.js';
import { hasNativeOp, RawOps, runFloatOp, type RawTensor } from './nativeOps.js';
import { fullPlan, packedPlan, runsEverything, type RowPlan } from './rowPlan.js';

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

/** How a run may take its shortcuts. */
export interface GruBlockOptions {
  /** Each step runs only the rows not yet past their last real step (rowPlan.ts); else every row at every step. */
  packed: boolean;
  /** The input's gradient is wanted (false: nothing trainable before the layer, so the backward pass gives zeros for it). */
  inputGradient: boolean;
}

/**
 * gruLastState (gru.ts) with the fused cell: same inputs, same result within
 * float rounding (the input's gradient too, unless `inputGradient` is false).
 */
export function gruBlockLastState(x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor, mask: Tensor | null, options: GruBlockOptions = { packed: true, inputGradient: true }): Tensor {
  const { batch, time, inDim, units: u, recording } = runShape('FastGRU', x, recurrentKernel);
  if (time === 0) return tf.zeros([batch, u]);
  const { plan, lengths, holes } = choosePlan(mask, batch, time, options.packed);
  const steps = plan.running.length;
  const everything = runsEverything(plan, batch, time);
  const cols = inDim + (mask ? 1 : 0);
  // Packed rows without holes are gathered from the input as it lies ([B·T, in], batch-major), their mask column
  // made from the lengths (a finished row may run a few more steps: they must be masked). Otherwise the input is
  // made time-major ([T·B, cols]) with the mask column joined; rowsRun null: every row of it, in order.
  const layout = !everything && !holes ? 'batch-major' : 'time-major';
  const rowsRun = everything ? null : packedRows(plan, batch, time, layout);
  // The extra input column: 1 at masked steps, time-major [T, B, 1].
  const maskCol = mask && layout === 'time-major' ? tf.tidy(() => tf.expandDims(tf.sub(1, timeMajorMask(mask, batch, time)), 2)) : null;
  const zeroRows = batch - (plan.running[0] ?? 0); // rows with no real step: never run, state 0

  const op = tf.customGrad((...args) => {
    const [xIn, w, uRec, b, save] = args as [Tensor, Tensor, Tensor, Tensor, tf.GradSaveFunc];
    const raw = new RawOps();
    // The rows each step runs, one after the other: [Σ running, in(+1)].
    const xP = tf.tidy(() => {
      if (layout === 'batch-major') {
        const rows = tf.gather(tf.reshape(xIn, [batch * time, inDim]), tf.tensor1d(rowsRun!, 'int32'));
        return tf.concat([rows, tf.tensor2d(pastEnd(rowsRun!, lengths!, time), [rowsRun!.length, 1])], 1);
      }
      const xT = maskCol ? tf.concat([tf.transpose(xIn, [1, 0, 2]), maskCol], 2) : tf.transpose(xIn, [1, 0, 2]);
      const flat = tf.reshape(xT, [time * batch, cols]);
      return rowsRun ? tf.gather(flat, tf.tensor1d(rowsRun, 'int32')) : flat;
    });
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
    const h0 = tf.zeros([plan.running[0]!, u]);
    const stepsKept: Step[] = [];
    const stepHandles = () => stepsKept.flatMap((st) => [st.h, st.r, st.u, st.c]); // their x are in xs
    const xs = raw.splitRows(raw.handles([xP])[0]!, plan.running);
    // Final states of rows that stopped running, in the order they stopped.
    const finished: RawTensor[] = [];
    let h = raw.run('Identity', raw.handles([h0]), 1)[0]!;
    h0.dispose();
    let last: RawTensor;
    try {
      for (let t = 0; t < steps; t++) {
        const k = plan.running[t]!;
        if (h.shape[0]! > k) {
          const [keep, done] = raw.splitRows(h.id, [k, h.shape[0]! - k]) as [RawTensor, RawTensor];
          raw.free([h]);
          finished.push(done);
          h = keep;
        }
        const [r, uGate, c, hNew] = raw.run('GRUBlockCell', [xs[t]!.id, h.id, ...weights], 4) as [RawTensor, RawTensor, RawTensor, RawTensor];
        if (recording) stepsKept.push({ x: xs[t]!, h, r, u: uGate, c });
        else raw.free([h, r, uGate, c]);
        h = hNew;
      }
      // The sorted batch's last states: rows that ran to the end, then the others, longest first.
      last = finished.length ? raw.concatRows([h, ...finished.slice().reverse()].map((t) => t.id)) : h;
      if (!recording) raw.free(xs);
    } catch (err) {
      raw.free([...xs, ...stepHandles(), ...finished, h]);
      throw err;
    }
    if (last !== h) raw.free([h, ...finished]);
    const out = tf.tidy(() => {
      let states = raw.adopt(last);
      if (zeroRows > 0) states = tf.concat([states, tf.zeros([zeroRows, u])]);
      return plan.order ? tf.gather(states, inverse(plan.order)) : states;
    });
    if (recording) save([wRu, wC, bRu, bC, xP]);

    /** The input's gradient from the packed rows' (0 at the rows not run), laid out as the input. */
    const inputGradient = (dXP: Tensor): Tensor => {
      const n = batch * time;
      const placed = rowsRun ? tf.scatterND(tf.tensor2d(rowsRun, [rowsRun.length, 1], 'int32'), dXP, [n, cols]) : dXP;
      if (layout === 'batch-major') return tf.slice(tf.reshape(placed, [batch, time, cols]), [0, 0, 0], [batch, time, inDim]);
      return tf.transpose(tf.slice(tf.reshape(placed, [time, batch, cols]), [0, 0, 0], [time, batch, inDim]), [1, 0, 2]);
    };

    const gradFunc = (dy: Tensor, saved: Tensor[]): Tensor[] => tf.tidy(() => {
      const [sRu, sC, sbRu, sbC, xP] = saved as [Tensor, Tensor, Tensor, Tensor, Tensor];
      const grads = { dx: new Array<RawTensor>(steps), dc: new Array<RawTensor>(steps), dru: new Array<RawTensor>(steps) };
      // dy in the sorted order, cut as the forward pass joined the last states.
      const stopped = finishedSizes(plan);
      const dyPieces = tf.split(plan.order ? tf.gather(dy, plan.order) : dy, [plan.running[steps - 1]!, ...stopped.slice().reverse(), ...(zeroRows > 0 ? [zeroRows] : [])]);
      let dhOwned: RawTensor | null = null;
      let packedGrads: Tensor[];
      try {
        const sw = raw.handles([sRu, sC, sbRu, sbC]);
        const pieces = raw.handles(dyPieces);
        let dh = pieces[0]!;
        let rows = plan.running[steps - 1]!;
        let next = 1;
        for (let t = steps - 1; t >= 0; t--) {
          const st = stepsKept[t]!;
          if (rows < plan.running[t]!) {
            // Rows whose last step is t join, with their share of dy.
            const joined = raw.concatRows([dh, pieces[next++]!]);
            raw.free([dhOwned]);
            dhOwned = joined;
            dh = joined.id;
            rows = plan.running[t]!;
          }
          const [dx, dhPrev, dc, dru] = raw.run('GRUBlockCellGrad', [st.x.id, st.h.id, ...sw, st.r.id, st.u.id, st.c.id, dh], 4) as [RawTensor, RawTensor, RawTensor, RawTensor];
          raw.free([dhOwned]);
          dhOwned = dhPrev;
          dh = dhPrev.id;
          grads.dx[t] = dx;
          grads.dc[t] = dc;
          grads.dru[t] = dru;
        }
        // Each a [Σ running, ·] stack, one op each; tfjs owns them from here.
        const stacks = [stepsKept.map((st) => st.h), stepsKept.map((st) => st.r), grads.dru, grads.dc, ...(options.inputGradient ? [grads.dx] : [])];
        packedGrads = stacks.map((list) => raw.adopt(raw.concatRows(list.map((t) => t.id))));
      } finally {
        raw.free([...xs, ...stepHandles(), ...grads.dx, ...grads.dc, ...grads.dru, dhOwned]);
        stepsKept.length = 0;
      }
      const [H, R, gRu, gC, dXP] = packedGrads as [Tensor, Tensor, Tensor, Tensor, Tensor | undefined];
      // Weight gradients: the input rows and the recurrent rows separately (no [Σ running, in+u] concat).
      const kX = tf.slice(tf.matMul(xP, gRu, true, false), [0, 0], [inDim, -1]); // [in, 2u]
      const kH = tf.matMul(H, gRu, true, false); // [u, 2u]
      const cX = tf.slice(tf.matMul(xP, gC, true, false), [0, 0], [inDim, -1]); // [in, u]
      const cH = tf.matMul(tf.mul(R, H), gC, true, false); // [u, u]
      const dBru = tf.sum(gRu, 0);
      const dBc = tf.sum(gC, 0);
      // Back to tfjs' layout (z, r, h), without the mask row.
      const z = (m: Tensor) => tf.slice(m, [0, u], [-1, u]);
      const r = (m: Tensor) => tf.slice(m, [0, 0], [-1, u]);
      const dKernel = tf.concat([z(kX), r(kX), cX], 1);
      const dRec = tf.concat([z(kH), r(kH), cH], 1);
      const dBias = tf.concat([tf.slice(dBru, [u], [u]), tf.slice(dBru, [0], [u]), dBc]);
      return [dXP ? inputGradient(dXP) : tf.zeros([batch, time, inDim]), dKernel, dRec, dBias];
    });
    if (!recording) xP.dispose();
    return { value: out, gradFunc };
  });

  try {
    return op(x, kernel, recurrentKernel, bias);
  } finally {
    if (maskCol) maskCol.dispose();
  }
}

/**
 * The packed plan when asked for and a mask gives one that skips something
 * (with whether a row has masked steps before its last real one); else every
 * row at every step. Lengths and counts come from TensorFlow as 2·B numbers:
 * reading the whole mask back costs milliseconds on the native back end.
 */
function choosePlan(mask: Tensor | null, batch: number, time: number, packed: boolean): { plan: RowPlan; lengths: Int32Array | null; holes: boolean } {
  if (!packed || !mask) return { plan: fullPlan(batch, time), lengths: null, holes: false };
  const values = tf.tidy(() => {
    const real = tf.cast(mask, 'float32');
    // One past each row's last real step, and its count of real steps.
    return tf.stack([tf.max(tf.mul(real, tf.range(1, time + 1)), 1), tf.sum(real, 1)]).dataSync();
  });
  const lengths = Int32Array.from(values.subarray(0, batch));
  const plan = packedPlan(lengths);
  if (plan.running.length === 0) return { plan: fullPlan(batch, time), lengths, holes: false }; // all masked: as before
  return { plan, lengths, holes: lengths.some((n, i) => values[batch + i]! < n) };
}

/** The mask column for batch-major rows `rows` (row·time + t) of rows without holes: 1 past a row's length. */
function pastEnd(rows: Int32Array, lengths: Int32Array, time: number): Float32Array {
  return Float32Array.from(rows, (at) => (at % time >= lengths[Math.floor(at / time)]! ? 1 : 0));
}

/** Rows of the input ([T·B, ·] time-major or [B·T, ·] batch-major) that the plan runs, step by step. */
function packedRows(plan: RowPlan, batch: number, time: number, layout: 'time-major' | 'batch-major'): Int32Array {
  const total = plan.running.reduce((a, b) => a + b, 0);
  const rows = new Int32Array(total);
  let at = 0;
  plan.running.forEach((k, t) => {
    for (let j = 0; j < k; j++) {
      const row = plan.order ? plan.order[j]! : j;
      rows[at++] = layout === 'time-major' ? t * batch + row : row * time + t;
    }
  });
  return rows;
}

/** The sizes of the groups of rows that stop running, in the order they stop. */
function finishedSizes(plan: RowPlan): number[] {
  const sizes: number[] = [];
  for (let t = 1; t < plan.running.length; t++) if (plan.running[t]! < plan.running[t - 1]!) sizes.push(plan.running[t - 1]! - plan.running[t]!);
  return sizes;
}

/** The inverse permutation. */
function inverse(order: Int32Array): Int32Array {
  const inv = new Int32Array(order.length);
  order.forEach((row, i) => (inv[row] = i));
  return inv;
}
