/**
 * `tune`: stage 3, a hyperparameter search (seed-pipeline.md §4) fanned out
 * over the train workers, one shard per trial. A trial trains a model from a
 * template (`${hp.NAME}` placeholders) and train params with k-fold
 * cross-validation on a seeded, class-stratified sample of the training rows.
 *
 *   plan: draw the sample (once per content: later sweeps over the same data reuse it);
 *         the candidates (grid, random, or the grid for successive halving)
 *   shards: one trial each; its result is also stored by its own content
 *         (sample, concrete model, train settings, code version), so a trial any
 *         earlier sweep ran is reused, not rerun (`--force tune` reruns them)
 *   rounds (halving): the best 1/eta of a rung go on with eta times the epochs
 *   combine: trials.parquet, best.json (read by `train` with `tuned:`), figures
 *
 * Content-addressed objects outside the stage folder:
 *   content/tune-samples/<hash>.bin   the sample and its folds (ml/tuning/sample.ts)
 *   content/tune-trials/<hash>.json   one trial's per-fold scores
 */
import { z } from 'zod';
import type { FanoutStageKind, StageResult } from '../kind.js';
import type { JsonValue } from '../../protocol/manifest.js';
import { hashJson } from '../../common/hash.js';
import { joinKey, StorageNotFoundError, type Storage } from '../../storage/index.js';
import { BackendChoice } from '../../ml/backendChoice.js';
import { masksPadding, ModelSpec, usesInput } from '../../ml/modelSpec.js';
import type { DataNeeds } from '../../ml/data.js';
import type { TrainConfig } from '../../ml/trainer.js';
import { describePoint, fillHp, gridPoints, hpRefs, randomPoints, splitPoint, type Point } from '../../ml/tuning/space.js';
import { ModelTemplate, spaceIssues } from '../../ml/tuning/template.js';
import { promote, promotedCount, rungBudgets } from '../../ml/tuning/halving.js';
import { higherIsBetter, mean, type FoldScores } from '../../ml/tuning/trial.js';
import { prunedIds, rungsReached, ranking, scoreOf, topTable, trialsParquet, type TrialOutcome } from '../../ml/tuning/results.js';
import { sweepFigures } from '../../ml/tuning/figures.js';
import { featuresData } from './featuresInput.js';
import { TRAIN_DEFAULTS, TRAIN_PARAM_NAMES, TrainParams } from './trainParams.js';
import { BEST_FILE, type BestTrialFile } from './tuneOutputs.js';

/** Bump when a trial's scores for the same content would change (invalidates stored trials). */
const TRIAL_FORMAT = 'topoflow.tune-trial/2'; // 2: dense models train without the gradient tape (train version 8)

const HpValue = z.union([z.number(), z.string(), z.boolean()]);

const With = z
  .strictObject({
    /** A model (by name from `models:`, or inline) whose values may be `${hp.NAME}` placeholders. */
    model: ModelTemplate,
    /** NAME → candidate values; NAME is a placeholder of the model or a train param (epochs, batchSize, learningRate, shuffleBuffer). */
    space: z.record(z.string(), z.array(HpValue).min(1, 'an empty list of values; give at least one')),
    search: z.enum(['grid', 'random', 'halving']).default('grid'),
    /** `random`: how many grid points to draw. */
    trials: z.number().int().min(1).optional(),
    /** k of k-fold cross-validation. */
    folds: z.number().int().min(2).max(20).default(5),
    /** Fraction of each class's training rows in the sample. */
    sample: z.number().gt(0).max(1).default(0.1),
    metric: z.enum(['auc', 'accuracy', 'loss']).default('auc'),
    seed: z.number().int().nonnegative().default(42),
    /** Trials in flight. */
    window: z.number().int().min(1).default(8),
    /** Successive halving: keep the best 1/eta at each rung, which trains eta times as many epochs. */
    eta: z.number().int().min(2).default(3),
    /** Successive halving: the first rung's epochs. */
    minEpochs: z.number().int().min(1).default(1),
    /** Train settings of every trial where `space` does not set them (defaults as `train`). */
    train: TrainParams.partial()
      .extend({
        backend: BackendChoice.default('auto'),
        trim: z.boolean().default(true),
        earlyStopping: z.strictObject({ patience: z.number().int().min(1), minDelta: z.number().nonnegative().default(0) }).optional(),
      })
      .default({ backend: 'auto', trim: true }),
    /** The input stage whose training rows to sample (default: the one `features` stage among needs). */
    data: z.string().optional(),
  })
  .superRefine((w, ctx) => {
    for (const issue of spaceIssues(w.model, w.space, TrainParams.shape)) ctx.addIssue({ code: 'custom', ...issue });
    if (w.search === 'random' && w.trials === undefined) ctx.addIssue({ code: 'custom', path: ['trials'], message: 'search: random needs trials: N (how many points to draw)' });
    if (w.search !== 'random' && w.trials !== undefined) ctx.addIssue({ code: 'custom', path: ['trials'], message: `trials applies to search: random only (this stage's search is ${w.search})` });
  });
