/**
 * A small stage-2 dataset on local storage for training tests and benchmarks:
 * generated events (one file per sample) → stage 1 → the `features` kind,
 * called directly (no Temporal). Returns the features "manifest" a train
 * stage would receive as its input.
 */
import { generateFile, SAMPLES } from '../../hep/generator/index.js';
import { openRootFile } from '../../root/read/index.js';
import { ingestRootFile } from '../../hep/ingest/rootFile.js';
import { DEFAULT_INGEST, type IngestConfig } from '../../hep/ingest/index.js';
import { collectBytes } from '../../parquet/index.js';
import type { Storage } from '../../storage/index.js';
import { features } from '../../stages/builtin/features.js';
import { RecordingOutputWriter } from '../../runtime/outputWriter.js';
import type { StageContext } from '../../stages/kind.js';
import type { OutputEntry, StageManifest } from '../../protocol/manifest.js';

export interface FeaturesDataOptions {
  eventsPerSample: number;
  seed?: number;
  /** Particle caps (default: the demo's 150/50/50 → 251 rows). */
  caps?: Pick<IngestConfig, 'maxTracks' | 'maxPhotons' | 'maxNeutrals'>;
  padding?: 'masked' | 'faithful';
  /** Stage-1 files per sample (each becomes one train and one test part). */
  filesPerSample?: number;
}

export const DEMO_CAPS = { maxTracks: 150, maxPhotons: 50, maxNeutrals: 50 };

export async function makeFeaturesDataset(storage: Storage, o: FeaturesDataOptions): Promise<StageManifest> {
  const config: IngestConfig = { ...DEFAULT_INGEST, ...(o.caps ?? DEMO_CAPS) };
  const files = o.filesPerSample ?? 1;
  const stage1: OutputEntry[] = [];
  for (const [label, sample] of SAMPLES.entries()) {
    for (let f = 0; f < files; f++) {
      const name = `${sample}-${f}.root`;
      const bytes = generateFile({ sample, seed: o.seed ?? 7, fileIndex: f, events: Math.ceil(o.eventsPerSample / files) });
      const r = await ingestRootFile(await openRootFile({ bytes, name }), { config, label, sourceFile: name });
      const key = `stage1/${sample}-${f}.parquet`;
      const put = await storage.put(key, await collectBytes(r.parquet));
      stage1.push({ name: `${sample}-${f}.parquet`, key, uri: storage.uri(key), bytes: put.bytes, sha256: put.sha256, rows: r.selected });
    }
  }
  const w = features.withSchema.parse({ padding: o.padding ?? 'masked', seed: o.seed ?? 42 });
  const inputs = { ingest: { outputs: stage1 } as unknown as StageManifest };
  const ctx = (writer: RecordingOutputWriter): StageContext<typeof w> => ({
    stageId: 'features', with: w, inputs, storage, output: writer,
    progress: () => {}, signal: new AbortController().signal, log: () => {}, checkpointFolder: 'checkpoints/features',
  });
  const scratch = new RecordingOutputWriter(storage, 'stage2/scratch');
  const shards = await features.plan(ctx(scratch));
  const partial = [];
  for (const [i, s] of shards.entries()) partial.push(await features.prepass!.runShard(ctx(scratch), s, i));
  const prepared = await features.prepass!.merge(ctx(scratch), partial);
  const outputs: OutputEntry[] = [];
  for (const [i, s] of shards.entries()) {
    const writer = new RecordingOutputWriter(storage, `stage2/shard-${i}`);
    await features.runShard({ ...ctx(writer), prepared }, s, i);
    outputs.push(...writer.outputs());
  }
  return { kind: 'features', outputs } as unknown as StageManifest;
}
