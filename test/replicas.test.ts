/**
 * Model replicas inside one process (ml/replicas.ts): a batch's shards, the
 * dropout masks a shard draws, and training split over replica threads
 * against training on one thread: the same numbers within float rounding,
 * and exactly the same whether a shard ran on a replica thread or, its
 * replica down, on the training thread.
 */
import { test, describe, before } from 'node:test';
import assert from 'node:assert/strict';
import { tf } from '../ml/tf.js';
import { useBackend } from '../ml/backend.js';
import { BackendChoice } from '../ml/backendChoice.js';
import { buildModel } from '../ml/build.js';
import { Adam, KERAS_ADAM } from '../ml/adam.js';
import { SeededDropout, StepClock } from '../ml/layers.js';
import { ModelSpec } from '../ml/modelSpec.js';
import { ReplicaPool, replicaCount, splitBatch } from '../ml/replicas.js';
import { assemble, type Batch, type Row } from '../ml/rows.js';
import { memoryData } from '../ml/trainingData.js';
import { train } from '../ml/trainer.js';
import { HLF_FEATURES, PARTICLE_FEATURES } from '../hep/layout.js';
import { trainCores } from '../cli/stack.js';

const BACKEND = BackendChoice.parse(process.env.TOPOFLOW_TEST_BACKEND ?? 'wasm');
const STEPS = 12;
const INCLUSIVE = ModelSpec.parse({
  name: 'inclusive',
  branches: { particles: [{ masking: 0 }, { gru: 8 }, { dropout: 0.3 }], hlf: [{ dropout: 0.2 }] },
  layers: [{ dense: 12, activation: 'relu' }, { dense: 3, activation: 'softmax' }],
});

/** Rows with 1..STEPS real particles (zero padding after), labels that depend on them. */
function rows(n: number, salt: number): Row[] {
  return Array.from({ length: n }, (_, i) => {
    const length = 1 + ((i * 7 + salt) % STEPS);
    const particles = new Float32Array(STEPS * PARTICLE_FEATURES);
    for (let k = 0; k < length * PARTICLE_FEATURES; k++) particles[k] = Math.sin(i * 0.37 + k * 0.11 + salt) + 0.01;
    const hlf = Float32Array.from({ length: HLF_FEATURES }, (_, k) => Math.cos(i * 0.5 + k + salt));
    return { hlf, particles, length, label: (i + length) % 3 };
  });
}

before(async () => {
  await useBackend(BACKEND);
});

describe('splitBatch', () => {
  const needs = { hlf: true, particles: true, trim: true };
  const batch = assemble(rows(7, 1), needs);

  test('contiguous shards, larger first, each trimmed to its own longest event', () => {
    const shards = splitBatch(batch, 3, true);
    assert.deepEqual(shards.map((s) => [s.rows.offset, s.batch.size, s.rows.total]), [[0, 3, 7], [3, 2, 7], [5, 2, 7]]);
    for (const s of shards) {
      const own = assemble(rows(7, 1).slice(s.rows.offset, s.rows.offset + s.batch.size), needs);
      assert.equal(s.batch.steps, own.steps);
      assert.ok(s.batch.steps <= batch.steps);
      assert.deepEqual(s.batch.particles, own.particles);
      assert.deepEqual(s.batch.hlf, own.hlf);
      assert.deepEqual(s.batch.labels, own.labels);
    }
    assert.ok(shards.some((s) => s.batch.steps < batch.steps), 'some shard is shorter than the batch');
  });

  test('untrimmed shards keep the batch length; never more shards than rows', () => {
    assert.ok(splitBatch(batch, 2, false).every((s) => s.batch.steps === batch.steps));
    assert.deepEqual(splitBatch(assemble(rows(2, 0), needs), 4, true).map((s) => s.batch.size), [1, 1]);
  });
});

test('a shard draws its rows of the whole batch dropout mask', () => {
  const clock = new StepClock();
  clock.step = 5;
  const layer = new SeededDropout({ rate: 0.5, seed: 9, clock });
  const x = tf.ones([10, 6]);
  const whole = (layer.apply(x, { training: true }) as tf.Tensor).arraySync() as number[][];
  const part = (offset: number, size: number) => {
    clock.rows = { offset, total: 10 };
    const out = (layer.apply(tf.ones([size, 6]), { training: true }) as tf.Tensor).arraySync() as number[][];
    clock.rows = null;
    return out;
  };
  assert.deepEqual([...part(0, 6), ...part(6, 4)], whole);
  assert.ok(whole.flat().some((v) => v === 0) && whole.flat().some((v) => v === 2), 'the mask drops some units and scales the rest');
});

