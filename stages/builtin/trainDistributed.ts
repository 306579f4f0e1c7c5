/**
 * `train` with `workers: N` > 1: data-parallel training as a fan-out of
 * rounds (ml/distributed/rounds.ts). Each round is N shards, one per worker's
 * slice, run on any train workers; the kind's nextRound is the reduce that
 * averages them and plans the next round; combine writes the trained model's
 * files, the same as single-process training's (train.ts). The run's child
 * workflow is the round loop, so a lost worker costs at most its part of one
 * round, and fewer than N live workers still finish (the parts queue).
 */
import type { FanoutStageKind, StageContext } from '../kind.js';
import type { DistributedSettings, PartSummary, RoundShard } from '../../ml/distributed/rounds.js';
import { featuresData } from './featuresInput.js';
import { settingsOf, TRAIN_VERSION, TrainWith } from './trainSettings.js';
import { writeFiles } from './writeFiles.js';

/** Steps between synchronisations when a stage does not say. */
export const DEFAULT_SYNC_EVERY = 8;

// TensorFlow.js loads only in processes that train (as train.ts).
const rounds = () => import('../../ml/distributed/rounds.js');

async function distributedSettings(ctx: Omit<StageContext<TrainWith>, 'output'>): Promise<DistributedSettings> {
  const { backend, device: _device, ...s } = await settingsOf(ctx);
  // The schema refuses torch with workers > 1; this is the TensorFlow.js path.
  if (backend === 'torch') throw new Error('data-parallel training runs on the TensorFlow.js back ends only');
  return { ...s, backend, workers: ctx.with.workers ?? 1, syncEvery: ctx.with.syncEvery ?? DEFAULT_SYNC_EVERY, lrScaling: ctx.with.lrScaling ?? 'none' };
}

const dataOf = (ctx: Omit<StageContext<TrainWith>, 'output'>) => featuresData(ctx.stageId, ctx.inputs, ctx.with.data);

export const distributedTrain: FanoutStageKind<TrainWith, RoundShard> = {
  type: 'fanout',
  name: 'train',
  version: TRAIN_VERSION,
  description: 'Stage 4, data-parallel: trains one classifier over N train workers in synchronised rounds',
  withSchema: TrainWith,
  queue: 'train',
  inputRefs: { tuned: 'tune' },
  window: (w) => w.workers ?? 1,

  async plan(ctx) {
    return (await rounds()).planRounds(ctx.storage, await distributedSettings(ctx), dataOf(ctx), ctx.checkpointFolder, ctx);
  },

  async runShard(ctx, shard) {
    const s = await distributedSettings(ctx);
    const part = await (await rounds()).trainPart(ctx.storage, s, dataOf(ctx), shard, ctx);
    return {
      // Spread into plain objects: JsonValue wants index signatures, which interfaces lack.
      summary: { ...part, layout: part.layout.map((t) => ({ ...t })) },
      note: { text: `round ${shard.round + 1}/${(await rounds()).totalRounds(s, dataOf(ctx))} · epoch ${shard.epoch + 1}/${s.epochs} · ${Math.round(part.lastRate ?? (part.rows * s.workers) / Math.max(1e-3, part.seconds)).toLocaleString('en-US')} samples/s across ${s.workers} workers` },
    };
  },

  async nextRound(ctx, done) {
    const last = done[done.length - 1]!.shard.round;
    const parts = done.filter((d) => d.shard.round === last).map((d) => d.result.summary as unknown as PartSummary);
    return (await rounds()).reduceRound(ctx.storage, await distributedSettings(ctx), dataOf(ctx), parts, done[0]!.shard.folder, ctx);
  },

  async combine(ctx, shards) {
    const folder = ctx.checkpointFolder;
    const trained = await (await rounds()).finishRounds(ctx.storage, await distributedSettings(ctx), dataOf(ctx), folder, ctx);
    await writeFiles(ctx.output, trained.files);
    // The report (run summary, `topoflow status`) is not part of the content hash: its timings may differ.
    return { counts: { ...trained.counts, parts: shards.length }, summary: trained.summary, report: trained.report };
  },
};
