/**
 * Where a `score` stage finds what it applies: the trained model (a `train`
 * stage among its needs, or an earlier run's train manifest named in
 * `with.trained`), and, through the manifests' recorded inputs, the features
 * stage that model was trained on (its scaler.json: the fitted HLF scaler and
 * the padding) and that stage's ingest (the caps and stage-1 mode).
 *
 * Manifests record their inputs by content hash. A hash is matched first
 * against the score stage's own needs, then against the committed manifests
 * of that kind in the store (`cache/<kind>/<key>/manifest.json`), so `needs`
 * only has to name the model and the new data; a features stage deleted from
 * the store since can be put among the needs instead.
 */
import { z } from 'zod';
import type { StageContext } from '../kind.js';
import { StageManifest } from '../../protocol/manifest.js';
import { BadInputError } from '../../common/errors.js';
import type { Storage } from '../../storage/index.js';
import { getVerified } from '../../storage/verified.js';
import { PARTICLE_FEATURES } from '../../hep/layout.js';

/** The object keys of committed manifests of one kind. */
const manifestKeyPattern = (kind: string) => new RegExp(`^cache/${kind}/[^/]+/manifest\\.json$`);

export interface TrainedSource {
  /** A stage id among the needs, or the manifest's URI. */
  name: string;
  manifest: StageManifest;
}

/** The model to apply: `with.trained` (a stage id among the needs, or a train manifest's key or URI), else the one train stage among the needs. */
export async function trainedModelOf(ctx: Pick<StageContext<{ trained?: string | undefined }>, 'stageId' | 'inputs' | 'storage' | 'with'>): Promise<TrainedSource> {
  const named = ctx.with.trained;
  if (named !== undefined && !(named in ctx.inputs)) return { name: ctx.storage.uri(keyOf(ctx.storage, named)), manifest: await storedTrainManifest(ctx.storage, named, ctx.stageId) };
  const candidates = Object.entries(ctx.inputs).filter(([id, m]) => (named !== undefined ? id === named : m.kind === 'train'));
  if (candidates.length !== 1) {
    throw new BadInputError(`stage "${ctx.stageId}": it needs exactly one "train" stage among its needs (found ${candidates.length}: ${candidates.map(([id]) => id).join(', ') || 'none'}), or with.trained naming one or a stored train manifest`);
  }
  const [id, manifest] = candidates[0]!;
  if (manifest.kind !== 'train') throw new BadInputError(`stage "${ctx.stageId}": with.trained "${id}" is a ${manifest.kind} stage, not a train stage`);
  return { name: `train stage "${id}"`, manifest };
}

async function storedTrainManifest(storage: Storage, named: string, stageId: string): Promise<StageManifest> {
  const key = keyOf(storage, named);
  let text: string;
  try {
    text = Buffer.from(await storage.get(key)).toString('utf8');
  } catch (err) {
    throw new BadInputError(`stage "${stageId}": with.trained "${named}" is neither a stage among its needs nor a readable manifest in the store (${(err as Error).message})`);
  }
  const parsed = StageManifest.safeParse(JSON.parse(text));
  if (!parsed.success) throw new BadInputError(`stage "${stageId}": with.trained "${named}" is not a stage manifest (${parsed.error.issues[0]?.message ?? 'invalid'})`);
  if (parsed.data.kind !== 'train') throw new BadInputError(`stage "${stageId}": with.trained "${named}" is the manifest of a ${parsed.data.kind} stage, not of a train stage`);
  return parsed.data;
}

/** A storage key from a key or this store's URI of it. */
function keyOf(storage: Storage, named: string): string {
  const root = storage.uri('x').slice(0, -1);
  return named.startsWith(root) ? named.slice(root.length) : named.replace(/^\/+/, '');
}

/**
 * The manifest of kind `kind` among `hashes` (another manifest's recorded
 * inputs): from the needs if one matches, else from the store; undefined if neither has it.
 */
export async function upstreamManifest(ctx: Pick<StageContext<unknown>, 'inputs' | 'storage'>, kind: string, hashes: Record<string, string>): Promise<StageManifest | undefined> {
  const wanted = new Set(Object.values(hashes));
  const fromNeeds = Object.values(ctx.inputs).find((m) => m.kind === kind && wanted.has(m.contentHash));
  if (fromNeeds) return fromNeeds;
  const pattern = manifestKeyPattern(kind);
  for (const object of await ctx.storage.list(`cache/${kind}/`)) {
    if (!pattern.test(object.key)) continue;
    const parsed = StageManifest.safeParse(JSON.parse(Buffer.from(await ctx.storage.get(object.key)).toString('utf8')));
    if (parsed.success && parsed.data.kind === kind && wanted.has(parsed.data.contentHash)) return parsed.data;
  }
  return undefined;
}

/** stage 2's scaler.json (the fields scoring reads). */
export const ScalerFile = z.object({
  format: z.literal('topoflow.features/1'),
  padding: z.enum(['masked', 'faithful']),
  scaler: z.object({ min: z.array(z.number()), max: z.array(z.number()) }),
  /** With `particleScaling: dataset` only: the particle columns' fitted mean and std. */
  particleScaler: z.object({ mean: z.array(z.number()).length(PARTICLE_FEATURES), std: z.array(z.number()).length(PARTICLE_FEATURES) }).optional(),
  countsBefore: z.tuple([z.number(), z.number(), z.number()]),
});
export type ScalerFile = z.infer<typeof ScalerFile>;

export async function scalerOf(storage: Storage, features: StageManifest, who: string): Promise<ScalerFile> {
  const entry = features.outputs.find((o) => o.name === 'scaler.json');
  if (!entry) throw new BadInputError(`${who}: the features stage "${features.stageId}" has no scaler.json among its outputs`);
  const parsed = ScalerFile.safeParse(JSON.parse(Buffer.from(await getVerified(storage, entry)).toString('utf8')));
  if (!parsed.success) throw new BadInputError(`${storage.uri(entry.key)}: not a stage-2 scaler (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`);
  return parsed.data;
}
