/**
 * `features`: stage 2 of the topology classifier. Turns stage 1's Parquet parts
 * into the train and test sets the models read (seed-pipeline.md §3):
 *
 *   prepass (parallel, one shard per stage-1 part): HLF min/max and class counts,
 *     kept per part by content (content/features-prepass/), so only new parts are scanned
 *   merge: one scaler and the class counts; an empty class is an error
 *   shards (parallel, one per part): per row, seeded Bernoulli balance and 80/20
 *     split (decided from a hash of (seed, file, entry), so any partitioning gives
 *     the same rows), HLF scaling, particle sort + standardisation; writes
 *     train-NNNNN.parquet (sorted by the row's seeded shuffle key) and
 *     test-NNNNN.parquet (input order)
 *   combine: scaler.json (min/max, class counts before and after) for inference
 *
 * Memory per activity: one stage-1 row group in, and this part's kept rows out
 * (about rows-per-part × n × 19 × 4 bytes for the train sort; ingest's
 * entriesPerShard bounds it). Nothing loads the whole dataset.
 */
import { z } from 'zod';
import type { FanoutStageKind, StageContext, StageResult } from '../kind.js';
import type { JsonValue, StageManifest } from '../../protocol/manifest.js';
import { BadInputError } from '../../common/errors.js';
import { BadPartError, MinMaxStats, ParticleStats, partStatistics, transformPart, type MinMaxStatsJSON, type ParticleStatsJSON } from '../../hep/features/index.js';
import { CLASSES } from '../../hep/layout.js';
import { getVerified, type RecordedObject } from '../../storage/verified.js';

const With = z.strictObject({
  seed: z.number().int().nonnegative().default(42),
  /** `masked` (default): padding rows stay exactly 0 so Masking works; `faithful`: the seed's behaviour. */
  padding: z.enum(['faithful', 'masked']).default('masked'),
  /** Rows per output row group: the unit a trainer streams (1 row group of 256 × 801 × 19 floats ≈ 15.6 MB raw). */
  rowGroupSize: z.number().int().positive().default(256),
  window: z.number().int().positive().default(2),
  /**
   * `event` (default, the seed's): each event's particle columns standardised over its own rows, so
   * they lose every absolute scale; `dataset`: one mean and std per column over the whole stage-1
   * dataset's particles (fit like the HLF scaler), which keeps them (docs/generator.md).
   */
  particleScaling: z.enum(['event', 'dataset']).optional(),
})
  // `event` written out is the default: the same stage, so the same cache key.
  .transform(({ particleScaling, ...w }): typeof w & { particleScaling?: 'dataset' } => (particleScaling === 'dataset' ? { ...w, particleScaling } : w));
type With = z.infer<typeof With>;

/** One stage-1 part, with its manifest record (checked before decoding). */
interface Shard extends RecordedObject {
  name: string;
}

interface Prepared {
  stats: MinMaxStatsJSON;
  /** With `particleScaling: dataset`. */
  particles?: ParticleStatsJSON;
}

