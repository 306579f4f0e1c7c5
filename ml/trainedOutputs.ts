/** Reading a train stage's saved files (see ml/classifier.ts) by name. */
import type { Storage } from '../storage/index.js';
import { BadInputError } from '../common/errors.js';
import { CLASSES } from '../hep/layout.js';

/** A trained classifier's saved files (predictions.bin, labels.bin, history.json, model.json, weights.bin), by name. */
export interface TrainedModel {
  stageId: string;
  outputs: ReadonlyArray<{ name: string; key: string; bytes?: number; sha256?: string }>;
}

/** The output's manifest entry; a missing one is bad input naming the stage. */
export function outputEntry<T extends TrainedModel['outputs'][number]>(model: { stageId: string; outputs: readonly T[] }, name: string): T {
  const entry = model.outputs.find((o) => o.name === name);
  if (!entry) throw new BadInputError(`train stage "${model.stageId}" has no ${name} among its outputs (trained with an older topoflow?)`);
  return entry;
}

export async function readOutput(storage: Storage, model: TrainedModel, name: string): Promise<Uint8Array> {
  return storage.get(outputEntry(model, name).key);
}

/** The softmax outputs on the test set (n × 3, test-file order) and the true labels. */
export async function testPredictions(storage: Storage, model: TrainedModel): Promise<{ predictions: Float32Array; labels: Int8Array }> {
  const predictions = new Float32Array(new Uint8Array(await readOutput(storage, model, 'predictions.bin')).buffer);
  const labels = new Int8Array(new Uint8Array(await readOutput(storage, model, 'labels.bin')).buffer);
  if (predictions.length !== labels.length * CLASSES) throw new BadInputError(`train stage "${model.stageId}": ${predictions.length} predictions for ${labels.length} labels (expected ${CLASSES} per event)`);
  return { predictions, labels };
}
