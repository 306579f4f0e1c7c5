/**
 * The training loop: streamed batches, our own Adam, the test set as the
 * validation set after every epoch, and checkpoints every epoch and every N
 * steps or seconds. A resumed run restores weights, Adam moments, the data
 * position and the metrics so far; data order and dropout masks are functions
 * of (seed, epoch, step), so it continues exactly where the lost run was.
 */
import { tf } from './tf.js';
import { Adam, KERAS_ADAM } from './adam.js';
import { buildModel, type BuiltModel } from './build.js';
import { CLASSES } from '../hep/layout.js';
import { CheckpointStore } from './checkpoint.js';
import type { NamedTensor } from './tensorPack.js';
import { batches, type Batch, type DataNeeds, type Row } from './data.js';
import type { TrainingData } from './trainingData.js';
import { masksPadding, usesInput, type ModelSpec } from './modelSpec.js';
import { accuracy, argmaxRows } from './metrics.js';
import { batchGradients, inputsOf, PROB_CLIP } from './gradients.js';
import { ReplicaPool } from './replicas.js';
import { activeBackend } from './backend.js';
import { BackendChoice } from './backendChoice.js';

export interface TrainConfig {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  shuffleBuffer: number;
  evalBatchSize: number;
  checkpointSteps: number;
  checkpointSeconds: number;
  /** Trim masked padding per batch (exact; see data.ts). */
  trim: boolean;
  /** Stop once the validation loss has not improved by more than `minDelta` for `patience` epochs (as Keras's EarlyStopping). */
  earlyStopping?: EarlyStopping;
  /** Learning-rate steps by epoch (as the seed's distributed runs' LearningRateScheduler); none: constant. */
  lrSchedule?: LrStep[];
}

/** From epoch `fromEpoch` (1-based) on, the learning rate is `learningRate × factor` (until a later step). */
export interface LrStep {
  fromEpoch: number;
  factor: number;
}

/** The learning-rate factor of epoch `epoch` (1-based): the last step whose `fromEpoch` it has reached, else 1. */
export function lrFactorAt(epoch: number, schedule: ReadonlyArray<LrStep> | undefined): number {
  let factor = 1;
  let from = 0;
  for (const s of schedule ?? []) if (epoch >= s.fromEpoch && s.fromEpoch >= from) [factor, from] = [s.factor, s.fromEpoch];
  return factor;
}

export interface EarlyStopping {
  patience: number;
  minDelta: number;
}

/**
 * Whether training stops after these epochs: the best validation loss is
 * `patience` or more epochs old. A function of the history alone, so a
 * resumed attempt decides as the lost one would have.
 */
export function earlyStopDue(history: ReadonlyArray<Pick<EpochMetrics, 'valLoss'>>, rule: EarlyStopping | undefined): boolean {
  if (!rule || history.length === 0) return false;
  let best = 0;
  for (let i = 1; i < history.length; i++) if (history[i]!.valLoss < history[best]!.valLoss - rule.minDelta) best = i;
  return history.length - 1 - best >= rule.patience;
}

export interface EpochMetrics {
  epoch: number;
  loss: number;
  accuracy: number;
  valLoss: number;
  valAccuracy: number;
  /** Training time of the epoch (without validation), summed over resumed attempts. */
  trainSeconds: number;
  samplesPerSecond: number;
}

/** An epoch's metrics without its wall-clock figures: what history.json holds (deterministic). */
export type EpochScores = Omit<EpochMetrics, 'trainSeconds' | 'samplesPerSecond'>;

export interface TrainIO {
  data: TrainingData;
  /** Without one, nothing is saved and a lost run starts over (tuning trials: short, and cheap to redo). */
  checkpoints?: CheckpointStore<TrainState>;
  progress(p: { done: number; total: number; unit: string; message: string }): void;
  log(message: string): void;
  signal: AbortSignal;
  /** Model replicas each step's batch is split over (replicas.ts; replicaCount picks); 1 (default): this thread alone. */
  replicas?: number;
}

export interface TrainResult {
  built: BuiltModel;
  history: EpochMetrics[];
  /** Softmax outputs on the test set, rows in test-file order (n × 3). */
  predictions: Float32Array;
  labels: Int8Array;
  steps: number;
  resumedFromStep: number | null;
}

/** What a checkpoint holds besides tensors. */
export interface TrainState {
  epoch: number;
  stepInEpoch: number;
  globalStep: number;
  history: EpochMetrics[];
  partial: { lossSum: number; correct: number; seen: number; trainSeconds: number };
}

