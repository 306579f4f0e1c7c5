/**
 * Data-parallel training in synchronised rounds (issue 13): every round, each
 * of N workers starts from the round's checkpoint (weights and Adam state, in
 * storage), trains its own slice of up to `syncEvery` global steps
 * (schedule.ts) and writes its tensors; the reduce averages them
 * (average.ts), validates on the test set at an epoch's end and writes the
 * next round's checkpoint. Everything a round computes is a function of its
 * checkpoint, the data and the seed, so a part re-run on another worker, or a
 * reduce re-run after its worker died, writes the same bits.
 *
 * Storage, under the stage's checkpoint folder:
 *   rounds/step-<round>/tensors.bin, state.json   the checkpoint each round starts from
 *                                                (after the last: the trained model,
 *                                                with the last validation's predictions)
 *   parts/round-<round>/worker-<w>.bin            a worker's tensors after its part
 */
import { Adam, KERAS_ADAM } from '../adam.js';
import { buildModel, type BuiltModel } from '../build.js';
import { CheckpointStore } from '../checkpoint.js';
import { verifyParts, type Batch } from '../data.js';
import { classifierFiles, type ClassifierData, type ClassifierSettings, type ClassifierSummary } from '../classifier.js';
import type { JobCallbacks, JobResult } from '../job.js';
import { packTensors, unpackTensors, type NamedTensor, type PackedTensor } from '../tensorPack.js';
import { earlyStopDue, evaluate, lrFactorAt, needsOf, restore, snapshot, trainStep, type EpochMetrics } from '../trainer.js';
import { storedData } from '../trainingData.js';
import { KeptGroups } from '../keptGroups.js';
import { useBackend } from '../backend.js';
import { backendChoice } from '../backendChoice.js';
import { usesInput } from '../modelSpec.js';
import { tf } from '../tf.js';
import { hashJson, sha256Hex } from '../../common/hash.js';
import { joinKey, type Storage } from '../../storage/index.js';
import { averageParts } from './average.js';
import { StreamCursor } from './cursor.js';
import { firstRound, nextInEpoch, roundsPerEpoch, stepsPerEpoch, workerBatch, workerRows, type RoundPlace, type Topology } from './schedule.js';

export interface DistributedSettings extends ClassifierSettings {
  workers: number;
  syncEvery: number;
  lrScaling: 'none' | 'linear';
}

/** One worker's part of one round: a fan-out shard (plain JSON, kept in plan.json). */
export interface RoundShard extends RoundPlace {
  round: number;
  worker: number;
  /** The stage's checkpoint folder, where rounds and parts live. */
  folder: string;
}

/** What a part reports (its shard's summary): small; the tensors are in storage. */
export interface PartSummary {
  round: number;
  worker: number;
  rows: number;
  lossSum: number;
  correct: number;
  seconds: number;
  sha256: string;
  layout: PackedTensor[];
  /** Samples/s across all workers in the round before (absent in the first). */
  lastRate?: number;
}

export interface RoundTiming {
  round: number;
  epoch: number;
  /** From the round's checkpoint to the start of its reduce. */
  seconds: number;
  /** The slowest part's training time. */
  computeSeconds: number;
  /** seconds − computeSeconds: queueing, loading, stragglers, the engine. */
  waitSeconds: number;
  reduceSeconds: number;
  rows: number;
  samplesPerSecond: number;
}

/** A round checkpoint's state (its tensors: weights, Adam m, Adam v, then, when `validated`, predictions and labels). */
export interface RoundState {
  /** The round this checkpoint starts; null once training is over. */
  round: number;
  place: RoundPlace | null;
  globalStep: number;
  history: EpochMetrics[];
  partial: { lossSum: number; correct: number; seen: number; trainSeconds: number };
  rounds: RoundTiming[];
  savedAt: number;
  validated: boolean;
  backend: string;
}

const emptyPartial = (): RoundState['partial'] => ({ lossSum: 0, correct: 0, seen: 0, trainSeconds: 0 });

