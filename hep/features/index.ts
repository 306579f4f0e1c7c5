/** Stage-2 feature preparation as pure functions: HLF min-max scaling, the particle transform, sampling decisions, label encoding. */
import { checkLabel } from './scaler.js';

export { MinMaxStats, NonFiniteFeatureError, checkLabel, scaleHlf, type MinMaxStatsJSON } from './scaler.js';
export { countRealRows, isPaddingRow, transformParticles, type ParticleMode, type ParticleScale } from './particles.js';
export { ParticleStats, type ParticleStatsJSON } from './particleScaler.js';
export { FEATURES_SCHEMA, FeaturesFile, FeaturesParquetWriter, mergeByShuffleKey, readFeaturesParquet, readFeaturesRowGroups, type FeaturesColumns, type FeaturesRow, type ModelInputs } from './parquet.js';
export { BadPartError, partStatistics, transformPart, type PartStatistics, type TransformOptions, type TransformedPart } from './passes.js';
export { TRAIN_FRACTION, compareShuffle, isTrain, keepForBalance, rowUniform, type SamplingPurpose, type ShuffleKey } from './sampling.js';

/** One-hot target of a label (Spark's OneHotEncoder with dropLast=False): [1,0,0] QCD, [0,1,0] tt̄, [0,0,1] W+jets. */
export function encodeLabel(label: number, out: Float32Array = new Float32Array(3)): Float32Array {
  const c = checkLabel(label);
  out.fill(0, 0, 3);
  out[c] = 1;
  return out;
}
