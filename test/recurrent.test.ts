/**
 * FastGRU (ml/gru.ts) and FastLSTM (ml/lstm.ts) against tfjs's own
 * tf.layers.gru / tf.layers.lstm on the wasm and cpu back ends, and on native TensorFlow
 * when infra/tfjs-node.sh built it (FastGRU there is TensorFlow's fused cell, ml/gruBlock.ts): outputs and gradients (weights and input) with and without a
 * Masking layer, seeding, variable sequence length, save/load, training and
 * tensor leaks; plus the wasm Slice/Unpack kernels (ml/wasmKernels.ts)
 * against the stock ones.
 *
 * Tolerance: |fast − stock| ≤ tol·(1 + |stock|) element-wise, with tol 1e-5
 * for outputs and 1e-4 for gradients.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../ml/tf.js';
import { FastGRU, fastGru } from '../ml/gru.js';
import { FastLSTM, fastLstm } from '../ml/lstm.js';
import type { FastRecurrent, FastRecurrentConfig } from '../ml/recurrent.js';
import { installWasmKernels, uninstallWasmKernels } from '../ml/wasmKernels.js';
import { nativeAddonProblem } from '../ml/nativeAddon.js';
import { useBackend } from '../ml/backend.js';
import { gruBlockLastState, hasGruBlock } from '../ml/gruBlock.js';

const nativeProblem = nativeAddonProblem('@tensorflow/tfjs-node');
if (!nativeProblem) await useBackend('tensorflow'); // registers the back end
const BACKENDS = ['wasm', 'cpu', ...(nativeProblem ? [] : ['tensorflow'])];

const OUT_TOL = 1e-5;
const GRAD_TOL = 1e-4;

function assertClose(actual: tf.Tensor, expected: tf.Tensor, tol: number, what: string): void {
  assert.deepEqual(actual.shape, expected.shape, `${what}: shape`);
  const a = actual.dataSync();
  const e = expected.dataSync();
  for (let i = 0; i < a.length; i++) {
    const err = Math.abs(a[i]! - e[i]!) / (1 + Math.abs(e[i]!));
    assert.ok(err <= tol, `${what}: element ${i} is ${a[i]}, expected ${e[i]} (scaled error ${err} > ${tol})`);
  }
}

function maxAbs(t: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(t)).dataSync()[0]!);
}

/**
 * [batch, time, features] with all-zero rows for Masking: sample 1 is padded
 * at the end, sample 2 has zero rows in the middle, sample 3 both, sample 4
 * is all padding.
 */
function paddedInput(batch: number, time: number, features: number, seed: number): tf.Tensor {
  return tf.tidy(() => {
    const keep = tf.buffer([batch, time, 1]);
    for (let i = 0; i < batch; i++) for (let t = 0; t < time; t++) keep.set(1, i, t, 0);
    for (let t = time - 3; t < time; t++) keep.set(0, 1, t, 0);
    keep.set(0, 2, 2, 0);
    keep.set(0, 2, 3, 0);
    keep.set(0, 3, 4, 0);
    keep.set(0, 3, time - 1, 0);
    for (let t = 0; t < time; t++) keep.set(0, 4, t, 0);
    return tf.mul(tf.randomNormal([batch, time, features], 0, 1, 'float32', seed), keep.toTensor());
  });
}

/** The cells, each with its stock counterpart configured the ml/build.ts way. */
interface Cell {
  name: string;
  gates: number;
  fast: (config: FastRecurrentConfig) => FastRecurrent;
  Fast: typeof FastGRU | typeof FastLSTM;
  stock: (units: number, seed?: number) => tf.layers.Layer;
}
const seeded = (seed: number | undefined) => (seed === undefined ? {} : {
  kernelInitializer: tf.initializers.glorotUniform({ seed }),
  recurrentInitializer: tf.initializers.orthogonal({ seed: seed + 1 }),
  biasInitializer: 'zeros' as const,
});
const CELLS: Cell[] = [
  { name: 'FastGRU', gates: 3, fast: fastGru, Fast: FastGRU, stock: (units, seed) => tf.layers.gru({ units, recurrentActivation: 'sigmoid', ...seeded(seed) }) },
  { name: 'FastLSTM', gates: 4, fast: fastLstm, Fast: FastLSTM, stock: (units, seed) => tf.layers.lstm({ units, recurrentActivation: 'sigmoid', unitForgetBias: true, ...seeded(seed) }) },
];

