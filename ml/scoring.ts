/**
 * Applies a trained classifier to new stage-1 events: each event goes through
 * stage 2's per-event transform with the *training run's* fitted scalers and
 * padding (never re-fitted on the new data), then through the model; the
 * result is each event's three class scores and whether the signal class's
 * score passes the working point's cut (fixed on the training run's test set).
 */
import { z } from 'zod';
import type { Storage } from '../storage/index.js';
import { getVerified, type RecordedObject } from '../storage/verified.js';
import { BadInputError } from '../common/errors.js';
import { MinMaxStats, scaleHlf, transformParticles } from '../hep/features/index.js';
import { readIngestRowGroups } from '../hep/ingest/parquetReader.js';
import { CLASSES, HLF_FEATURES, PARTICLE_FEATURES } from '../hep/layout.js';
import { tf } from './tf.js';
import { useBackend } from './backend.js';
import { backendChoice, BackendChoice } from './backendChoice.js';
import { decodeModel } from './modelFile.js';
import type { BuiltModel } from './build.js';
import { batches, realLength, type DataNeeds, type Row } from './data.js';
import { inputsOf } from './gradients.js';
import { encodeScores } from './scoresParquet.js';
import type { JobCallbacks } from './job.js';

const Recorded = z.object({ key: z.string(), bytes: z.number().int().nonnegative(), sha256: z.string() });

/** Everything a shard needs, resolved once when the stage plans (plain JSON: it is stored in the plan). */
export const ScoringSetup = z.object({
  /** Where the model came from, for messages: a stage id or a manifest URI. */
  source: z.string(),
  modelJson: Recorded,
  weights: Recorded,
  /** The training run's scaler (stage 2's scaler.json): HLF min/max over all selected events, class counts. */
  scaler: z.object({ min: z.array(z.number()).length(HLF_FEATURES), max: z.array(z.number()).length(HLF_FEATURES), counts: z.tuple([z.number(), z.number(), z.number()]) }),
  padding: z.enum(['masked', 'faithful']),
  /** The training run's dataset-wide particle standardisation (null: per event, the default). */
  particleScaler: z.object({ mean: z.array(z.number()).length(PARTICLE_FEATURES), std: z.array(z.number()).length(PARTICLE_FEATURES) }).nullable(),
  /** Particle rows per event the model was trained on (null: the model reads no particles). */
  particles: z.number().int().positive().nullable(),
  needs: z.object({ hlf: z.boolean(), particles: z.boolean(), trim: z.boolean() }),
  signal: z.number().int().min(0).max(CLASSES - 1),
  threshold: z.number(),
  batchSize: z.number().int().positive(),
  backend: BackendChoice,
});
export type ScoringSetup = z.infer<typeof ScoringSetup>;

export interface ScoredPart {
  /** The scores Parquet file (ml/scoresParquet.ts). */
  parquet: Uint8Array;
  events: number;
  selected: number;
  /** Events and selected events per true class. */
  byClass: number[];
  selectedByClass: number[];
  /** Wall-clock seconds of transform + inference (not the model load). */
  seconds: number;
  backend: string;
}

