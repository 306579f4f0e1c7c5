/**
 * FastLSTM: a drop-in for `tf.layers.lstm({units, activation: 'tanh',
 * recurrentActivation: 'sigmoid', unitForgetBias: true})` with a hand-written
 * backward pass, built the way FastGRU is (ml/gru.ts explains why): one matMul
 * for every step's input projection, a loop of small recurrent ops on a
 * feature-major state, and gate gradients gathered into big matMuls.
 *
 * Same math and weight layout as tfjs's LSTMCell (and Keras'): kernel
 * [in, 4u], recurrent_kernel [u, 4u], bias [4u], gates (i, f, c, o):
 *   i = σ(x·Wi + h·Ui + bi)   f = σ(x·Wf + h·Uf + bf)   o = σ(x·Wo + h·Uo + bo)
 *   g = tanh(x·Wc + h·Uc + bc)   c' = f∘c + i∘g   h' = o∘tanh(c')
 * With a mask, a masked step carries h and c over unchanged: its input and
 * forget gates are shut and opened through the pre-activation (±1e30), so
 * c' = c exactly, and h' = h + m∘(o∘tanh(c') − h) with m = 0.
 *
 * The candidate's columns are scaled by 2 so that one sigmoid serves all four
 * gates (tanh(a) = 2σ(2a) − 1; wasm's tanh is several times slower than its
 * sigmoid); its gradients are scaled back.
 */
import { tf } from './tf.js';
import { FastRecurrent, MASKED, featureMajor, runShape, timeMajorMask, type FastRecurrentConfig } from './recurrent.js';

type Tensor = tf.Tensor;

export type FastLSTMConfig = FastRecurrentConfig;

/**
 * Runs the LSTM over x [batch, time, in] and returns the last state h
 * [batch, units]. `mask` ([batch, time], bool or 0/1) freezes a sample's
 * state at its masked steps. Differentiable w.r.t. x, kernel, recurrent
 * kernel and bias (not the mask).
 */
