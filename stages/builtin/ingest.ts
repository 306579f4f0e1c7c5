/**
 * `ingest`: stage 1 of the topology classifier. Reads Delphes ROOT files,
 * selects events with one isolated lepton, builds the particle matrix and the
 * 14 high-level features (hep/stage1), writes Parquet. Fans out one shard per
 * file (or per entry range with `entriesPerShard`).
 *
 * Incremental: `inputs` may be globs or prefixes, resolved when the run is
 * planned (resolveSources: each file with its size and ETag or mtime, part of
 * the stage's key), and each shard's result is kept by the engine's
 * shard-level content cache under the file's identity and range, so a run
 * that finds one new file among 1,000 reads that one.
 */
import { z } from 'zod';
import type { FanoutStageKind, ResolveContext, StageContext, StageResult } from '../kind.js';
import type { JsonValue, SourceRecord } from '../../protocol/manifest.js';
import { BadInputError } from '../../common/errors.js';
import { DEFAULT_INGEST } from '../../hep/ingest/index.js';
import { ingestRootFile, REJECT_REASONS, type IngestFileResult } from '../../hep/ingest/rootFile.js';
import { openRootFile, RootReadError } from '../../root/read/index.js';
import { InputFileError, inputLabel, loadInput, maxInputBytes, type InputFile } from './ingestInputs.js';
import { resolveInput } from './inputSources.js';

const Label = z.number().int().min(0).max(2);

const With = z.strictObject({
  /**
   * Extra ROOT files: storage keys (relative to the storage root), absolute local
   * paths, file:// or s3:// URIs, each possibly a glob (`*`, `?`, `**`) or a prefix
   * ending in '/' (every .root file below it), listed when the run is planned; the
   * label is inferred from each file's name (qcd / ttbar / wjets|wlnu) unless given.
   * Files from upstream stages' outputs are always read.
   */
  inputs: z.array(z.union([z.string().min(1), z.strictObject({ uri: z.string().min(1), label: Label })])).default([]),
  mode: z.enum(['faithful', 'fixed']).default('fixed'),
  ptCut: z.number().positive().default(DEFAULT_INGEST.ptCut),
  isoCut: z.number().positive().default(DEFAULT_INGEST.isoCut),
  maxTracks: z.number().int().nonnegative().default(DEFAULT_INGEST.maxTracks),
  maxPhotons: z.number().int().nonnegative().default(DEFAULT_INGEST.maxPhotons),
  maxNeutrals: z.number().int().nonnegative().default(DEFAULT_INGEST.maxNeutrals),
  /** `skip`: a bad file is listed in the manifest and the other files complete. */
  onBadFile: z.enum(['fail', 'skip']).default('fail'),
  /** Split files into shards of this many entries (large files, more parallelism). */
  entriesPerShard: z.number().int().positive().optional(),
  rowGroupSize: z.number().int().positive().default(1000),
  /** Shards in flight. */
  window: z.number().int().positive().default(4),
  /** Largest input file read, in bytes (default: TOPOFLOW_MAX_INPUT_BYTES, else 4 GiB); files are read whole. */
  maxInputBytes: z.number().int().positive().optional(),
  /** Accept an output without a single selected event, and patterns that match no file (otherwise errors naming them). */
  allowEmpty: z.boolean().optional(),
});
type With = z.infer<typeof With>;

interface Shard {
  file: InputFile;
  first: number;
  /** null: to the end of the file */
  count: number | null;
}

/** What one shard reports: its file's counts, or why the file was bad. */
type ShardSummary = { file: string; bad: string } | { file: string; label: number; first: number; read: number; selected: number; rejected: Record<string, number> };

