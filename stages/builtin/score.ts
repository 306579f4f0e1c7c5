/**
 * `score`: applies a trained classifier to events that were not used to train
 * it (the stage-1 outputs among its needs), one shard per stage-1 part, with
 * the training run's scaler and padding (never re-fitted on the new data).
 * Writes scores-NNNNN.parquet (per event: provenance, label, the three class
 * scores, `selected` at the working point) and selection.json: the working
 * point's cut (fixed on the training run's test set), what the test set
 * predicts for it and what it selected here.
 */
import { z } from 'zod';
import type { FanoutStageKind, StageContext, StageResult } from '../kind.js';
import type { JsonValue, StageManifest } from '../../protocol/manifest.js';
import { BadInputError } from '../../common/errors.js';
import { CLASS_NAMES, CLASSES, particleRows } from '../../hep/layout.js';
import { BackendChoice } from '../../ml/backendChoice.js';
import { masksPadding, ModelSpec, usesInput } from '../../ml/modelSpec.js';
import { checkLayout, type InputLayout } from '../../ml/inputLayout.js';
import { outputEntry, testPredictions } from '../../ml/trainedOutputs.js';
import { workingPoints } from '../../ml/workingPoint.js';
import { selectionReport, type ShardTally } from '../../ml/selection.js';
import type { ScoringSetup } from '../../ml/scoring.js';
import { getVerified } from '../../storage/verified.js';
import { scalerOf, trainedModelOf, upstreamManifest } from './scoreInputs.js';

const ClassName = z.enum(CLASS_NAMES);
/** The part of model.json read here (ml/modelFile.ts has the whole schema, but loads TensorFlow.js). */
const ModelJson = z.object({ spec: ModelSpec, backend: z.string().optional() });

const With = z.strictObject({
  /** A train stage among the needs (default: the only one), or the key or URI of an earlier run's train manifest. */
  trained: z.string().optional(),
  /** The cut: keep events whose `signal` score keeps this fraction of the signal in the training run's test set. */
  workingPoint: z.strictObject({ signal: ClassName, efficiency: z.number().gt(0).max(1) }).default({ signal: 'ttbar', efficiency: 0.99 }),
  /** The padding the data is declared to need (default: the model's); a different one is a layout mismatch. */
  padding: z.enum(['masked', 'faithful']).optional(),
  batchSize: z.number().int().min(1).max(65_536).default(256),
  backend: BackendChoice.default('auto'),
  window: z.number().int().positive().default(2),
});
export type ScoreWith = z.infer<typeof With>;

interface Shard {
  name: string;
  key: string;
  bytes: number;
  sha256: string;
  setup: ScoringSetup;
}

export const score: FanoutStageKind<ScoreWith, Shard> = {
  type: 'fanout',
  name: 'score',
  version: '1',
  description: 'Applies a trained classifier to new stage-1 events (training scaler and padding); per-event scores and a selection at a working point',
  withSchema: With,
  window: (w) => w.window,

  async plan(ctx) {
    const { setup, data } = await resolve(ctx);
    return data.flatMap((m) => m.outputs.filter((o) => o.name.endsWith('.parquet')).map((o) => ({ name: `${m.stageId}/${o.name}`, key: o.key, bytes: o.bytes, sha256: o.sha256, setup })));
  },

  async runShard(ctx, shard, index): Promise<StageResult> {
    const { scorePart, ScoringSetup } = await import('../../ml/scoring.js'); // TensorFlow.js loads only here
    const part = await scorePart(ctx.storage, ScoringSetup.parse(shard.setup), shard, ctx);
    await ctx.output.write(`scores-${String(index).padStart(5, '0')}.parquet`, part.parquet, { rows: part.events });
    const tally: ShardTally = { part: shard.name, byClass: part.byClass, selectedByClass: part.selectedByClass, seconds: part.seconds, backend: part.backend };
    return { counts: { events: part.events, selected: part.selected }, summary: tally as unknown as JsonValue };
  },

  async combine(ctx, shards) {
    const { setup, expected } = await resolve(ctx);
    const report = selectionReport(setup.source, expected, shards.map((s) => ({ worker: s.worker, ...(s.summary as unknown as ShardTally) })));
    await ctx.output.write('selection.json', `${JSON.stringify(report.selection, null, 1)}\n`);
    await ctx.output.write('timing.json', `${JSON.stringify(report.timing, null, 1)}\n`, { volatile: true });
    return { counts: report.counts, summary: { ...report.selection, eventsPerSecondPerWorker: report.timing.eventsPerSecondPerWorker } as unknown as JsonValue, report: report.text };
  },
};