export function lstmLastState(x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor, mask: Tensor | null): Tensor {
  const { batch, time, inDim, units: u, tb, recording } = runShape('FastLSTM', x, recurrentKernel);
  if (time === 0) return tf.zeros([batch, u]);
  // m [time, batch]: 1 at real steps. The mask enters the input projection as
  // one more row, MASKED where masked, read by i (weight 1) and f (weight −1).
  const m = mask ? tf.tidy(() => timeMajorMask(mask, batch, time)) : null;
  const maskRow = m ? tf.tidy(() => tf.reshape(tf.mul(tf.sub(1, m), MASKED), [1, tb])) : null;

  const op = tf.customGrad((...args) => {
    const [xIn, w, uRec, b, save] = args as [Tensor, Tensor, Tensor, Tensor, tf.GradSaveFunc];
    const one = tf.scalar(1);
    const two = tf.scalar(2);
    const c = tf.concat([tf.ones([2 * u]), tf.fill([u], 2), tf.ones([u])]);
    const wcT = tf.transpose(tf.mul(w, c)); // [4u, in]
    const uc = tf.mul(uRec, c); // [u, 4u]
    const ucT = tf.transpose(uc); // [4u, u]
    const xa = tf.tidy(() => tf.concat([featureMajor(xIn), tf.ones([1, tb]), ...(maskRow ? [maskRow] : [])]));
    const waCols = [wcT, tf.reshape(tf.mul(b, c), [4 * u, 1])];
    if (maskRow) waCols.push(tf.reshape(tf.concat([tf.ones([u]), tf.fill([u], -1), tf.zeros([2 * u])]), [4 * u, 1]));
    const waT = tf.concat(waCols, 1); // [4u, in+1(+1)]
    const xPre = tf.tidy(() => tf.unstack(tf.transpose(tf.reshape(tf.matMul(waT, xa), [4 * u, time, batch]), [1, 0, 2])));
    const mSteps = m ? tf.tidy(() => tf.unstack(tf.reshape(m, [time, 1, batch]))) : null;

    const saved: Record<'h' | 'c' | 'i' | 'f' | 'g' | 'o' | 'tc', Tensor[]> = { h: [], c: [], i: [], f: [], g: [], o: [], tc: [] };
    let h: Tensor = tf.zeros([u, batch]);
    let cell: Tensor = tf.zeros([u, batch]);
    for (let t = 0; t < time; t++) {
      const [hT, cT] = [h, cell];
      const step = tf.tidy(() => {
        const s = tf.sigmoid(tf.add(xPre[t]!, tf.matMul(ucT, hT)));
        const i = tf.slice(s, [0, 0], [u, batch]);
        const f = tf.slice(s, [u, 0], [u, batch]);
        const g = tf.sub(tf.mul(tf.slice(s, [2 * u, 0], [u, batch]), two), one);
        const o = tf.slice(s, [3 * u, 0], [u, batch]);
        const cNew = tf.add(tf.mul(f, cT), tf.mul(i, g));
        const tc = tf.sub(tf.mul(tf.sigmoid(tf.mul(cNew, two)), two), one);
        const hOut = tf.mul(o, tc);
        const hNew = mSteps ? tf.add(hT, tf.mul(mSteps[t]!, tf.sub(hOut, hT))) : hOut;
        return { i, f, g, o, tc, cNew, hNew };
      });
      tf.dispose(xPre[t]!);
      const kept = { h: hT, c: cT, i: step.i, f: step.f, g: step.g, o: step.o, tc: step.tc };
      if (recording) for (const [k, v] of Object.entries(kept)) saved[k as keyof typeof saved].push(v);
      else tf.dispose(Object.values(kept));
      h = step.hNew;
      cell = step.cNew;
    }
    cell.dispose();
    if (recording) {
      const stacks = (['h', 'c', 'i', 'f', 'g', 'o', 'tc'] as const).map((k) => tf.stack(saved[k]));
      tf.dispose(Object.values(saved).flat());
      save([xa, wcT, uc, c, ...stacks, ...(m ? [tf.reshape(m, [time, 1, batch])] : [])]);
    }
    if (mSteps) tf.dispose(mSteps);

    const gradFunc = (dy: Tensor, keep: Tensor[]): Tensor[] => tf.tidy(() => {
      const [sxa, swcT, suc, sc, H, C, I, F, G, O, TC, M] = keep as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor, Tensor | undefined];
      const one = tf.scalar(1);
      // Factors that do not depend on the incoming gradients, for all steps at once.
      const steps = (fn: () => Tensor) => tf.tidy(() => tf.unstack(fn()));
      const p = {
        o: steps(() => tf.mul(tf.mul(O, tf.sub(one, O)), TC)), // dh → pre-activation of o
        tc: steps(() => tf.mul(O, tf.sub(one, tf.square(TC)))), // dh → dc'
        i: steps(() => tf.mul(G, tf.mul(I, tf.sub(one, I)))), // dc' → pre-activation of i
        f: steps(() => tf.mul(C, tf.mul(F, tf.sub(one, F)))), // dc' → pre-activation of f
        g: steps(() => tf.mul(tf.mul(I, tf.sub(one, tf.square(G))), 0.5)), // dc' → scaled pre-activation of g
        fc: tf.unstack(F), // dc' → dc
        m: M ? tf.unstack(M) : null,
      };
      tf.dispose([C, I, F, G, O, TC]);

      const gates = new Array<Tensor>(time);
      let dh = tf.transpose(dy); // [u, batch]
      let dc: Tensor = tf.zeros([u, batch]);
      for (let t = time - 1; t >= 0; t--) {
        const [dhT, dcT] = [dh, dc];
        const out = tf.tidy(() => {
          const dhOut = p.m ? tf.mul(dhT, p.m[t]!) : dhT;
          const dcAll = tf.add(dcT, tf.mul(dhOut, p.tc[t]!));
          const a = tf.concat([tf.mul(dcAll, p.i[t]!), tf.mul(dcAll, p.f[t]!), tf.mul(dcAll, p.g[t]!), tf.mul(dhOut, p.o[t]!)]);
          const through = tf.matMul(suc, a);
          const dhPrev = p.m ? tf.add(through, tf.sub(dhT, dhOut)) : through;
          return { a, dhPrev, dcPrev: tf.mul(dcAll, p.fc[t]!) };
        });
        tf.dispose([dhT, dcT, p.o[t]!, p.tc[t]!, p.i[t]!, p.f[t]!, p.g[t]!, p.fc[t]!, ...(p.m ? [p.m[t]!] : [])]);
        gates[t] = out.a;
        dh = out.dhPrev;
        dc = out.dcPrev;
      }

      // Gate gradients as [T·batch, 4u] rows, for the big matMuls.
      const rows = tf.tidy(() => tf.reshape(tf.transpose(tf.stack(gates), [0, 2, 1]), [tb, 4 * u]));
      tf.dispose(gates);
      const dU = tf.tidy(() => tf.matMul(tf.reshape(tf.transpose(H, [1, 0, 2]), [u, tb]), rows)); // H as [u, T·B]
      tf.dispose(H);
      const dWa = tf.matMul(sxa, rows); // [in+1(+1), 4u]
      const dW = tf.slice(dWa, [0, 0], [inDim, 4 * u]);
      const dB = tf.reshape(tf.slice(dWa, [inDim, 0], [1, 4 * u]), [4 * u]);
      const dx = tf.transpose(tf.reshape(tf.matMul(rows, swcT), [time, batch, inDim]), [1, 0, 2]);
      // Gradients w.r.t. the scaled weights, scaled back to the layer's weights.
      return [dx, tf.mul(dW, sc), tf.mul(dU, sc), tf.mul(dB, sc)];
    });
    return { value: tf.transpose(h), gradFunc };
  });

  try {
    return op(x, kernel, recurrentKernel, bias);
  } finally {
    tf.dispose([...(m ? [m] : []), ...(maskRow ? [maskRow] : [])]);
  }
}

/** tfjs-layers layer wrapping lstmLastState; weights named, ordered and initialised like tf.layers.lstm's with unitForgetBias. */
export class FastLSTM extends FastRecurrent {
  static className = 'FastLSTM';

  constructor(config: FastLSTMConfig) {
    super(config, { label: 'FastLSTM', gates: 4, unitForgetBias: true });
  }

  protected lastState(x: Tensor, kernel: Tensor, recurrentKernel: Tensor, bias: Tensor, mask: Tensor | null): Tensor {
    return lstmLastState(x, kernel, recurrentKernel, bias, mask);
  }
}
tf.serialization.registerClass(FastLSTM);

export function fastLstm(config: FastLSTMConfig): FastLSTM {
  return new FastLSTM(config);
}