describe('training over replica threads', () => {
  const cfg = { epochs: 2, batchSize: 24, learningRate: 3e-3, seed: 4, shuffleBuffer: 1e6, evalBatchSize: 64, checkpointSteps: 1e9, checkpointSeconds: 1e9, trim: true };
  const run = async (replicas: number) => {
    const logs: string[] = [];
    const r = await train(INCLUSIVE, cfg, { data: memoryData(rows(150, 2), rows(40, 5)), progress: () => {}, log: (m) => logs.push(m), signal: new AbortController().signal, replicas });
    const weights = r.built.model.trainableWeights.map((w) => Array.from(w.read().dataSync()));
    r.built.model.dispose();
    return { weights, history: r.history, predictions: r.predictions, logs };
  };

  test('2 and 3 replicas train to the weights of one thread within float rounding', async () => {
    const one = await run(1);
    for (const n of [2, 3]) {
      const many = await run(n);
      assert.ok(many.logs.some((l) => l.startsWith(`each batch is split over ${n} model replicas`)), many.logs.join('\n'));
      // 7 steps per epoch, n − 1 shards of each on replica threads.
      assert.ok(many.logs.includes(`replica threads computed ${14 * (n - 1)} of ${14 * n} batch shards`), many.logs.join('\n'));
      const diff = Math.max(...one.weights.flatMap((w, i) => w.map((v, k) => Math.abs(v - many.weights[i]![k]!))));
      assert.ok(diff < 1e-5, `largest weight difference ${diff} with ${n} replicas`);
      one.history.forEach((h, e) => {
        assert.ok(Math.abs(h.loss - many.history[e]!.loss) < 1e-5, `epoch ${e + 1} loss ${h.loss} vs ${many.history[e]!.loss}`);
        assert.equal(h.accuracy, many.history[e]!.accuracy);
      });
    }
  });

  test('a replica that cannot start or fails on a shard leaves it to the training thread, with the same numbers', async () => {
    const batch: Batch = assemble(rows(30, 3), { hlf: true, particles: true, trim: true });
    const step = async (init: { spec: ModelSpec; backend: string }) => {
      const built = buildModel(INCLUSIVE, 4);
      const vars = built.model.trainableWeights.map((w) => w.read() as tf.Variable);
      const adam = new Adam(vars, KERAS_ADAM);
      const logs: string[] = [];
      const pool = new ReplicaPool({ spec: init.spec, seed: 4, backend: init.backend as 'wasm', packed: true }, 2, (m) => logs.push(m));
      await pool.ready();
      try {
        const out = await pool.step(built, adam, vars, batch, true, 3);
        return { out, shards: { ...pool.shards }, logs, weights: vars.map((v) => Array.from(v.dataSync())) };
      } finally {
        await pool.close();
        adam.dispose();
        built.model.dispose();
      }
    };
    const up = await step({ spec: INCLUSIVE, backend: BACKEND });
    assert.deepEqual(up.shards, { onReplicas: 1, here: 1 });
    // A back end the thread cannot load: it never starts.
    const down = await step({ spec: INCLUSIVE, backend: 'no-such-backend' });
    assert.deepEqual(down.shards, { onReplicas: 0, here: 2 });
    assert.match(down.logs.join('\n'), /a replica thread stopped \(it could not start: .*no-such-backend/);
    // A replica whose model does not match: it fails on the shard, and stays up.
    const wrong = await step({ spec: ModelSpec.parse({ ...INCLUSIVE, branches: { ...INCLUSIVE.branches, particles: [{ masking: 0 }, { gru: 9 }] } }), backend: BACKEND });
    assert.deepEqual(wrong.shards, { onReplicas: 0, here: 2 });
    assert.match(wrong.logs.join('\n'), /a replica thread failed on a shard \(\d+ weight values for a model of \d+\)/);
    for (const other of [down, wrong]) {
      assert.deepEqual(other.weights, up.weights);
      assert.deepEqual(other.out, up.out);
    }
  });
});

test('replicaCount: TOPOFLOW_REPLICAS, else 2 for a recurrent model with untrimmed batches on a CPU back end with 2 or more cores for the training', () => {
  const long = { recurrent: true, trimmed: false };
  assert.equal(replicaCount({ choice: 'tensorflow' }, { recurrent: false, trimmed: true }, { TOPOFLOW_REPLICAS: '3' }), 3);
  assert.equal(replicaCount({ choice: 'wasm' }, { recurrent: false, trimmed: false }, {}), 1);
  assert.equal(replicaCount({ choice: 'tensorflow-gpu' }, long, {}), 1);
  assert.equal(replicaCount({ choice: 'tensorflow' }, long, { TOPOFLOW_TRAIN_CORES: '2' }), 2);
  assert.equal(replicaCount({ choice: 'wasm' }, long, { TOPOFLOW_TRAIN_CORES: '4' }), 2);
  // Trimmed (and packed) batches: short steps, one thread was faster on 2 cores.
  assert.equal(replicaCount({ choice: 'tensorflow' }, { recurrent: true, trimmed: true }, { TOPOFLOW_TRAIN_CORES: '2' }), 1);
  assert.equal(replicaCount({ choice: 'tensorflow' }, { recurrent: true, trimmed: true }, { TOPOFLOW_TRAIN_CORES: '2', TOPOFLOW_REPLICAS: '2' }), 2);
  // The embedded stack's two train workers on two cores: one core each.
  assert.equal(replicaCount({ choice: 'tensorflow' }, long, { TOPOFLOW_TRAIN_CORES: '1' }), 1);
  for (const bad of ['0', '1.5', 'two', '17']) assert.throws(() => replicaCount({ choice: 'wasm' }, long, { TOPOFLOW_REPLICAS: bad }), /TOPOFLOW_REPLICAS=.*whole number from 1 to 16/);
  assert.throws(() => replicaCount({ choice: 'wasm' }, long, { TOPOFLOW_TRAIN_CORES: 'all' }), /TOPOFLOW_TRAIN_CORES="all": expected a whole number/);
});

test('the embedded stack gives each train worker its share of the cores, at least one', () => {
  assert.deepEqual([trainCores(2, 2), trainCores(1, 2), trainCores(2, 16), trainCores(4, 2), trainCores(0, 4)], [1, 2, 8, 1, 4]);
});
