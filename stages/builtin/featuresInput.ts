/** The train and test parts of the features stage a model stage reads (train, tune). */
import type { StageManifest } from '../../protocol/manifest.js';
import { BadInputError } from '../../common/errors.js';
import type { PartRef } from '../../ml/data.js';

export interface FeaturesData {
  /** The features stage's content hash: what the parts hold. */
  contentHash: string;
  train: PartRef[];
  test: PartRef[];
}

/** From the input stage named `data`, or else the one `features` stage among the inputs. */
export function featuresData(stageId: string, inputs: Record<string, StageManifest>, data?: string): FeaturesData {
  const candidates = Object.entries(inputs).filter(([id, m]) => (data ? id === data : m.kind === 'features'));
  if (candidates.length !== 1) {
    const what = data ? `input "${data}" is not among its needs (${Object.keys(inputs).join(', ') || 'none'})` : `it needs exactly one "features" stage among its needs, found ${candidates.length}; name one with with.data`;
    throw new BadInputError(`stage "${stageId}": ${what}`);
  }
  const [id, manifest] = candidates[0]!;
  const train = partsOf(manifest, 'train-');
  const test = partsOf(manifest, 'test-');
  if (!train.length || !test.length) throw new BadInputError(`stage "${stageId}": input "${id}" has no train-*.parquet or test-*.parquet outputs (is it a features stage?)`);
  return { contentHash: manifest.contentHash, train, test };
}

function partsOf(m: StageManifest, prefix: string): PartRef[] {
  return m.outputs
    .filter((o) => o.name.split('/').pop()!.startsWith(prefix) && o.name.endsWith('.parquet'))
    .map((o) => ({ key: o.key, rows: o.rows ?? 0, bytes: o.bytes, sha256: o.sha256 }))
    .sort((a, b) => (a.key < b.key ? -1 : 1));
}