/** The rows and the batch size of the data, as the schedule sees them. */
export function topologyOf(s: DistributedSettings, trainRows: number): Topology {
  return { rows: trainRows, workers: s.workers, batchSize: s.batchSize, syncEvery: s.syncEvery };
}

/** Rounds in the whole training, at most (early stopping may end it sooner). */
export const totalRounds = (s: DistributedSettings, data: ClassifierData) => s.epochs * roundsPerEpoch(topologyOf(s, rowsOf(data)));

const roundStore = (storage: Storage, folder: string) => new CheckpointStore<RoundState>(storage, joinKey(folder, 'rounds'), 3);
const partKey = (folder: string, round: number, worker: number) => joinKey(folder, 'parts', `round-${String(round).padStart(6, '0')}`, `worker-${String(worker).padStart(4, '0')}.bin`);
const shardsOf = (round: number, place: RoundPlace, s: DistributedSettings, folder: string): RoundShard[] =>
  Array.from({ length: s.workers }, (_, worker) => ({ round, worker, ...place, folder }));

/** The plan: the starting checkpoint (the seeded initial weights, Adam at zero) and round 0's parts. */
export async function planRounds(storage: Storage, s: DistributedSettings, data: ClassifierData, folder: string, io: JobCallbacks): Promise<RoundShard[]> {
  const backend = await activate(s, io);
  await verifyOnce(storage, data, io);
  const rows = rowsOf(data);
  if (rows === 0) throw new Error('the training set is empty');
  const store = roundStore(storage, folder);
  const place = firstRound(topologyOf(s, rows), 0);
  if (!(await store.at(0))) {
    const fresh = new Replica(s);
    const state: RoundState = { round: 0, place, globalStep: 0, history: [], partial: emptyPartial(), rounds: [], savedAt: Date.now(), validated: false, backend };
    await store.save(0, state, fresh.snapshot());
    fresh.dispose();
  }
  io.log(`data-parallel training over ${s.workers} workers: ${stepsPerEpoch(topologyOf(s, rows))} global steps of ${s.workers} × ${s.batchSize} rows per epoch, synchronised every ${s.syncEvery} step(s): ${totalRounds(s, data)} rounds at most`);
  return shardsOf(0, place, s, folder);
}

