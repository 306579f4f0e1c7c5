/**
 * Data-parallel training (issue 13), in process: the schedule's slices, the
 * averaging reduce against a hand computation, the stream cursor, and whole
 * round loops through the `train` kind's fan-out form, whose result does not
 * depend on the order parts run in. `workers: 1` is today's stage, same key.
 * The engine version (Temporal, two train workers, kill -9) is
 * distributedEngine.test.ts.
 */
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage, type Storage } from '../storage/index.js';
import type { StageManifest } from '../protocol/manifest.js';
import { makeFeaturesDataset } from './support/stage2Data.js';
import { train as trainKind, type TrainWith } from '../stages/builtin/train.js';
import { distributedTrain } from '../stages/builtin/trainDistributed.js';
import { RecordingOutputWriter } from '../runtime/outputWriter.js';
import type { ShardResult, StageContext } from '../stages/kind.js';
import { useBackend } from '../ml/backend.js';
import { ModelSpec } from '../ml/modelSpec.js';
import { averageParts } from '../ml/distributed/average.js';
import { StreamCursor } from '../ml/distributed/cursor.js';
import { firstRound, nextInEpoch, roundsPerEpoch, rowsInRound, stepsPerEpoch, workerRows, type RoundPlace, type Topology } from '../ml/distributed/schedule.js';
import type { PartSummary, RoundShard, RoundState } from '../ml/distributed/rounds.js';
import { CheckpointStore } from '../ml/checkpoint.js';
import { unpackTensors } from '../ml/tensorPack.js';
import { joinKey } from '../storage/index.js';
import { BackendChoice } from '../ml/backendChoice.js';

const BACKEND = BackendChoice.parse(process.env.TOPOFLOW_TEST_BACKEND ?? 'wasm');
const SMALL_GRU = ModelSpec.parse({
  name: 'inclusive',
  branches: { particles: [{ masking: 0 }, { gru: 6 }, { dropout: 0.2 }], hlf: [{ dropout: 0.2 }] },
  layers: [{ dense: 8, activation: 'relu' }, { dense: 3, activation: 'softmax' }],
});

describe('schedule', () => {
  const topologies: Topology[] = [
    { rows: 1000, workers: 2, batchSize: 32, syncEvery: 4 },
    { rows: 1001, workers: 3, batchSize: 50, syncEvery: 1 },
    { rows: 7, workers: 4, batchSize: 3, syncEvery: 5 },
  ];
  for (const t of topologies) {
    test(`${t.workers} workers × batch ${t.batchSize} over ${t.rows} rows, sync every ${t.syncEvery}: every row once per epoch, slices disjoint, rounds end at the epoch`, () => {
      const seen = new Array<number>(t.rows).fill(0);
      const rounds: RoundPlace[] = [];
      for (let r: RoundPlace | null = firstRound(t, 0); r; r = nextInEpoch(t, r)) rounds.push(r);
      assert.equal(rounds.length, roundsPerEpoch(t));
      assert.equal(rounds.reduce((s, r) => s + r.steps, 0), stepsPerEpoch(t));
      assert.ok(rounds.every((r) => r.steps >= 1 && r.steps <= t.syncEvery));
      let total = 0;
      for (const r of rounds) {
        for (let w = 0; w < t.workers; w++) {
          total += rowsInRound(t, r, w);
          for (let s = r.fromStep; s < r.fromStep + r.steps; s++) {
            const { start, end } = workerRows(t, s, w);
            assert.ok(end - start <= t.batchSize);
            for (let i = start; i < end; i++) seen[i]!++;
          }
        }
      }
      assert.deepEqual(new Set(seen), new Set([1]), 'each row in exactly one slice');
      assert.equal(total, t.rows);
    });
  }
});

describe('the reduce', () => {
  test('a weighted average by rows, element by element, equal to a hand computation', () => {
    const parts = [
      { tensors: [Float32Array.from([1, 2, 3]), Float32Array.from([10])], rows: 3 },
      { tensors: [Float32Array.from([4, 5, 6]), Float32Array.from([-2])], rows: 1 },
      { tensors: [Float32Array.from([100, 100, 100]), Float32Array.from([100])], rows: 0 },
    ];
    const [a, b] = averageParts(parts);
    // (3·x + 1·y) / 4; the part without rows does not count.
    assert.deepEqual(Array.from(a!), [(3 * 1 + 4) / 4, (3 * 2 + 5) / 4, (3 * 3 + 6) / 4]);
    assert.deepEqual(Array.from(b!), [(3 * 10 - 2) / 4]);
    assert.throws(() => averageParts([{ tensors: [Float32Array.from([1])], rows: 1 }, { tensors: [Float32Array.from([1, 2])], rows: 1 }]), /worker 1's part does not have the tensors of worker 0's/);
    assert.throws(() => averageParts([{ tensors: [Float32Array.from([1])], rows: 0 }]), /at least one worker part with rows/);
  });
});