export type TuneWith = z.infer<typeof With>;

/** One trial: a candidate at a rung, with its epoch budget. */
interface TrialShard {
  id: number;
  point: Point;
  rung: number;
  epochs: number;
  /** Storage key of the sample. */
  sample: string;
}

type Summary = Omit<TrialOutcome, 'worker'>;

export const tune: FanoutStageKind<TuneWith, TrialShard> = {
  type: 'fanout',
  name: 'tune',
  version: '3',
  description: 'Stage 3: hyperparameter search (grid, random, successive halving) with k-fold cross-validation, trials fanned out over train workers',
  withSchema: With,
  queue: 'train',
  window: (w) => w.window,

  async plan(ctx) {
    const w = ctx.with;
    const data = featuresData(ctx.stageId, ctx.inputs, w.data);
    const candidates = w.search === 'random' ? randomPoints(w.space, w.trials!, w.seed) : gridPoints(w.space);
    // One sample serves every candidate: it holds each input any of them reads.
    const needs = candidates.map((p) => needsOf(trialSettings(w, p, 1).spec, w.train.trim)).reduce((a, b) => ({ hlf: a.hlf || b.hlf, particles: a.particles || b.particles, trim: a.trim || b.trim }));
    const settings = { fraction: w.sample, folds: w.folds, seed: w.seed };
    const sample = joinKey('content', 'tune-samples', `${hashJson({ format: 'topoflow.tune-sample/1', parts: data.train.map((p) => p.sha256), ...settings, needs })}.bin`);
    const { ensureSample } = await import('../../ml/tuning/job.js');
    await ensureSample(ctx.storage, sample, data.train, needs, settings, ctx.log);
    const first = w.search === 'halving' ? rungBudgets(candidates.length, maxEpochs(w, candidates), w)[0]! : Number.POSITIVE_INFINITY;
    ctx.log(`${candidates.length} candidate(s), ${w.search} search${w.search === 'halving' ? ` (rung 0 at ${first} epoch(s))` : ''}, ${w.folds}-fold cross-validation`);
    return candidates.map((point, id) => ({ id, point, rung: 0, epochs: Math.min(epochsOf(w, point), first), sample }));
  },

  async runShard(ctx, shard) {
    const w = ctx.with;
    const { spec, cfg } = trialSettings(w, shard.point, shard.epochs);
    const trialKey = hashJson({ format: TRIAL_FORMAT, sample: shard.sample, model: spec, train: cfg, backend: w.train.backend });
    const stored = joinKey('content', 'tune-trials', `${trialKey}.json`);
    const label = `trial ${shard.id} (rung ${shard.rung}, ${shard.epochs} epochs, ${describePoint(shard.point)})`;
    const earlier = ctx.forced ? null : await readTrial(ctx.storage, stored);
    if (earlier) {
      ctx.log(`${label}: reused (same sample, model and settings as a trial of an earlier sweep)`);
      return trialResult(shard, trialKey, earlier.folds, earlier.seconds, true, w.metric);
    }
    ctx.log(`${label}: running`);
    const started = Date.now();
    const { trialJob } = await import('../../ml/tuning/job.js');
    const { folds } = await trialJob(ctx.storage, shard.sample, spec, cfg, w.train.backend, {
      progress: (p) => ctx.progress({ done: p.done, total: p.total, unit: 'steps', message: `${label} · ${p.message}` }),
      log: (m) => ctx.log(m),
      signal: ctx.signal,
    });
    const seconds = (Date.now() - started) / 1000;
    const record = JSON.stringify({ format: TRIAL_FORMAT, trialKey, folds, seconds });
    if (ctx.forced) await ctx.storage.put(stored, record);
    else await ctx.storage.putIfAbsent(stored, record);
    return trialResult(shard, trialKey, folds, seconds, false, w.metric);
  },

  async nextRound(ctx, done) {
    const w = ctx.with;
    if (w.search !== 'halving') return [];
    const outcomes = done.map((d) => d.result.summary as unknown as Summary);
    const rung = Math.max(...outcomes.map((o) => o.rung));
    const current = outcomes.filter((o) => o.rung === rung);
    const candidates = outcomes.filter((o) => o.rung === 0).map((o) => o.point);
    const budgets = rungBudgets(candidates.length, maxEpochs(w, candidates), w);
    if (rung >= budgets.length - 1) return [];
    const keep = promotedCount(current.length, w.eta);
    const promoted = promote(current.map((o) => ({ id: o.id, score: scoreOf(o as TrialOutcome, w.metric), point: o.point })), keep, higherIsBetter(w.metric));
    const next = rung + 1;
    const cut = promoted[promoted.length - 1]!.score;
    ctx.log(`rung ${rung}: ${current.length} candidate(s); the best ${keep} go on to rung ${next} (cut: ${w.metric} ${higherIsBetter(w.metric) ? '≥' : '≤'} ${cut.toFixed(4)}); ${current.length - keep} pruned`);
    const sample = done[0]!.shard.sample;
    return promoted.map(({ id, point }) => ({ id, point, rung: next, epochs: next === budgets.length - 1 ? epochsOf(w, point) : Math.min(epochsOf(w, point), budgets[next]!), sample }));
  },

  async combine(ctx, shards) {
    const w = ctx.with;
    const trials: TrialOutcome[] = shards.map((s) => ({ ...(s.summary as unknown as Summary), worker: s.worker }));
    const ranked = ranking(trials, w.metric);
    const best = ranked[0];
    if (!best || !Number.isFinite(best.mean)) throw new Error(`stage "${ctx.stageId}": no trial has a finite ${w.metric} (did every trial diverge?)`);
    const reached = rungsReached(trials);
    const pruned = prunedIds(reached);
    const candidates = reached.size;
    const { spec, cfg } = trialSettings(w, best.point, best.epochs);
    const file: BestTrialFile = {
      format: 'topoflow.tune-best/1',
      metric: w.metric,
      higherIsBetter: higherIsBetter(w.metric),
      search: w.search,
      candidates,
      trials: trials.length,
      pruned: pruned.size,
      best,
      model: spec,
      train: { epochs: cfg.epochs, batchSize: cfg.batchSize, learningRate: cfg.learningRate, shuffleBuffer: cfg.shuffleBuffer },
      top: ranked.slice(0, 5),
    };
    const reused = trials.filter((t) => t.reused).length;
    await ctx.output.write(BEST_FILE, `${JSON.stringify(file, null, 1)}\n`);
    await ctx.output.write('trials.parquet', await trialsParquet(trials, Object.keys(w.space), pruned), { rows: trials.reduce((n, t) => n + t.folds.length, 0), volatile: true });
    const figures = sweepFigures(w.space, ranked, trials, w.metric);
    for (const f of figures) await ctx.output.write(`${f.name}.svg`, f.svg);
    const table = topTable(ranked, w.metric);
    const found = `best ${w.metric} ${best.mean.toFixed(4)} ± ${best.std.toFixed(4)}: ${describePoint(best.point)}`;
    const sweep = `${w.search} search: ${candidates} candidate(s), ${trials.length} trial(s) of ${w.folds} folds`;
    // How many trials this run reused depends on what earlier runs left, not on the inputs: the
    // run summary says it, the stage's (content-hashed) files do not.
    const head = `${sweep} (${reused} reused from earlier sweeps${pruned.size ? `, ${pruned.size} pruned` : ''}); ${found}`;
    await ctx.output.write('report.md', [`# ${ctx.stageId}`, '', `${sweep}${pruned.size ? ` (${pruned.size} pruned)` : ''}; ${found}`, '', table, '', ...figures.map((f) => `![${f.title}](${f.name}.svg)`), ''].join('\n'));
    return {
      counts: { candidates, trials: trials.length, pruned: pruned.size },
      summary: { metric: w.metric, search: w.search, best: { point: best.point, mean: best.mean, std: best.std, epochs: best.epochs }, top: ranked.slice(0, 5).map((t) => ({ point: t.point, mean: t.mean, std: t.std })) } as unknown as JsonValue,
      report: `${head}\n\n${table}`,
    };
  },
};