/** A stock layer and ours holding the same weights, each behind an optional Masking layer. */
function twins(cell: Cell, units: number, features: number) {
  const stock = cell.stock(units);
  const fast = cell.fast({ units, seed: 7 });
  const wrap = (layer: tf.layers.Layer, masked: boolean) => {
    const input = tf.input({ shape: [null, features] });
    const x = masked ? (tf.layers.masking({ maskValue: 0 }).apply(input) as tf.SymbolicTensor) : input;
    return tf.model({ inputs: input, outputs: layer.apply(x) as tf.SymbolicTensor });
  };
  const models = {
    stock: { plain: wrap(stock, false), masked: wrap(stock, true) },
    fast: { plain: wrap(fast, false), masked: wrap(fast, true) },
  };
  fast.setWeights(stock.getWeights());
  return { stock, fast, models };
}

const variablesOf = (layer: tf.layers.Layer) => layer.trainableWeights.map((w) => w.read() as tf.Variable);

test('native TensorFlow: FastGRU runs as its fused GRUBlockCell', { skip: nativeProblem ? `native TensorFlow is not available: ${nativeProblem}` : false }, async () => {
  await useBackend('tensorflow');
  assert.ok(hasGruBlock(), 'GRUBlockCell runs');
});

for (const packed of [true, false]) {
  test(`native TensorFlow: the fused GRU loop leaves no TensorFlow handle behind (${packed ? 'rows packed' : 'every row at every step'})`, { skip: nativeProblem ? `native TensorFlow is not available: ${nativeProblem}` : false }, async () => {
    await useBackend('tensorflow');
    // Its loops run on raw handles, outside tfjs' count: the binding's own count must come back.
    const handles = () => (tf.backend() as unknown as { binding: { getNumOfTensors(): number } }).binding.getNumOfTensors();
    const layer = fastGru({ units: 6, recurrentActivation: 'sigmoid', seed: 3, packing: { packed } });
    const x = ragged(9, 7, 5, 2);
    const mask = tf.notEqual(tf.sum(tf.abs(x), 2), 0);
    tf.tidy(() => layer.apply(x, { mask }) as tf.Tensor); // builds the weights
    const before = { tfjs: tf.memory().numTensors, tf: handles() };
    tf.tidy(() => (layer.apply(x, { mask }) as tf.Tensor).dataSync()); // inference: no tape
    const vars = variablesOf(layer);
    tf.tidy(() => {
      const g = tf.variableGrads(() => tf.sum<tf.Scalar>(layer.apply(x, { mask }) as tf.Tensor), vars);
      assert.ok(Object.values(g.grads).every((t) => t.shape.length > 0));
    });
    assert.deepEqual({ tfjs: tf.memory().numTensors, tf: handles() }, before);
    tf.dispose([x, mask]);
  });
}

/**
 * [batch, time, features], each row zero after a length of its own (lengths
 * unsorted, 0 and the full length among them), some with holes (masked
 * steps before their last real one) unless `holes` is false.
 */
function ragged(batch: number, time: number, features: number, seed: number, holes = true): tf.Tensor {
  return tf.tidy(() => {
    const keep = tf.buffer([batch, time, 1]);
    for (let i = 0; i < batch; i++) {
      // Mostly one row finishing at a time: the plan keeps finished rows running a few steps (masked there).
      const length = i % 9 === 2 ? 0 : i % 9 === 1 ? time : (i * 5 + 3) % (time + 1);
      for (let t = 0; t < length; t++) keep.set(holes && i % 4 === 3 && t === 1 ? 0 : 1, i, t, 0);
    }
    return tf.mul(tf.randomNormal([batch, time, features], 0, 1, 'float32', seed), keep.toTensor());
  });
}