/** One worker's part of a round: train its slice from the round's checkpoint, store its tensors. */
export async function trainPart(storage: Storage, s: DistributedSettings, data: ClassifierData, shard: RoundShard, io: JobCallbacks): Promise<PartSummary> {
  await activate(s, io);
  await verifyOnce(storage, data, io);
  const start = await roundStore(storage, shard.folder).at(shard.round);
  if (!start) throw new Error(`round ${shard.round + 1}: its starting checkpoint is missing from ${storage.uri(joinKey(shard.folder, 'rounds'))}`);
  const replica = replicaFor(s);
  replica.load(start.tensors, start.state.globalStep);
  replica.adam.lrFactor = lrFactorAt(shard.epoch + 1, s.lrSchedule);
  const rows = rowsOf(data);
  const topo = topologyOf(s, rows);
  const needs = needsOf(s.model, s);
  const training = storedData(storage, data.train, data.test, keptGroupsFor(data));
  const streamId = hashJson({ parts: data.train.map((p) => p.sha256), needs, seed: s.seed, epoch: shard.epoch, buffer: s.shuffleBuffer, batch: s.batchSize });
  const stream = (skip: number) => training.epoch(needs, { seed: s.seed, epoch: shard.epoch, bufferSize: s.shuffleBuffer, batchSize: s.batchSize, skip });
  const rounds = totalRounds(s, data);
  const lastRate = start.state.rounds.at(-1)?.samplesPerSecond;
  const started = Date.now();
  let lossSum = 0;
  let correct = 0;
  let seen = 0;
  for (let k = 0; k < shard.steps; k++) {
    if (io.signal.aborted) throw new Error('training cancelled');
    const { start: from, end } = workerRows(topo, shard.fromStep + k, shard.worker);
    if (end <= from) break; // the epoch's last rows went to the workers before this one
    const batch = await cursor.take(streamId, stream, workerBatch(topo, shard.fromStep + k, shard.worker));
    if (batch.size !== end - from) throw new Error(`the training stream's batch at rows ${from}..${end} has ${batch.size} rows (does the manifest's row count match the parts?)`);
    // Each worker and step draws its own dropout masks, the same on any machine.
    replica.built.clock.step = (start.state.globalStep + k) * s.workers + shard.worker;
    const step = trainStep(replica.built, replica.adam, replica.vars, batch);
    lossSum += step.loss * batch.size;
    correct += step.correct;
    seen += batch.size;
    io.progress({
      done: shard.round * s.syncEvery + k + 1,
      total: rounds * s.syncEvery,
      unit: 'steps',
      message: `round ${shard.round + 1}/${rounds} · epoch ${shard.epoch + 1}/${s.epochs} · worker ${shard.worker + 1}/${s.workers} · step ${k + 1}/${shard.steps} · loss ${(lossSum / seen).toFixed(4)}${lastRate ? ` · ${Math.round(lastRate)} samples/s across workers (last round)` : ''}`,
    });
    await new Promise((r) => setImmediate(r)); // heartbeats and cancellation
  }
  const { bytes, layout } = packTensors(replica.snapshot());
  await storage.put(partKey(shard.folder, shard.round, shard.worker), bytes);
  return { round: shard.round, worker: shard.worker, rows: seen, lossSum, correct, seconds: (Date.now() - started) / 1000, sha256: sha256Hex(bytes), layout, ...(lastRate !== undefined ? { lastRate } : {}) };
}

/**
 * The reduce after a round's parts are all done: average them, validate at an
 * epoch's end, decide whether training goes on (epochs, early stopping), and
 * write the next checkpoint. Returns the next round's shards, or none.
 */