describe('stream cursor', () => {
  test('takes items by index, reading on from where it stands and reopening (at the item) only for one behind it', async () => {
    const opened: number[] = [];
    async function* make(skip: number): AsyncGenerator<number> {
      opened.push(skip);
      for (let i = skip; i < 20; i++) yield i;
    }
    const c = new StreamCursor<number>();
    const take = (index: number, id = 'e0') => c.take(id, make, index);
    assert.equal(await take(2), 2);
    assert.equal(await take(3), 3);
    assert.equal(await take(8), 8);
    assert.deepEqual(opened, [2]);
    assert.equal(await take(3), 3, 'behind: reopened');
    assert.equal(await take(0, 'e1'), 0, 'another stream: reopened');
    assert.deepEqual(opened, [2, 3, 0]);
    await assert.rejects(c.take('e1', make, 24), /the training stream ended at batch 20, before batch 25/);
  });
});

describe('rounds through the train kind', () => {
  let storage: Storage;
  let data: StageManifest;
  const inputs = () => ({ features: data });
  const ctxFor = (w: TrainWith, folder: string): StageContext<TrainWith> & { output: RecordingOutputWriter } => ({
    stageId: 'train', with: w, inputs: inputs(), storage, output: new RecordingOutputWriter(storage, `${folder}/data`),
    progress: () => {}, log: () => {}, signal: new AbortController().signal, checkpointFolder: `${folder}/checkpoints`,
  });

  /** Plan, every round's parts in `order` (worker indices), reduce, combine: the engine's steps in one process. */
  async function runRounds(w: TrainWith, folder: string, order: (round: number, n: number) => number[] = (_r, n) => [...Array(n).keys()], beforeShard?: (shard: RoundShard) => void) {
    const kind = trainKind.fanoutFor!(w)!;
    const ctx = ctxFor(w, folder);
    const done: Array<{ shard: RoundShard; result: ShardResult }> = [];
    let round = (await kind.plan(ctx)) as RoundShard[];
    while (round.length) {
      const results = new Map<number, ShardResult>();
      for (const i of order(round[0]!.round, round.length)) {
        beforeShard?.(round[i]!);
        const r = await kind.runShard(ctxFor(w, folder), round[i]!, done.length + i);
        results.set(i, { index: done.length + i, outputs: [], counts: r.counts ?? {}, worker: 'test', ...(r.summary !== undefined ? { summary: r.summary } : {}) });
      }
      round.forEach((shard, i) => done.push({ shard, result: results.get(i)! }));
      round = (await kind.nextRound!(ctx, done)) as RoundShard[];
    }
    const out = ctxFor(w, folder);
    const result = await kind.combine!(out, done.map((d) => d.result));
    const files = Object.fromEntries(await Promise.all(out.output.outputs().map(async (o) => [o.name, Buffer.from(await storage.get(o.key))] as const)));
    return { result, files, done };
  }

  before(async () => {
    await useBackend(BACKEND);
    storage = new LocalStorage(mkdtempSync(join(tmpdir(), 'topoflow-dist-')));
    data = await makeFeaturesDataset(storage, { eventsPerSample: 900, filesPerSample: 2 });
  });

  test('workers: 1 is the single-process stage with the same key; syncEvery without workers is an error naming the key', () => {
    const plain = trainKind.withSchema.parse({ model: SMALL_GRU });
    const one = trainKind.withSchema.parse({ model: SMALL_GRU, workers: 1 });
    assert.deepEqual(one, plain, 'the same `with`, hence the same cache key');
    assert.equal(trainKind.fanoutFor!(one), undefined);
    assert.equal(trainKind.fanoutFor!(trainKind.withSchema.parse({ model: SMALL_GRU, workers: 2 })), distributedTrain);
    const bad = trainKind.withSchema.safeParse({ model: SMALL_GRU, syncEvery: 4 });
    assert.equal(bad.success, false);
    assert.match(bad.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'), /syncEvery: "syncEvery" applies to data-parallel training only: set "workers" to 2 or more/);
  });

  test('two workers: the round checkpoint is the rows-weighted average of the parts; the outputs are what evaluate reads; the same bits whatever order parts run in', async () => {
    const w = trainKind.withSchema.parse({ model: SMALL_GRU, workers: 2, syncEvery: 3, epochs: 2, batchSize: 64, seed: 5, backend: BACKEND });
    const a = await runRounds(w, 'run-a');
    for (const name of ['model.json', 'weights.bin', 'history.json', 'timing.json', 'predictions.bin', 'labels.bin']) assert.ok(a.files[name], `${name} written`);
    const trainRows = data.outputs.filter((o) => o.name.split('/').pop()!.startsWith('train-')).reduce((s, o) => s + o.rows!, 0);
    const topo = { rows: trainRows, workers: 2, batchSize: 64, syncEvery: 3 };
    assert.equal(a.done.length, 2 * 2 * roundsPerEpoch(topo), 'two parts per round, every round of both epochs');
    assert.equal(a.result.counts!.steps, 2 * stepsPerEpoch(topo));
    assert.equal(a.result.counts!.trainEvents, trainRows);
    const history = JSON.parse(a.files['history.json']!.toString()) as { epochs: Array<{ epoch: number; valLoss: number; loss: number }> };
    assert.deepEqual(history.epochs.map((e) => e.epoch), [1, 2]);
    assert.ok(history.epochs[1]!.loss < history.epochs[0]!.loss, `it learns (${history.epochs.map((e) => e.loss.toFixed(4)).join(' → ')})`);
    const timing = JSON.parse(a.files['timing.json']!.toString()) as { workers: number; rounds: Array<{ computeSeconds: number; waitSeconds: number; reduceSeconds: number }> };
    assert.equal(timing.workers, 2);
    assert.equal(timing.rounds.length, a.done.length / 2, 'a timing entry per round');
    assert.ok(timing.rounds.every((r) => r.computeSeconds > 0 && r.waitSeconds >= 0 && r.reduceSeconds >= 0));
    assert.equal(a.files['predictions.bin']!.length / 4, 3 * a.files['labels.bin']!.length);

    // The reduce, by hand: rerun round 0's parts and reduce from a fresh plan in another folder, then average them here.
    const kind = distributedTrain;
    const ctx = ctxFor(w, 'run-hand');
    const shards = (await kind.plan(ctx));
    const parts: PartSummary[] = [];
    for (const [i, s] of shards.entries()) parts.push((await kind.runShard(ctxFor(w, 'run-hand'), s, i)).summary as unknown as PartSummary);
    await kind.nextRound!(ctx, shards.map((shard, i) => ({ shard, result: { index: i, outputs: [], counts: {}, worker: 't', summary: parts[i] as never } })));
    const partTensors = await Promise.all(parts.map(async (p) => unpackTensors(await storage.get(joinKey('run-hand/checkpoints', 'parts', 'round-000000', `worker-000${p.worker}.bin`)), p.layout)));
    const reduced = await new CheckpointStore<RoundState>(storage, 'run-hand/checkpoints/rounds').at(1);
    assert.ok(reduced && parts.every((p) => p.rows === 3 * 64), 'full slices in round 0');
    partTensors[0]!.forEach((t0, i) => {
      const t1 = partTensors[1]![i]!;
      const expected = Float32Array.from(t0, (x, j) => (x * 192 + t1[j]! * 192) / 384);
      assert.deepEqual(reduced.tensors[i], expected, `tensor ${i} is the mean of the two parts`);
    });
    assert.notDeepEqual(partTensors[0]![0], partTensors[1]![0], 'the workers trained on different rows');

    // A learning-rate step from epoch 2: epoch 1 is the same, the end differs.
    const stepped = await runRounds({ ...w, lrSchedule: [{ fromEpoch: 2, factor: 0.1 }] }, 'run-lr');
    const epochsOf = (files: Record<string, Buffer>) => (JSON.parse(files['history.json']!.toString()) as { epochs: unknown[] }).epochs;
    assert.deepEqual(epochsOf(stepped.files)[0], epochsOf(a.files)[0], 'epoch 1 before the step: the same');
    assert.ok(!stepped.files['weights.bin']!.equals(a.files['weights.bin']!), 'the step changes epoch 2');

    // Parts run in reverse order (as on two machines finishing in any order): the same final bits.
    const b = await runRounds(w, 'run-b', (_r, n) => [...Array(n).keys()].reverse());
    assert.ok(b.files['weights.bin']!.equals(a.files['weights.bin']!), 'same weights');
    assert.ok(b.files['predictions.bin']!.equals(a.files['predictions.bin']!), 'same predictions');
    assert.ok(b.files['history.json']!.equals(a.files['history.json']!), 'same history');
  });

  test('a worker process decodes a data set once: rounds after the first epoch read no features part from storage', async () => {
    const saved = { storage, data };
    // A data set of its own, so that nothing is kept from the tests before.
    const base = new LocalStorage(mkdtempSync(join(tmpdir(), 'topoflow-dist-kept-')));
    const own = await makeFeaturesDataset(base, { eventsPerSample: 600, filesPerSample: 2, seed: 11 });
    const partKeys = new Set(own.outputs.map((o) => o.key));
    let epoch = 0;
    const reads = [0, 0];
    storage = new Proxy(base, {
      get: (target, name, receiver) => {
        const value = Reflect.get(target, name, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if ((name === 'get' || name === 'getRange') && partKeys.has(args[0] as string)) reads[epoch]!++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    data = own;
    try {
      const w = trainKind.withSchema.parse({ model: SMALL_GRU, workers: 2, syncEvery: 3, epochs: 2, batchSize: 64, seed: 5, backend: BACKEND });
      await runRounds(w, 'run-kept', undefined, (shard) => (epoch = shard.epoch));
      assert.ok(reads[0]! > 0, `epoch 1 reads the parts (${reads[0]} reads)`);
      assert.equal(reads[1], 0, 'epoch 2: every row group comes from what the process kept');
    } finally {
      ({ storage, data } = saved);
    }
  });
});