for (const holes of [true, false]) test(`native TensorFlow: rows packed (each run up to its last real step) give the outputs and gradients of every row at every step (${holes ? 'rows with holes: the input made time-major' : 'no holes: rows gathered as they lie'})`, { skip: nativeProblem ? `native TensorFlow is not available: ${nativeProblem}` : false }, async () => {
  await useBackend('tensorflow');
  const packing = { packed: true };
  const layer = fastGru({ units: 8, recurrentActivation: 'sigmoid', seed: 5, packing });
  const x = ragged(27, 11, 4, 9, holes);
  const mask = tf.notEqual(tf.sum(tf.abs(x), 2), 0);
  tf.tidy(() => layer.apply(x, { mask }) as tf.Tensor);
  const vars = variablesOf(layer);
  const run = (packed: boolean) => {
    packing.packed = packed;
    return tf.tidy(() => {
      const { value, grads } = tf.valueAndGrads((xIn: tf.Tensor) => tf.sum<tf.Scalar>(tf.mul(layer.apply(xIn, { mask }) as tf.Tensor, tf.range(1, 9))))([x]);
      const w = tf.variableGrads(() => tf.sum<tf.Scalar>(tf.square(layer.apply(x, { mask }) as tf.Tensor)), vars);
      return { out: tf.keep(layer.apply(x, { mask }) as tf.Tensor), value: tf.keep(value), dx: tf.keep(grads[0]!), dw: vars.map((v) => tf.keep(w.grads[v.name]!)) };
    });
  };
  const full = run(false);
  const packedRun = run(true);
  assertClose(packedRun.out, full.out, OUT_TOL, 'last states');
  assertClose(packedRun.dx, full.dx, GRAD_TOL, 'input gradient');
  packedRun.dw.forEach((g, i) => assertClose(g, full.dw[i]!, GRAD_TOL, `weight gradient ${i}`));
  assert.ok(maxAbs(full.dx) > 0.01 && full.dw.every((g) => maxAbs(g) > 1e-3), 'gradients that are not all zero');
  assert.equal(maxAbs(tf.slice(packedRun.out, [2, 0], [1, -1])), 0, 'a row with no real step keeps the zero state');
  tf.dispose([x, mask, full.out, full.value, full.dx, ...full.dw, packedRun.out, packedRun.value, packedRun.dx, ...packedRun.dw]);
});

test('native TensorFlow: without the input gradient (nothing trainable before the layer), the same weight gradients and a zero input gradient', { skip: nativeProblem ? `native TensorFlow is not available: ${nativeProblem}` : false }, async () => {
  await useBackend('tensorflow');
  const x = ragged(18, 9, 4, 3, false);
  const mask = tf.notEqual(tf.sum(tf.abs(x), 2), 0);
  const [k, r, b] = [tf.randomNormal([4, 24], 0, 0.3, 'float32', 1), tf.randomNormal([8, 24], 0, 0.3, 'float32', 2), tf.randomNormal([24], 0, 0.1, 'float32', 3)];
  const run = (inputGradient: boolean) => tf.grads((...xs: tf.Tensor[]) => tf.sum<tf.Scalar>(tf.square(gruBlockLastState(xs[0]!, xs[1]!, xs[2]!, xs[3]!, mask, { packed: true, inputGradient }))))([x, k, r, b]);
  const wanted = run(true);
  const skipped = run(false);
  wanted.slice(1).forEach((g, i) => assertClose(skipped[i + 1]!, g, GRAD_TOL, `weight gradient ${i}`));
  assert.ok(maxAbs(wanted[0]!) > 0.01, 'the input gradient when wanted');
  assert.deepEqual(skipped[0]!.shape, x.shape);
  assert.equal(maxAbs(skipped[0]!), 0);
  tf.dispose([x, mask, k, r, b, ...wanted, ...skipped]);
});