export async function reduceRound(storage: Storage, s: DistributedSettings, data: ClassifierData, parts: readonly PartSummary[], folder: string, io: JobCallbacks): Promise<RoundShard[]> {
  const reduceStarted = Date.now();
  await activate(s, io);
  const round = parts[0]!.round;
  const store = roundStore(storage, folder);
  const start = await store.at(round);
  if (!start || !start.state.place) throw new Error(`round ${round + 1}: its starting checkpoint is missing from ${storage.uri(joinKey(folder, 'rounds'))}`);
  const st = start.state;
  const place = st.place!;
  const ordered = [...parts].sort((a, b) => a.worker - b.worker);
  const loaded = [];
  for (const p of ordered) {
    const bytes = await storage.get(partKey(folder, round, p.worker));
    if (sha256Hex(bytes) !== p.sha256) throw new Error(`round ${round + 1}: worker ${p.worker + 1}'s tensors do not match the SHA-256 its part recorded`);
    loaded.push({ tensors: unpackTensors(bytes, p.layout), rows: p.rows });
  }
  const averaged = averageParts(loaded);
  const rows = ordered.reduce((n, p) => n + p.rows, 0);
  const seconds = Math.max(1e-3, (reduceStarted - st.savedAt) / 1000);
  const computeSeconds = Math.max(...ordered.map((p) => p.seconds));
  let partial = {
    lossSum: st.partial.lossSum + ordered.reduce((n, p) => n + p.lossSum, 0),
    correct: st.partial.correct + ordered.reduce((n, p) => n + p.correct, 0),
    seen: st.partial.seen + rows,
    trainSeconds: st.partial.trainSeconds + seconds,
  };
  const globalStep = st.globalStep + place.steps;
  const topo = topologyOf(s, rowsOf(data));
  let next = nextInEpoch(topo, place);
  let history = st.history;
  let extra: NamedTensor[] = [];
  if (!next) {
    const replica = replicaFor(s);
    replica.load(averaged, globalStep);
    const needs = needsOf(s.model, s);
    const training = storedData(storage, data.train, data.test, keptGroupsFor(data));
    io.log(`validating epoch ${place.epoch + 1}/${s.epochs} on ${training.testRows} test rows (the reduce of round ${round + 1})`);
    const val = await evaluate(replica.built, training.test(needs), training.testRows, needs, s.evalBatchSize);
    const m: EpochMetrics = { epoch: place.epoch + 1, loss: partial.lossSum / partial.seen, accuracy: partial.correct / partial.seen, valLoss: val.loss, valAccuracy: val.accuracy, trainSeconds: partial.trainSeconds, samplesPerSecond: partial.seen / partial.trainSeconds };
    io.log(`epoch ${m.epoch}/${s.epochs} (${s.workers} workers): loss ${m.loss.toFixed(4)} accuracy ${m.accuracy.toFixed(4)} · val_loss ${m.valLoss.toFixed(4)} val_accuracy ${m.valAccuracy.toFixed(4)} · ${Math.round(m.samplesPerSecond)} samples/s`);
    history = [...history, m];
    partial = emptyPartial();
    extra = [
      { name: 'predictions', shape: [val.predictions.length], values: val.predictions },
      { name: 'labels', shape: [val.labels.length], values: Float32Array.from(val.labels) },
    ];
    const stop = earlyStopDue(history, s.earlyStopping);
    if (stop && m.epoch < s.epochs) io.log(`early stop after epoch ${m.epoch}: val_loss has not improved by more than ${s.earlyStopping!.minDelta} for ${s.earlyStopping!.patience} epoch(s)`);
    next = m.epoch < s.epochs && !stop ? firstRound(topo, m.epoch) : null;
  }
  const timing: RoundTiming = { round, epoch: place.epoch, seconds, computeSeconds, waitSeconds: Math.max(0, seconds - computeSeconds), reduceSeconds: (Date.now() - reduceStarted) / 1000, rows, samplesPerSecond: rows / seconds };
  const state: RoundState = { round: round + 1, place: next, globalStep, history, partial, rounds: [...st.rounds, timing], savedAt: Date.now(), validated: extra.length > 0, backend: st.backend };
  const shapes = start.tensors.map((t) => [t.length]);
  await store.save(round + 1, state, [...averaged.map((values, i) => ({ name: `state/${i}`, shape: shapes[i]!, values })), ...extra]);
  if (round > 0) await storage.deletePrefix(`${joinKey(folder, 'parts', `round-${String(round - 1).padStart(6, '0')}`)}/`);
  return next ? shardsOf(round + 1, next, s, folder) : [];
}

/** After the last round: the trained model and its files, as single-process training keeps them. */
export async function finishRounds(storage: Storage, s: DistributedSettings, data: ClassifierData, folder: string, io: JobCallbacks): Promise<JobResult<ClassifierSummary> & { report: string }> {
  await activate(s, io);
  const last = await roundStore(storage, folder).latest((m) => io.log(m));
  if (!last || last.state.place !== null || !last.state.validated) throw new Error(`training has not finished: no final round checkpoint in ${storage.uri(joinKey(folder, 'rounds'))}`);
  const st = last.state;
  const replica = replicaFor(s);
  const n = replica.tensorCount;
  replica.load(last.tensors.slice(0, n), st.globalStep);
  const predictions = last.tensors[n]!;
  const labels = Int8Array.from(last.tensors[n + 1]!);
  const rounds = st.rounds;
  const sum = (f: (r: RoundTiming) => number) => rounds.reduce((x, r) => x + f(r), 0);
  const timing = {
    workers: s.workers,
    syncEvery: s.syncEvery,
    roundTotals: { rounds: rounds.length, seconds: sum((r) => r.seconds), computeSeconds: sum((r) => r.computeSeconds), waitSeconds: sum((r) => r.waitSeconds), reduceSeconds: sum((r) => r.reduceSeconds) },
    rounds,
  };
  const out = classifierFiles(replica.built, s, st.backend, st.history, predictions, labels, timing);
  const t = timing.roundTotals;
  const report = `data-parallel over ${s.workers} workers: ${t.rounds} rounds of ≤ ${s.syncEvery} global steps; compute ${t.computeSeconds.toFixed(1)} s, wait ${t.waitSeconds.toFixed(1)} s, reduce ${t.reduceSeconds.toFixed(1)} s`;
  return { ...out, counts: { ...out.counts, steps: st.globalStep, trainEvents: rowsOf(data), workers: s.workers, rounds: rounds.length }, report };
}