/** Scores one stage-1 part (checked against its manifest record first). */
export async function scorePart(storage: Storage, setup: ScoringSetup, part: RecordedObject & { name: string }, io: Pick<JobCallbacks, 'progress' | 'signal'>): Promise<ScoredPart> {
  const backend = await useBackend(backendChoice(setup.backend));
  const built = await loadModel(storage, setup);
  const bytes = await getVerified(storage, part);
  const started = performance.now();
  const sourceFile: string[] = [];
  const entry: number[] = [];
  const labels: number[] = [];
  const scores: number[] = [];
  const rows = transformedRows(bytes, setup, part.name, (file, e) => {
    sourceFile.push(file);
    entry.push(e);
  });
  for await (const batch of batches(rows, setup.batchSize, setup.needs)) {
    if (io.signal.aborted) throw new Error('scoring cancelled');
    const probs = tf.tidy(() => built.model.apply(inputsOf(built, batch), { training: false }) as tf.Tensor2D);
    const values = await probs.data();
    probs.dispose();
    for (const v of values) scores.push(v);
    for (const l of batch.labels) labels.push(l);
    io.progress({ done: labels.length, unit: 'events', message: part.name });
  }
  const seconds = (performance.now() - started) / 1000;
  const selected = new Uint8Array(labels.length);
  const byClass = new Array<number>(CLASSES).fill(0);
  const selectedByClass = new Array<number>(CLASSES).fill(0);
  labels.forEach((l, i) => {
    byClass[l]!++;
    if (scores[i * CLASSES + setup.signal]! >= setup.threshold) {
      selected[i] = 1;
      selectedByClass[l]!++;
    }
  });
  const parquet = await encodeScores({ sourceFile, entry: Float64Array.from(entry), label: Int8Array.from(labels), scores: Float32Array.from(scores), selected });
  return { parquet, events: labels.length, selected: selectedByClass.reduce((a, b) => a + b, 0), byClass, selectedByClass, seconds, backend: backend.name };
}

/** One decoded model per process and weights file: shards of one stage on a worker share it. */
let cached: { sha256: string; built: BuiltModel } | undefined;

async function loadModel(storage: Storage, setup: ScoringSetup): Promise<BuiltModel> {
  if (cached?.sha256 === setup.weights.sha256 + setup.modelJson.sha256) return cached.built;
  const json = Buffer.from(await getVerified(storage, setup.modelJson)).toString('utf8');
  const built = decodeModel(json, await getVerified(storage, setup.weights));
  cached?.built.model.dispose();
  cached = { sha256: setup.weights.sha256 + setup.modelJson.sha256, built };
  return built;
}

/** Stage 2's per-event transform with the training run's scaler and padding, as training rows. */
async function* transformedRows(bytes: Uint8Array, setup: ScoringSetup, name: string, provenance: (file: string, entry: number) => void): AsyncGenerator<Row> {
  const stats = MinMaxStats.fromJSON({ version: 1, rows: setup.scaler.counts.reduce((a, b) => a + b, 0), counts: setup.scaler.counts, min: setup.scaler.min, max: setup.scaler.max });
  const needs: DataNeeds = setup.needs;
  const particleScale = setup.particleScaler ? { mean: Float64Array.from(setup.particleScaler.mean), std: Float64Array.from(setup.particleScaler.std) } : undefined;
  let row = 0;
  // An HLF-only model leaves the particle lists (most of the bytes) undecoded.
  const columns = needs.particles ? undefined : (['hfeatures', 'label', 'source_file', 'entry'] as const);
  for await (const g of readIngestRowGroups(bytes, columns ? { columns: [...columns] } : {})) {
    if (needs.particles && g.particles !== setup.particles) {
      throw new BadInputError(`${name}: ${g.particles} particle rows per event, but ${setup.source} was trained on ${setup.particles}`);
    }
    const width = g.particles * PARTICLE_FEATURES;
    for (let i = 0; i < g.rows; i++, row++) {
      let hlf: Float32Array;
      let particles: Float32Array | undefined;
      try {
        hlf = scaleHlf(stats, g.hfeatures!.subarray(i * HLF_FEATURES, (i + 1) * HLF_FEATURES), new Float32Array(HLF_FEATURES));
        if (needs.particles) {
          particles = new Float32Array(width);
          transformParticles(g.lfeatures!.subarray(i * width, (i + 1) * width), null, setup.padding, particles, particleScale);
        }
      } catch (err) {
        throw new BadInputError(`${name} row ${row}: ${(err as Error).message}`);
      }
      provenance(g.sourceFile![i]!, g.entry![i]!);
      yield { hlf, particles, length: particles ? (needs.trim ? realLength(particles) : g.particles) : 0, label: g.label![i]! };
    }
  }
}
