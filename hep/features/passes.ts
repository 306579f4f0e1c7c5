/**
 * Stage 2's two passes over one stage-1 part (seed-pipeline.md §3), as plain
 * functions over the part's bytes: the statistics pass (HLF min/max and class
 * counts) and the transform pass (balance, split, scale, order and standardise,
 * then the train and test files). Each row's fate is a function of
 * (seed, file, entry), so parts are processed independently, in any order.
 */
import { readIngestRowGroups } from '../ingest/parquetReader.js';
import { CLASSES, HLF_FEATURES, PARTICLE_FEATURES } from '../layout.js';
import { FeaturesParquetWriter, type FeaturesRow } from './parquet.js';
import { MinMaxStats, NonFiniteFeatureError, scaleHlf } from './scaler.js';
import { transformParticles, type ParticleMode, type ParticleScale } from './particles.js';
import { ParticleStats } from './particleScaler.js';
import { compareShuffle, isTrain, keepForBalance, rowUniform } from './sampling.js';

/** What is wrong with a part's content; the message starts with where (`row N: …` or `(row N): …`). */
export class BadPartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadPartError';
  }
}

export interface PartStatistics {
  hlf: MinMaxStats;
  /** Particle column statistics, when asked for (dataset-wide particle scaling); the particle lists are read only then. */
  particles: ParticleStats | null;
}

/** The statistics pass: HLF min/max and class counts of one part, and its particle statistics if `particles`. */
export async function partStatistics(part: Uint8Array, opts: { particles: boolean } = { particles: false }): Promise<PartStatistics> {
  const hlf = new MinMaxStats();
  const particles = opts.particles ? new ParticleStats() : null;
  let row = 0;
  try {
    for await (const g of readIngestRowGroups(part, { columns: particles ? ['hfeatures', 'label', 'lfeatures'] : ['hfeatures', 'label'] })) {
      hlf.observe(g.hfeatures!, g.rows, g.label!);
      particles?.observe(g.lfeatures!, g.rows);
      row += g.rows;
    }
  } catch (err) {
    throw badPart(err, row);
  }
  return { hlf, particles };
}

export interface TransformOptions {
  seed: number;
  padding: ParticleMode;
  /** Rows per output row group. */
  rowGroupSize: number;
  /** The merged statistics of every part (the scaler and the class counts to balance). */
  stats: MinMaxStats;
  /** Dataset-wide particle standardisation; none: each event's own (the seed's). */
  particleScale?: ParticleScale;
  /** Called after each input row group with the rows read so far. */
  onRows?(read: number): void;
}

export interface TransformedPart {
  /** Parquet bytes of the kept training rows, sorted by their seeded shuffle key. */
  train: AsyncIterable<Uint8Array>;
  /** Parquet bytes of the test rows, in input order. */
  test: AsyncIterable<Uint8Array>;
  read: number;
  trainRows: number;
  testRows: number;
  trainByClass: number[];
  testByClass: number[];
}

/** The transform pass. Memory: one input row group, and this part's kept training rows. */
export async function transformPart(part: Uint8Array, o: TransformOptions): Promise<TransformedPart> {
  const counts = o.stats.counts;
  const train: Array<FeaturesRow & { u: number }> = [];
  let test: FeaturesParquetWriter | undefined;
  let particles = 0;
  let row = 0;
  let read = 0;
  const testByClass = new Array<number>(CLASSES).fill(0);
  try {
    for await (const g of readIngestRowGroups(part)) {
      particles ||= g.particles;
      test ??= new FeaturesParquetWriter({ rowGroupSize: o.rowGroupSize, particles });
      const width = particles * PARTICLE_FEATURES;
      for (let i = 0; i < g.rows; i++, row++) {
        const sourceFile = g.sourceFile![i]!;
        const entry = g.entry![i]!;
        const label = g.label![i]!;
        read++;
        if (!keepForBalance(label, rowUniform(o.seed, 'balance', sourceFile, entry), counts)) continue;
        const hlf = scaleHlf(o.stats, g.hfeatures!.subarray(i * HLF_FEATURES, (i + 1) * HLF_FEATURES), new Float32Array(HLF_FEATURES));
        const gru = new Float32Array(width);
        transformParticles(g.lfeatures!.subarray(i * width, (i + 1) * width), null, o.padding, gru, o.particleScale);
        const out = { hlf, gru, label, sourceFile, entry, shuffleKey: rowUniform(o.seed, 'shuffle', sourceFile, entry) };
        if (isTrain(rowUniform(o.seed, 'split', sourceFile, entry))) train.push({ ...out, u: out.shuffleKey });
        else {
          test.add(out);
          testByClass[label]!++;
        }
      }
      o.onRows?.(read);
    }
  } catch (err) {
    throw badPart(err, row);
  }
  particles ||= 1;
  const trainWriter = new FeaturesParquetWriter({ rowGroupSize: o.rowGroupSize, particles });
  train.sort(compareShuffle);
  for (const r of train) trainWriter.add(r);
  test ??= new FeaturesParquetWriter({ rowGroupSize: o.rowGroupSize, particles });
  const trainByClass = testByClass.map((_, c) => train.filter((r) => r.label === c).length);
  return { train: trainWriter.finish(), test: test.finish(), read, trainRows: train.length, testRows: test.rows, trainByClass, testByClass };
}

/** Bad values and undecodable parts become BadPartErrors naming the row; anything else passes through. */
function badPart(err: unknown, row: number): Error {
  if (err instanceof NonFiniteFeatureError) return new BadPartError(`row ${row + (err.row ?? 0)}: ${err.message}`);
  // Shape and decoding problems of the part itself (parquet-wasm reports them as plain Errors).
  if (err instanceof RangeError || (err instanceof Error && /column|parquet|values, expected|not found|invalid|corrupt|magic/i.test(err.message))) {
    return new BadPartError(`(row ${row}): ${err.message}`);
  }
  return err instanceof Error ? err : new Error(String(err));
}