export async function train(spec: ModelSpec, cfg: TrainConfig, io: TrainIO): Promise<TrainResult> {
  const needs = needsOf(spec, cfg);
  const built = buildModel(spec, cfg.seed);
  const { model, clock } = built;
  clock.packed = needs.trim; // a run that keeps its padding runs every step of it
  const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const adam = new Adam(vars, { ...KERAS_ADAM, learningRate: cfg.learningRate });
  const trainRows = io.data.trainRows;
  const stepsPerEpoch = Math.ceil(trainRows / cfg.batchSize);
  if (trainRows === 0) throw new Error('the training set is empty');

  let state: TrainState = { epoch: 0, stepInEpoch: 0, globalStep: 0, history: [], partial: emptyPartial() };
  const restored = io.checkpoints ? await io.checkpoints.latest((m) => io.log(m)) : null;
  if (restored) {
    restore(model, adam, restored.tensors);
    state = restored.state;
    adam.step = state.globalStep;
    io.log(`resuming from the checkpoint at step ${restored.step} (epoch ${state.epoch + 1}, step ${state.stepInEpoch} of ${stepsPerEpoch})`);
  }
  const resumedFromStep = restored ? restored.step : null;
  const save = async (st: TrainState) => io.checkpoints?.save(st.globalStep, st, snapshot(model, adam));
  let lastSave = Date.now();
  let predictions: Float32Array | undefined;
  let labels: Int8Array | undefined;
  const pool = replicaPool(spec, cfg.seed, needs.trim, io);

  try {
    await pool?.ready();
    while (state.epoch < cfg.epochs && !earlyStopDue(state.history, cfg.earlyStopping)) {
      const started = Date.now();
      adam.lrFactor = lrFactorAt(state.epoch + 1, cfg.lrSchedule);
      if (cfg.lrSchedule) io.log(`epoch ${state.epoch + 1}/${cfg.epochs}: learning rate ${cfg.learningRate * adam.lrFactor}`);
      const p = state.partial;
      const elapsed = () => p.trainSeconds + (Date.now() - started) / 1000;
      const stream = io.data.epoch(needs, { seed: cfg.seed, epoch: state.epoch, bufferSize: cfg.shuffleBuffer, batchSize: cfg.batchSize, skip: state.stepInEpoch });
      for await (const batch of stream) {
        if (io.signal.aborted) throw new Error('training cancelled');
        clock.step = state.globalStep;
        const { loss, correct } = pool ? await pool.step(built, adam, vars, batch, needs.trim, state.globalStep) : trainStep(built, adam, vars, batch);
        p.lossSum += loss * batch.size;
        p.correct += correct;
        p.seen += batch.size;
        state.stepInEpoch++;
        state.globalStep++;
        io.progress({
          done: state.globalStep,
          total: stepsPerEpoch * cfg.epochs,
          unit: 'steps',
          message: `epoch ${state.epoch + 1}/${cfg.epochs} · step ${state.stepInEpoch}/${stepsPerEpoch} · loss ${(p.lossSum / p.seen).toFixed(4)} · accuracy ${(p.correct / p.seen).toFixed(4)} · ${Math.round(p.seen / elapsed())} samples/s`,
        });
        if (state.stepInEpoch % cfg.checkpointSteps === 0 || Date.now() - lastSave > cfg.checkpointSeconds * 1000) {
          await save({ ...state, partial: { ...p, trainSeconds: elapsed() } });
          lastSave = Date.now();
        }
        await new Promise((r) => setImmediate(r)); // let heartbeats and cancellation through
      }
      const trainSeconds = elapsed();
      const val = await evaluate(built, io.data.test(needs), io.data.testRows, needs, cfg.evalBatchSize);
      predictions = val.predictions;
      labels = val.labels;
      const m: EpochMetrics = { epoch: state.epoch + 1, loss: p.lossSum / p.seen, accuracy: p.correct / p.seen, valLoss: val.loss, valAccuracy: val.accuracy, trainSeconds, samplesPerSecond: p.seen / trainSeconds };
      io.log(`epoch ${m.epoch}/${cfg.epochs}: loss ${m.loss.toFixed(4)} accuracy ${m.accuracy.toFixed(4)} · val_loss ${m.valLoss.toFixed(4)} val_accuracy ${m.valAccuracy.toFixed(4)} · ${Math.round(m.samplesPerSecond)} samples/s`);
      state = { epoch: state.epoch + 1, stepInEpoch: 0, globalStep: state.globalStep, history: [...state.history, m], partial: emptyPartial() };
      await save(state);
      lastSave = Date.now();
      if (state.epoch < cfg.epochs && earlyStopDue(state.history, cfg.earlyStopping)) {
        io.log(`early stop after epoch ${state.epoch}: val_loss has not improved by more than ${cfg.earlyStopping!.minDelta} for ${cfg.earlyStopping!.patience} epoch(s)`);
      }
    }
  } finally {
    if (pool) io.log(`replica threads computed ${pool.shards.onReplicas} of ${pool.shards.onReplicas + pool.shards.here} batch shards`);
    await pool?.close();
  }
  adam.dispose();
  if (!predictions || !labels) ({ predictions, labels } = await evaluate(built, io.data.test(needs), io.data.testRows, needs, cfg.evalBatchSize)); // resumed after the last epoch
  return { built, history: state.history, predictions, labels, steps: state.globalStep, resumedFromStep };
}