function trialResult(shard: TrialShard, trialKey: string, folds: FoldScores[], seconds: number, reused: boolean, metric: TuneWith['metric']): StageResult {
  const summary: Summary = { id: shard.id, rung: shard.rung, point: shard.point, epochs: shard.epochs, trialKey, folds, seconds, reused };
  const score = mean(folds.map((f) => f[metric]));
  return {
    counts: { trials: 1, reused: reused ? 1 : 0 },
    summary: summary as unknown as JsonValue,
    note: { text: `${metric} ${score.toFixed(4)} (${describePoint(shard.point)})`, score, higherIsBetter: higherIsBetter(metric) },
  };
}

/** The concrete model and train settings of a candidate at an epoch budget. */
function trialSettings(w: TuneWith, point: Point, epochs: number): { spec: ModelSpec; cfg: TrainConfig } {
  const hpNames = new Set(hpRefs(w.model).map((r) => r.name));
  const { inside: hp, outside: params } = splitPoint(point, hpNames);
  const spec = ModelSpec.parse(fillHp(w.model, hp));
  const cfg: TrainConfig = {
    ...TRAIN_DEFAULTS,
    ...Object.fromEntries(TRAIN_PARAM_NAMES.filter((n) => w.train[n] !== undefined).map((n) => [n, w.train[n]])),
    ...params,
    epochs,
    seed: w.seed,
    evalBatchSize: 1024,
    checkpointSteps: Number.MAX_SAFE_INTEGER,
    checkpointSeconds: Number.MAX_SAFE_INTEGER,
    trim: w.train.trim,
    ...(w.train.earlyStopping ? { earlyStopping: w.train.earlyStopping } : {}),
  };
  return { spec, cfg };
}

const epochsOf = (w: TuneWith, point: Point) => (typeof point.epochs === 'number' ? point.epochs : (w.train.epochs ?? TRAIN_DEFAULTS.epochs));
const maxEpochs = (w: TuneWith, points: Point[]) => Math.max(...points.map((p) => epochsOf(w, p)));

function needsOf(spec: ModelSpec, trim: boolean): DataNeeds {
  return { hlf: usesInput(spec, 'hlf'), particles: usesInput(spec, 'particles'), trim: trim && masksPadding(spec) };
}

async function readTrial(storage: Storage, key: string): Promise<{ folds: FoldScores[]; seconds: number } | null> {
  try {
    const parsed = JSON.parse(Buffer.from(await storage.get(key)).toString('utf8')) as { format?: string; folds?: FoldScores[]; seconds?: number };
    return parsed.format === TRIAL_FORMAT && Array.isArray(parsed.folds) ? { folds: parsed.folds, seconds: parsed.seconds ?? 0 } : null;
  } catch (err) {
    if (err instanceof StorageNotFoundError || err instanceof SyntaxError) return null;
    throw err;
  }
}