/** The model, its training run's scaler, padding and layout, the cut, and the data to score; layout mismatches fail here. */
async function resolve(ctx: Omit<StageContext<ScoreWith>, 'output'>) {
  const who = `stage "${ctx.stageId}"`;
  const trained = await trainedModelOf(ctx);
  const model = { stageId: trained.manifest.stageId, outputs: trained.manifest.outputs };
  const features = await upstreamManifest(ctx, 'features', trained.manifest.inputs);
  if (!features) throw new BadInputError(`${who}: the features stage that ${trained.name} was trained on (content hash ${Object.values(trained.manifest.inputs).join(' or ')}) is neither among its needs nor in the store; add it to needs`);
  const trainingIngest = await upstreamManifest(ctx, 'ingest', features.inputs);
  const scaler = await scalerOf(ctx.storage, features, who);
  const file = ModelJson.parse(JSON.parse(Buffer.from(await getVerified(ctx.storage, outputEntry(model, 'model.json'))).toString('utf8')));
  if (file.backend === 'torch') throw new BadInputError(`${who}: ${trained.name} was trained on the torch back end, and score runs TensorFlow.js models only (torch's GRU and LSTM carry two bias vectors, a formulation the tfjs layers do not have); evaluate reads it, and its model.pt loads in PyTorch`);
  const readsParticles = usesInput(file.spec, 'particles');
  const modelLayout: InputLayout = { ...ingestLayout(trainingIngest), padding: scaler.padding };
  modelLayout.particles ??= await featuresParticles(ctx, features);

  const data = Object.values(ctx.inputs).filter((m) => m.kind === 'ingest');
  if (!data.length) throw new BadInputError(`${who}: no stage-1 (ingest) stage among its needs: nothing to score`);
  for (const m of data) checkLayout({ name: trained.name, layout: modelLayout, readsParticles }, { name: `ingest stage "${m.stageId}"`, layout: { ...ingestLayout(m), padding: ctx.with.padding ?? scaler.padding } });
  if (trainingIngest && data.some((m) => m.contentHash === trainingIngest.contentHash)) ctx.log(`note: ${who} scores the events ${trained.name} was trained on (its own stage-1 output); its train split is not fresh data`);

  const signal = CLASS_NAMES.indexOf(ctx.with.workingPoint.signal);
  const { predictions, labels } = await testPredictions(ctx.storage, model);
  const expected = workingPoints(predictions, labels, CLASSES, signal, [ctx.with.workingPoint.efficiency])[0]!;
  const trainWith = trained.manifest.with as { trim?: boolean };
  const setup: ScoringSetup = {
    source: trained.name,
    modelJson: pick(outputEntry(model, 'model.json')),
    weights: pick(outputEntry(model, 'weights.bin')),
    scaler: { min: scaler.scaler.min, max: scaler.scaler.max, counts: scaler.countsBefore },
    padding: scaler.padding,
    particleScaler: scaler.particleScaler ?? null,
    particles: readsParticles ? modelLayout.particles : null,
    needs: { hlf: usesInput(file.spec, 'hlf'), particles: readsParticles, trim: trainWith.trim !== false && masksPadding(file.spec) },
    signal,
    threshold: expected.threshold,
    batchSize: ctx.with.batchSize,
    backend: ctx.with.backend,
  };
  return { setup, data, expected };
}

const pick = (o: { key: string; bytes: number; sha256: string }) => ({ key: o.key, bytes: o.bytes, sha256: o.sha256 });

/** Caps and stage-1 mode from an ingest manifest's resolved `with` (unknown when the manifest is not at hand). */
function ingestLayout(m: StageManifest | undefined): InputLayout {
  const w = (m?.with ?? {}) as { maxTracks?: number; maxPhotons?: number; maxNeutrals?: number; mode?: string };
  const caps = w.maxTracks !== undefined && w.maxPhotons !== undefined && w.maxNeutrals !== undefined ? { maxTracks: w.maxTracks, maxPhotons: w.maxPhotons, maxNeutrals: w.maxNeutrals } : null;
  return { particles: caps ? particleRows(caps) : null, caps, padding: null, stage1Mode: w.mode ?? null };
}

/** The particle rows of the training data, from a stage-2 part's footer (when its ingest manifest is gone). */
async function featuresParticles(ctx: Omit<StageContext<ScoreWith>, 'output'>, features: StageManifest): Promise<number | null> {
  const part = features.outputs.find((o) => o.name.endsWith('.parquet'));
  if (!part) return null;
  const { FeaturesFile } = await import('../../hep/features/index.js');
  const file = await FeaturesFile.open({ size: part.bytes, read: (offset, length) => ctx.storage.getRange(part.key, offset, length) });
  try {
    return file.particles || null;
  } finally {
    file.free();
  }
}