/** Replica threads for `io.replicas` > 1, on this thread's back end. */
function replicaPool(spec: ModelSpec, seed: number, packed: boolean, io: TrainIO): ReplicaPool | null {
  const count = io.replicas ?? 1;
  if (count <= 1) return null;
  const backend = activeBackend()?.choice ?? BackendChoice.exclude(['auto']).parse(tf.getBackend());
  io.log(`each batch is split over ${count} model replicas: this thread and ${count - 1} replica thread${count > 2 ? 's' : ''}`);
  return new ReplicaPool({ spec, seed, backend, packed }, count, (m) => io.log(m));
}

/** What the model reads from each row, and whether its padding may be trimmed. */
export function needsOf(spec: ModelSpec, cfg: Pick<TrainConfig, 'trim'>): DataNeeds {
  return { hlf: usesInput(spec, 'hlf'), particles: usesInput(spec, 'particles'), trim: cfg.trim && masksPadding(spec) };
}

/** Forward, loss, backward and update for one batch; returns the batch's mean loss and correct count. */
export function trainStep(built: BuiltModel, adam: Adam, vars: tf.Variable[], batch: Batch): { loss: number; correct: number } {
  return tf.tidy(() => {
    const { grads, loss, correct } = batchGradients(built, vars, batch);
    adam.apply(grads);
    return { loss, correct };
  });
}

/** Inference over `n` test rows in their order: loss, accuracy and the softmax outputs. */
export async function evaluate(built: BuiltModel, rows: AsyncIterable<Row>, n: number, needs: DataNeeds, batchSize: number) {
  const predictions = new Float32Array(n * CLASSES);
  const labels = new Int8Array(n);
  let at = 0;
  let lossSum = 0;
  for await (const batch of batches(rows, batchSize, needs)) {
    const probs = tf.tidy(() => built.model.apply(inputsOf(built, batch), { training: false }) as tf.Tensor2D);
    const values = await probs.data();
    probs.dispose();
    if (at + batch.size > n) throw new Error(`the test set has more rows than its manifest says (${n})`);
    predictions.set(values, at * CLASSES);
    labels.set(batch.labels, at);
    for (let i = 0; i < batch.size; i++) {
      const label = batch.labels[i]!;
      lossSum -= Math.log(Math.min(1 - PROB_CLIP, Math.max(PROB_CLIP, values[i * CLASSES + label]!)));
    }
    at += batch.size;
    await new Promise((r) => setImmediate(r));
  }
  if (at !== n) throw new Error(`the test set has ${at} rows but its manifest says ${n}`);
  return { predictions, labels, loss: lossSum / Math.max(1, n), accuracy: n ? accuracy(labels, argmaxRows(predictions, CLASSES)) : 0 };
}

/** Model weights, then Adam's first and second moments. */
export function snapshot(model: tf.LayersModel, adam: Adam): NamedTensor[] {
  const out: NamedTensor[] = model.weights.map((w) => ({ name: `weight/${w.originalName}`, shape: w.shape.slice() as number[], values: w.read().dataSync() as Float32Array }));
  const { m, v } = adam.moments();
  const shapes = model.trainableWeights.map((w) => w.shape.slice() as number[]);
  m.forEach((values, i) => out.push({ name: `adam.m/${i}`, shape: shapes[i]!, values }));
  v.forEach((values, i) => out.push({ name: `adam.v/${i}`, shape: shapes[i]!, values }));
  return out;
}

/** By position, as snapshot() wrote them: tfjs's variable names differ between processes, the order does not. */
export function restore(model: tf.LayersModel, adam: Adam, tensors: Float32Array[]): void {
  const weights = model.weights;
  const expected = weights.length + 2 * adam.count;
  if (tensors.length !== expected) throw new Error(`the checkpoint holds ${tensors.length} tensors; this model needs ${expected} (was the model changed?)`);
  tf.tidy(() => {
    weights.forEach((w, i) => w.write(tf.tensor(tensors[i]!, w.shape as number[])));
  });
  const n = adam.count;
  adam.setMoments(tensors.slice(weights.length, weights.length + n), tensors.slice(weights.length + n, weights.length + 2 * n));
}

function emptyPartial(): TrainState['partial'] {
  return { lossSum: 0, correct: 0, seen: 0, trainSeconds: 0 };
}