for (const [backend, cell] of BACKENDS.flatMap((b) => CELLS.map((c) => [b, c] as const))) {
  describe(`${cell.name} on ${backend}`, () => {
    before(async () => {
      assert.ok(await tf.setBackend(backend), `tf.setBackend('${backend}')`);
      await tf.ready();
    });

    for (const units of [8, 50]) {
      test(`units ${units}: outputs and gradients match the stock layer, with and without a mask`, () => {
        const [batch, time, features] = [6, 9, 19];
        const { stock, fast, models } = twins(cell, units, features);
        assert.deepEqual(fast.getWeights().map((w) => w.shape), stock.getWeights().map((w) => w.shape));
        const x = paddedInput(batch, time, features, 11);
        const probe = tf.randomNormal([batch, units], 0, 1, 'float32', 5);
        const outputs: Record<string, tf.Tensor> = {};

        for (const variant of ['plain', 'masked'] as const) {
          const ms = models.stock[variant];
          const mf = models.fast[variant];
          const yStock = ms.predict(x) as tf.Tensor;
          const yFast = mf.predict(x) as tf.Tensor;
          assertClose(yFast, yStock, OUT_TOL, `${variant} output`);
          outputs[variant] = yFast;

          // Weight gradients through the whole model, Masking layer included.
          const loss = (m: tf.LayersModel) => () => tf.sum<tf.Scalar>(tf.mul(m.apply(x) as tf.Tensor, probe));
          const gs = tf.variableGrads(loss(ms), variablesOf(stock));
          const gf = tf.variableGrads(loss(mf), variablesOf(fast));
          assertClose(gf.value, gs.value, OUT_TOL, `${variant} loss while recording`);
          variablesOf(stock).forEach((v, i) => {
            const name = ['kernel', 'recurrent_kernel', 'bias'][i]!;
            const expected = gs.grads[v.name]!;
            assert.ok(maxAbs(expected) > 1e-3, `${variant} d${name} is not trivially zero`);
            assertClose(gf.grads[variablesOf(fast)[i]!.name]!, expected, GRAD_TOL, `${variant} d${name}`);
          });

          // Input gradient: tfjs's Masking has no gradient (its mask comes from
          // tf.any), so the layers get the same mask directly.
          const mask = variant === 'masked' ? tf.any(tf.notEqual(x, 0), -1) : undefined;
          const dx = (layer: tf.layers.Layer) =>
            tf.grads((xx: tf.Tensor) => tf.sum(tf.mul(layer.apply(xx, { mask }) as tf.Tensor, probe)))([x])[0]!;
          const dxStock = dx(stock);
          assert.ok(maxAbs(dxStock) > 1e-3, `${variant} dx is not trivially zero`);
          assertClose(dx(fast), dxStock, GRAD_TOL, `${variant} dx`);
        }

        // The mask really changes the result (else the masked check proves little);
        // the all-padding sample keeps the zero initial state.
        assert.ok(maxAbs(tf.sub(outputs.masked!, outputs.plain!)) > 1e-3, 'mask changes the output');
        assertClose(tf.slice(outputs.masked!, [4, 0], [1, units]), tf.zeros([1, units]), 0, 'all-padding sample');
      });
    }

    test('same seed gives the same weights, laid out like the stock layer built the ml/build.ts way', () => {
      const build = (layer: tf.layers.Layer) => {
        layer.apply(tf.input({ shape: [null, 19] }));
        return layer.getWeights();
      };
      const a = build(cell.fast({ units: 50, seed: 42 }));
      const b = build(cell.fast({ units: 50, seed: 42 }));
      const c = build(cell.fast({ units: 50, seed: 43 }));
      const stock = build(cell.stock(50, 42));
      a.forEach((w, i) => {
        assertClose(b[i]!, w, 0, `same seed, weight ${i}`);
        assertClose(stock[i]!, w, 0, `stock with the same seeds, weight ${i}`);
      });
      assert.ok(maxAbs(tf.sub(a[0]!, c[0]!)) > 0, 'another seed gives another kernel');
      assert.ok(maxAbs(tf.sub(a[1]!, c[1]!)) > 0, 'another seed gives another recurrent kernel');
      const count = (ws: tf.Tensor[]) => ws.reduce((n, w) => n + w.size, 0);
      assert.equal(count(a), cell.gates * (19 * 50 + 50 * 50 + 50));
      assert.equal(count(a), count(stock));
      assert.equal(count(a), { 3: 10_500, 4: 14_000 }[cell.gates]);
    });

    test('one layer takes batches of different lengths', () => {
      const { models } = twins(cell, 8, 4);
      for (const time of [5, 9]) {
        const x = paddedInput(6, time, 4, time);
        const y = models.fast.masked.predict(x) as tf.Tensor;
        assert.deepEqual(y.shape, [6, 8]);
        assertClose(y, models.stock.masked.predict(x) as tf.Tensor, OUT_TOL, `T=${time}`);
      }
    });

    test(`Masking → ${cell.name} → Dense trains (loss falls) and leaks no tensors`, async () => {
      const [batch, time, features] = [32, 10, 3];
      // Label: is the sum of feature 0 over a sample's real (unpadded) steps positive?
      const { x, y } = tf.tidy(() => {
        const keep = tf.buffer([batch, time, 1]);
        for (let i = 0; i < batch; i++) for (let t = 0; t < time - (i % 4); t++) keep.set(1, i, t, 0);
        const xs = tf.mul(tf.randomNormal([batch, time, features], 0, 1, 'float32', 3), keep.toTensor());
        const label = tf.cast(tf.greater(tf.sum(tf.slice(xs, [0, 0, 0], [batch, time, 1]), [1, 2]), 0), 'int32');
        return { x: xs, y: tf.oneHot(label, 2) };
      });
      const input = tf.input({ shape: [null, features] });
      const hidden = cell.fast({ units: 8, seed: 1 }).apply(tf.layers.masking({ maskValue: 0 }).apply(input));
      const output = tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(hidden);
      const model = tf.model({ inputs: input, outputs: output as tf.SymbolicTensor });
      const optimizer = tf.train.adam(0.05);
      const lossOf = () => tf.mean<tf.Scalar>(tf.metrics.categoricalCrossentropy(y, model.apply(x) as tf.Tensor));
      const step = () => {
        const cost = optimizer.minimize(lossOf, true)!;
        const value = cost.dataSync()[0]!;
        cost.dispose();
        return value;
      };

      const first = step(); // creates Adam's slot variables
      const tensors = tf.memory().numTensors;
      let last = first;
      for (let i = 0; i < 30; i++) last = step();
      assert.equal(tf.memory().numTensors, tensors, 'tensor count after 30 more training steps');
      assert.ok(last < 0.8 * first, `loss fell from ${first} to ${last}`);

      tf.dispose(model.predict(x));
      assert.equal(tf.memory().numTensors, tensors, 'tensor count after predict');

      // model.fit goes through the same layer.
      model.compile({ optimizer, loss: 'categoricalCrossentropy' });
      const history = await model.fit(x, y, { epochs: 3, batchSize: batch, shuffle: false, verbose: 0 });
      const losses = history.history.loss as number[];
      assert.ok(losses[2]! < first, `fit keeps the loss below the start (${losses.join(', ')})`);
    });

    test('saves and loads as a registered class with its config', async () => {
      const input = tf.input({ shape: [null, 4] });
      const model = tf.model({ inputs: input, outputs: cell.fast({ units: 6, seed: 9, name: 'rnn_fast' }).apply(input) as tf.SymbolicTensor });
      let artifacts: tf.io.ModelArtifacts | undefined;
      await model.save(tf.io.withSaveHandler(async (a) => {
        artifacts = a;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }));
      const loaded = await tf.loadLayersModel(tf.io.fromMemory(artifacts!));
      const layer = loaded.getLayer('rnn_fast');
      assert.ok(layer instanceof cell.Fast);
      assert.equal(layer.units, 6);
      assert.equal(layer.seed, 9);
      const x = paddedInput(6, 7, 4, 1);
      assertClose(loaded.predict(x) as tf.Tensor, model.predict(x) as tf.Tensor, 0, 'reloaded model');
    });

    test('rejects what it does not implement', () => {
      assert.throws(() => cell.fast({ units: 4, recurrentActivation: 'hardSigmoid' }), /recurrentActivation 'sigmoid'/);
      assert.throws(() => cell.fast({ units: 4, activation: 'relu' }), /activation 'tanh'/);
      assert.throws(() => cell.fast({ units: 4, returnSequences: true }), /returnSequences/);
      assert.throws(() => cell.fast({ units: 0 }), new RegExp(`${cell.name}: units`));
    });
  });
}