export const ingest: FanoutStageKind<With, Shard> = {
  type: 'fanout',
  name: 'ingest',
  // 2: inputs by pattern with identities in the key; parts named by their shard's content hash.
  version: '2',
  description: 'Stage 1: Delphes ROOT → Parquet with event selection, particle lists and high-level features',
  withSchema: With,
  window: (w) => w.window,

  resolveSources: (ctx) => sourcesOf(ctx),

  async plan(ctx) {
    const files = (ctx.sources ?? (await sourcesOf(ctx))).map(inputFileOf);
    if (!files.length) {
      if (ctx.with.allowEmpty) return [];
      throw new BadInputError(`stage "${ctx.stageId}": no ROOT files to ingest (no upstream .root outputs and no "inputs")`);
    }
    if (!ctx.with.entriesPerShard) return files.map((file) => ({ file, first: 0, count: null }));
    const shards: Shard[] = [];
    for (const file of files) {
      const entries = await entriesOf(ctx, file);
      if (entries === null) {
        shards.push({ file, first: 0, count: null }); // its shard reports it as bad
        continue;
      }
      for (let first = 0; first < Math.max(entries, 1); first += ctx.with.entriesPerShard) {
        shards.push({ file, first, count: Math.min(ctx.with.entriesPerShard, entries - first) });
      }
    }
    return shards;
  },

  async runShard(ctx, shard, index): Promise<StageResult> {
    const w = ctx.with;
    const config = { mode: w.mode, ptCut: w.ptCut, isoCut: w.isoCut, maxTracks: w.maxTracks, maxPhotons: w.maxPhotons, maxNeutrals: w.maxNeutrals };
    let result: IngestFileResult;
    try {
      const root = await openRootFile({ bytes: await loadInput(ctx.storage, shard.file, limitsOf(ctx)), name: shard.file.uri });
      result = await ingestRootFile(root, {
        config,
        label: shard.file.label,
        sourceFile: shard.file.uri,
        range: { first: shard.first, ...(shard.count !== null ? { count: shard.count } : {}) },
        rowGroupSize: w.rowGroupSize,
        onProgress: (read) => ctx.progress({ done: read, unit: 'events', message: `shard ${index}` }),
        signal: ctx.signal,
      });
    } catch (err) {
      if (!(err instanceof RootReadError || err instanceof InputFileError)) throw err;
      if (w.onBadFile === 'fail') throw new BadInputError(`stage "${ctx.stageId}": ${err.message}`);
      ctx.log(`skipping bad file ${shard.file.uri}: ${err.message}`);
      return { counts: { badFiles: 1 }, summary: { file: shard.file.uri, bad: err.message } satisfies ShardSummary };
    }
    const { read, selected, rejected } = result;
    ctx.progress({ done: read, unit: 'events', message: `shard ${index} done` });
    // Named by content, not index: the part is reused at whatever index its file has in a later run.
    const name = ctx.shardContentHash ? `part-${ctx.shardContentHash.slice(0, 20)}` : `part-${String(index).padStart(5, '0')}`;
    await ctx.output.write(`${name}.parquet`, result.parquet, { rows: selected });
    return {
      counts: { read, selected, ...Object.fromEntries(REJECT_REASONS.map((r) => [`rejected_${r}`, rejected[r]])) },
      summary: { file: shard.file.uri, label: shard.file.label, first: shard.first, read, selected, rejected } satisfies ShardSummary,
    };
  },

  /** A shard's result depends on its file (by identity), its range and the selection params; null: no identity, never cached. */
  shardContentKey(w, shard) {
    const f = shard.file;
    if (f.sha256 === undefined && f.size === undefined) return null;
    const params = { mode: w.mode, ptCut: w.ptCut, isoCut: w.isoCut, maxTracks: w.maxTracks, maxPhotons: w.maxPhotons, maxNeutrals: w.maxNeutrals, rowGroupSize: w.rowGroupSize, onBadFile: w.onBadFile, maxInputBytes: w.maxInputBytes ?? null };
    return { file: f as unknown as JsonValue, first: shard.first, count: shard.count, params };
  },

  async combine(ctx, shards) {
    // Per input file: events read, selected, and rejected by reason (shards of one file summed).
    const perFile = new Map<string, { file: string; read: number; selected: number; rejected: Record<string, number> }>();
    const bad = new Map<string, string>();
    for (const s of shards) {
      const sum = s.summary as ShardSummary;
      if ('bad' in sum) {
        // A file split into entry ranges is one bad file, whatever its number of shards.
        if (!bad.has(sum.file)) bad.set(sum.file, sum.bad);
        continue;
      }
      const f = perFile.get(sum.file) ?? { file: sum.file, read: 0, selected: 0, rejected: Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) };
      f.read += sum.read;
      f.selected += sum.selected;
      for (const r of REJECT_REASONS) f.rejected[r] = (f.rejected[r] ?? 0) + (sum.rejected[r] ?? 0);
      perFile.set(sum.file, f);
    }
    const badFiles = [...bad].map(([file, error]) => ({ file, error }));
    const files = [...perFile.values()];
    const counts: Record<string, number> = {};
    for (const s of shards) for (const [name, n] of Object.entries(s.counts)) counts[name] = (counts[name] ?? 0) + n;
    counts.badFiles = badFiles.length;
    if (!counts.selected && !ctx.with.allowEmpty) throw new BadInputError(`stage "${ctx.stageId}": no event was selected, so the output would be empty: ${emptyReport(files, badFiles)}; set allowEmpty: true to accept an empty output`);
    return { counts, summary: { files, badFiles } as unknown as JsonValue };
  },
};