// ---------------------------------------------------------------------------

/** A model and its optimizer, kept per process across rounds (building one costs more than a round's load). */
class Replica {
  readonly built: BuiltModel;
  readonly vars: tf.Variable[];
  readonly adam: Adam;

  constructor(s: DistributedSettings) {
    this.built = buildModel(s.model, s.seed);
    this.vars = this.built.model.trainableWeights.map((w) => w.read() as tf.Variable);
    this.adam = new Adam(this.vars, { ...KERAS_ADAM, learningRate: s.learningRate * (s.lrScaling === 'linear' ? s.workers : 1) });
  }

  /** Weights, then Adam's two moments per trainable variable. */
  get tensorCount(): number {
    return this.built.model.weights.length + 2 * this.adam.count;
  }

  load(tensors: Float32Array[], step: number): void {
    restore(this.built.model, this.adam, tensors.slice(0, this.tensorCount));
    this.adam.step = step;
  }

  snapshot(): NamedTensor[] {
    return snapshot(this.built.model, this.adam);
  }

  dispose(): void {
    this.adam.dispose();
    this.built.model.dispose();
  }
}

let replica: { id: string; replica: Replica } | undefined;

function replicaFor(s: DistributedSettings): Replica {
  const id = hashJson({ model: s.model, seed: s.seed, lr: s.learningRate, scaling: s.lrScaling, workers: s.workers, backend: tf.getBackend() });
  if (replica?.id !== id) {
    replica?.replica.dispose();
    replica = { id, replica: new Replica(s) };
  }
  return replica.replica;
}

const cursor = new StreamCursor<Batch>();
const verified = new Set<string>();
let kept: { id: string; groups: KeptGroups } | undefined;

/**
 * The row groups this worker process has decoded from a data set, kept from
 * round to round as a single-process run keeps them from epoch to epoch; one
 * data set at a time, so memory stays within one budget.
 */
export function keptGroupsFor(data: ClassifierData): KeptGroups {
  const id = hashJson([...data.train, ...data.test].map((p) => `${p.key}@${p.sha256}`));
  if (kept?.id !== id) kept = { id, groups: new KeptGroups() };
  return kept.groups;
}

/** Every part's bytes are checked once per process (each round would otherwise re-hash the whole data set). */
async function verifyOnce(storage: Storage, data: ClassifierData, io: JobCallbacks): Promise<void> {
  const parts = [...data.train, ...data.test].filter((p) => !verified.has(`${p.key}@${p.sha256}`));
  if (!parts.length) return;
  await verifyParts(storage, parts, (done, total) => io.progress({ done, total, unit: 'parts verified' }));
  for (const p of parts) verified.add(`${p.key}@${p.sha256}`);
}

async function activate(s: DistributedSettings, io: JobCallbacks): Promise<string> {
  const backend = await useBackend(backendChoice(s.backend), { recurrent: usesInput(s.model, 'particles') });
  if (!announced.has(backend.name)) {
    announced.add(backend.name);
    io.log(`training "${s.model.name ?? 'model'}" data-parallel on the ${backend.name} back end: ${backend.description}`);
  }
  return backend.name;
}
const announced = new Set<string>();

const rowsOf = (data: ClassifierData) => data.train.reduce((n, p) => n + p.rows, 0);