describe('wasm Slice/Unpack/BatchMatMul kernels', () => {
  before(async () => {
    assert.ok(await tf.setBackend('wasm'));
    await tf.ready();
  });

  const cases: Array<{ shape: number[]; begin: number[]; size: number[]; dtype: 'float32' | 'int32' | 'bool' }> = [
    { shape: [10], begin: [3], size: [4], dtype: 'float32' },
    { shape: [6, 7], begin: [2, 0], size: [3, 7], dtype: 'float32' }, // whole rows: one run
    { shape: [6, 7], begin: [1, 2], size: [4, 3], dtype: 'int32' }, // short runs
    { shape: [5, 200], begin: [1, 50], size: [3, 100], dtype: 'float32' }, // long runs
    { shape: [4, 5, 6], begin: [1, 2, 0], size: [2, 3, 6], dtype: 'float32' },
    { shape: [4, 5, 6], begin: [0, 1, 2], size: [-1, 2, 3], dtype: 'bool' },
    { shape: [3, 4, 5, 6], begin: [1, 0, 2, 1], size: [2, 4, 2, 4], dtype: 'float32' },
    { shape: [4, 5], begin: [2, 1], size: [0, 3], dtype: 'float32' },
  ];

  test('give what the stock kernels give, and install idempotently', () => {
    const inputs = cases.map(({ shape, dtype }) => tf.cast(tf.randomUniform(shape, -3, 3, 'float32', shape.length), dtype));
    const run = () => ({
      slices: cases.map(({ begin, size }, i) => tf.slice(inputs[i]!, begin, size)),
      unstacks: [0, 1, 2].map((axis) => tf.unstack(inputs[4]!, axis)),
    });
    uninstallWasmKernels();
    const stockSlice = tf.getKernel('Slice', 'wasm');
    const expected = run();
    installWasmKernels();
    const ours = tf.getKernel('Slice', 'wasm');
    assert.notEqual(ours, stockSlice, 'a different Slice kernel is registered');
    installWasmKernels();
    assert.equal(tf.getKernel('Slice', 'wasm'), ours, 'a second install changes nothing');
    const actual = run();
    actual.slices.forEach((t, i) => {
      assert.equal(t.dtype, cases[i]!.dtype);
      assert.deepEqual(t.shape, expected.slices[i]!.shape, `slice ${i} shape`);
      assert.deepEqual(Array.from(t.dataSync()), Array.from(expected.slices[i]!.dataSync()), `slice ${i}`);
    });
    actual.unstacks.forEach((pieces, axis) => {
      assert.equal(pieces.length, expected.unstacks[axis]!.length);
      pieces.forEach((t, j) => {
        assert.deepEqual(t.shape, expected.unstacks[axis]![j]!.shape);
        assert.deepEqual(Array.from(t.dataSync()), Array.from(expected.unstacks[axis]![j]!.dataSync()), `unstack axis ${axis} piece ${j}`);
      });
    });
    uninstallWasmKernels();
    assert.equal(tf.getKernel('Slice', 'wasm'), stockSlice, 'uninstall restores the stock kernel');
    installWasmKernels();
  });

  test('BatchMatMul with transposed operands: the stock products within float rounding, no tensor left behind', () => {
    const products: Array<{ a: number[]; b: number[]; transposeA: boolean; transposeB: boolean }> = [
      { a: [128, 50], b: [128, 20], transposeA: true, transposeB: false }, // a weight gradient
      { a: [128, 20], b: [50, 20], transposeA: false, transposeB: true }, // back through a layer
      { a: [7, 5], b: [3, 7], transposeA: true, transposeB: true },
      { a: [1, 9, 4], b: [1, 9, 6], transposeA: true, transposeB: false }, // one matrix with an outer axis
      { a: [3, 9, 4], b: [3, 6, 4], transposeA: false, transposeB: true }, // batched: the stock kernel
      { a: [6, 4], b: [4, 5], transposeA: false, transposeB: false },
    ];
    const operands = products.map(({ a, b }, i) => [tf.randomNormal(a, 0, 1, 'float32', 2 * i + 1), tf.randomNormal(b, 0, 1, 'float32', 2 * i + 2)] as const);
    const run = () => products.map(({ transposeA, transposeB }, i) => tf.matMul(operands[i]![0], operands[i]![1], transposeA, transposeB));
    uninstallWasmKernels();
    const expected = run();
    installWasmKernels();
    const before = tf.memory().numTensors;
    const dataIds = tf.backend().numDataIds();
    const actual = run();
    assert.equal(tf.memory().numTensors, before + products.length, 'one tensor per product');
    assert.equal(tf.backend().numDataIds(), dataIds + products.length, 'no transposed copy left on the heap');
    actual.forEach((t, i) => {
      assert.deepEqual(t.shape, expected[i]!.shape, `product ${i} shape`);
      const want = expected[i]!.dataSync();
      t.dataSync().forEach((x, k) => assert.ok(Math.abs(x - want[k]!) <= 1e-4 * (1 + Math.abs(want[k]!)), `product ${i}[${k}]: ${x} against ${want[k]}`));
    });
    tf.dispose([...expected, ...actual, ...operands.flat()]);
  });
});