/**
 * Upstream .root outputs (labels from a generate stage's summary or the name)
 * plus `with.inputs`, patterns expanded, each with its identity; a file named
 * twice is read once.
 */
async function sourcesOf(ctx: ResolveContext<With>): Promise<SourceRecord[]> {
  const files: SourceRecord[] = [];
  for (const [id, manifest] of Object.entries(ctx.inputs)) {
    const labels = labelsFromSummary(manifest.summary);
    for (const out of manifest.outputs.filter((o) => o.name.endsWith('.root'))) {
      // Provenance is the storage key, so outputs do not depend on where the storage root is.
      files.push({ uri: out.key, key: out.key, size: out.bytes, sha256: out.sha256, label: labels.get(out.name) ?? inputLabel(out.name, `input "${id}" output ${out.name}`) });
    }
  }
  for (const input of ctx.with.inputs) {
    const uri = typeof input === 'string' ? input : input.uri;
    const where = `stage "${ctx.stageId}": with.inputs: ${uri}`;
    for (const found of await resolveInput(ctx.storage, uri, { where, ...(ctx.with.allowEmpty ? { allowEmpty: true } : {}) })) {
      files.push({ ...found, label: typeof input === 'string' ? inputLabel(found.uri, where) : input.label });
    }
  }
  const seen = new Set<string>();
  return files.filter((f) => !seen.has(f.uri) && !!seen.add(f.uri));
}

/** What a shard reads: the source, checked against its recorded identity when read. */
function inputFileOf(s: SourceRecord): InputFile {
  const { uri, key, size, etag, mtimeMs, sha256, label } = s;
  // Upstream outputs are checked by size and SHA-256 (getVerified); other files by size and ETag or mtime.
  if (sha256 !== undefined) return { uri, ...(key ? { key } : {}), bytes: size, sha256, label: label ?? 0 };
  return { uri, ...(key ? { key } : {}), label: label ?? 0, ...(size !== undefined ? { size } : {}), ...(etag ? { etag } : {}), ...(mtimeMs !== undefined ? { mtimeMs } : {}) };
}

function labelsFromSummary(summary: JsonValue | undefined): Map<string, number> {
  const out = new Map<string, number>();
  const files = (summary as { files?: Array<{ name?: unknown; label?: unknown }> } | undefined)?.files;
  if (Array.isArray(files)) for (const f of files) if (typeof f.name === 'string' && typeof f.label === 'number') out.set(f.name, f.label);
  return out;
}

/** Entries of the file's Delphes tree (kept by the file's identity: an old file is not read to plan); null for a bad file when bad files are skipped. */
async function entriesOf(ctx: Omit<StageContext<With>, 'output'>, file: InputFile): Promise<number | null> {
  const count = () => countEntries(ctx, file);
  if (!ctx.memo || (file.sha256 === undefined && file.size === undefined)) return count();
  return ctx.memo('entries', { file: file as unknown as JsonValue, maxInputBytes: ctx.with.maxInputBytes ?? null }, count);
}

async function countEntries(ctx: Omit<StageContext<With>, 'output'>, file: InputFile): Promise<number | null> {
  try {
    const root = await openRootFile({ bytes: await loadInput(ctx.storage, file, limitsOf(ctx)), name: file.uri });
    return (await root.tree('Delphes')).entries;
  } catch (err) {
    if (!(err instanceof RootReadError || err instanceof InputFileError)) throw err;
    if (ctx.with.onBadFile === 'skip') return null;
    throw new BadInputError(`stage "${ctx.stageId}": ${err.message}`);
  }
}

const limitsOf = (ctx: Omit<StageContext<With>, 'output'>) => ({ maxBytes: maxInputBytes(ctx.with.maxInputBytes), signal: ctx.signal });

/** Each input and what became of it, for the empty-output error (at most 10 named). */
function emptyReport(files: Array<{ file: string; read: number }>, badFiles: Array<{ file: string; error: string }>): string {
  const lines = [...badFiles.map((b) => `${b.file}: bad (${b.error})`), ...files.map((f) => `${f.file}: 0 of ${f.read} events selected`)];
  return `${lines.slice(0, 10).join('; ')}${lines.length > 10 ? `; and ${lines.length - 10} more` : ''}`;
}