export const features: FanoutStageKind<With, Shard> = {
  type: 'fanout',
  name: 'features',
  version: '1',
  description: 'Stage 2: HLF scaling, particle ordering + standardisation (per event, or over the dataset), class balance, seeded train/test split',
  withSchema: With,
  window: (w) => w.window,

  async plan(ctx) {
    const parts = ingestParts(ctx.inputs);
    if (!parts.length) throw new BadInputError(`stage "${ctx.stageId}": no stage-1 Parquet parts among its inputs (needs an ingest stage)`);
    return parts;
  },

  prepass: {
    async runShard(ctx, shard) {
      const particles = ctx.with.particleScaling === 'dataset';
      const stats = await readingPart(ctx, shard, (bytes) => partStatistics(bytes, { particles }));
      const prepared: Prepared = { stats: stats.hlf.toJSON(), ...(stats.particles ? { particles: stats.particles.toJSON() } : {}) };
      return prepared as unknown as JsonValue;
    },
    // A part's statistics depend on its bytes (and on whether its particles are measured) only: a run that adds parts scans only the new ones twice.
    contentKey: (w, shard) => ({ part: shard.sha256, bytes: shard.bytes, ...(w.particleScaling ? { particleScaling: w.particleScaling } : {}) }),
    async merge(ctx, results) {
      const stats = new MinMaxStats();
      for (const r of results) stats.merge(MinMaxStats.fromJSON((r as unknown as Prepared).stats));
      const empty = stats.counts.map((n, c) => (n === 0 ? c : -1)).filter((c) => c >= 0);
      if (empty.length) {
        throw new BadInputError(`stage "${ctx.stageId}": class(es) ${empty.join(', ')} (0 QCD, 1 ttbar, 2 W+jets) have no events after stage 1; cannot balance`);
      }
      const prepared: Prepared = { stats: stats.toJSON(), ...particleStatsOf(ctx.stageId, ctx.with, results as unknown as Prepared[]) };
      return prepared as unknown as JsonValue;
    },
  },

  async runShard(ctx, shard, index): Promise<StageResult> {
    const { seed, padding, rowGroupSize } = ctx.with;
    const prepared = ctx.prepared as unknown as Prepared;
    const stats = MinMaxStats.fromJSON(prepared.stats);
    const particleScale = prepared.particles ? ParticleStats.fromJSON(prepared.particles).scale() : undefined;
    const onRows = (read: number) => ctx.progress({ done: read, unit: 'events', message: `part ${index}` });
    const part = await readingPart(ctx, shard, (bytes) => transformPart(bytes, { seed, padding, rowGroupSize, stats, particleScale, onRows }));
    const n = String(index).padStart(5, '0');
    await ctx.output.write(`train-${n}.parquet`, part.train, { rows: part.trainRows });
    await ctx.output.write(`test-${n}.parquet`, part.test, { rows: part.testRows });
    return {
      counts: { read: part.read, train: part.trainRows, test: part.testRows },
      summary: { part: shard.name, trainByClass: part.trainByClass, testByClass: part.testByClass },
    };
  },

  async combine(ctx, shards) {
    const prepared = ctx.prepared as unknown as Prepared;
    const stats = MinMaxStats.fromJSON(prepared.stats);
    const particleScale = prepared.particles ? ParticleStats.fromJSON(prepared.particles).scale() : undefined;
    const train = sum(shards.map((s) => s.counts.train ?? 0));
    const test = sum(shards.map((s) => s.counts.test ?? 0));
    const byClass = (field: 'trainByClass' | 'testByClass') => Array.from({ length: CLASSES }, (_, c) => sum(shards.map((s) => (s.summary as Record<string, number[]>)[field]?.[c] ?? 0)));
    const trainByClass = byClass('trainByClass');
    const testByClass = byClass('testByClass');
    const artifact = {
      format: 'topoflow.features/1',
      seed: ctx.with.seed,
      padding: ctx.with.padding,
      scaler: { min: Array.from(stats.min), max: Array.from(stats.max), constantMapsTo: 0.5 },
      // Only with dataset scaling (absent: per event), so the default stage's scaler.json is as before.
      ...(particleScale ? { particleScaling: 'dataset', particleScaler: { mean: Array.from(particleScale.mean), std: Array.from(particleScale.std), constantMapsTo: 0 } } : {}),
      countsBefore: stats.counts,
      countsAfter: trainByClass.map((n, c) => n + testByClass[c]!),
      trainByClass,
      testByClass,
      trainRows: train,
      testRows: test,
    };
    await ctx.output.write('scaler.json', `${JSON.stringify(artifact, null, 1)}\n`);
    return { counts: { read: stats.rows, train, test }, summary: artifact as unknown as JsonValue };
  },
};

/** The merged particle statistics of the parts, with `particleScaling: dataset`; a dataset without a particle is an error. */
function particleStatsOf(stageId: string, w: With, results: Prepared[]): Pick<Prepared, 'particles'> {
  if (w.particleScaling !== 'dataset') return {};
  const stats = new ParticleStats();
  for (const r of results) if (r.particles) stats.merge(ParticleStats.fromJSON(r.particles));
  if (stats.rows === 0) throw new BadInputError(`stage "${stageId}": with.particleScaling "dataset": the stage-1 parts hold no particle row to fit the scale on`);
  return { particles: stats.toJSON() };
}

/** Parquet parts of the upstream ingest stage(s), in manifest order. */
function ingestParts(inputs: Record<string, StageManifest>): Shard[] {
  return Object.values(inputs).flatMap((m) => m.outputs.filter((o) => o.name.endsWith('.parquet')).map((o) => ({ key: o.key, name: o.name, bytes: o.bytes, sha256: o.sha256 })));
}

/** Reads a part checked against its manifest record and runs a pass on it; a bad part fails the stage naming it. */
async function readingPart<T>(ctx: Omit<StageContext<With>, 'output'>, shard: Shard, pass: (bytes: Uint8Array) => Promise<T>): Promise<T> {
  const bytes = await getVerified(ctx.storage, shard);
  try {
    return await pass(bytes);
  } catch (err) {
    if (err instanceof BadPartError) throw new BadInputError(`stage "${ctx.stageId}": ${shard.name} ${err.message}`);
    throw err;
  }
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
