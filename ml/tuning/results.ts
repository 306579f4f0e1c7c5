/**
 * A sweep's results: the trials as they finished, ranked by the chosen
 * metric; the best one with its spread; the table a person reads; and
 * trials.parquet, one row per trial and fold, for pandas or Spark.
 */
import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import { ParquetStreamEncoder, collectBytes, zstdWriterProperties } from '../../parquet/index.js';
import { promote } from './halving.js';
import { describePoint, type Point } from './space.js';
import { higherIsBetter, mean, std, type FoldScores, type TuneMetric } from './trial.js';

/** One trial of a sweep as its shard reported it. */
export interface TrialOutcome {
  /** The candidate (grid or random point) it trains. */
  id: number;
  rung: number;
  point: Point;
  /** The epoch budget it trained with. */
  epochs: number;
  trialKey: string;
  folds: FoldScores[];
  /** Training time of the trial (that of the earlier run when reused). */
  seconds: number;
  /** Taken from an earlier sweep's identical trial. */
  reused: boolean;
  worker: string;
}

export interface RankedTrial {
  id: number;
  rung: number;
  point: Point;
  epochs: number;
  mean: number;
  std: number;
  folds: number[];
}

export const scoreOf = (t: TrialOutcome, metric: TuneMetric) => mean(t.folds.map((f) => f[metric]));

/** The trials of the last rung reached (all of them without halving), best first. */
export function ranking(trials: readonly TrialOutcome[], metric: TuneMetric): RankedTrial[] {
  const last = Math.max(...trials.map((t) => t.rung));
  const final = trials.filter((t) => t.rung === last);
  const byId = new Map(final.map((t) => [t.id, t]));
  return promote(final.map((t) => ({ id: t.id, score: scoreOf(t, metric) })), final.length, higherIsBetter(metric)).map(({ id }) => {
    const t = byId.get(id)!;
    const folds = t.folds.map((f) => f[metric]);
    return { id, rung: t.rung, point: t.point, epochs: t.epochs, mean: mean(folds), std: std(folds), folds };
  });
}

/** Each candidate's highest rung reached (one entry per candidate). */
export function rungsReached(trials: readonly TrialOutcome[]): Map<number, number> {
  const reached = new Map<number, number>();
  for (const t of trials) reached.set(t.id, Math.max(reached.get(t.id) ?? 0, t.rung));
  return reached;
}

/** Candidates that stopped below the last rung (successive halving's pruned ones). */
export function prunedIds(reached: ReadonlyMap<number, number>): Set<number> {
  const last = Math.max(...reached.values());
  return new Set([...reached].filter(([, r]) => r < last).map(([id]) => id));
}

/** The top `n` as a markdown table (the run summary, `topoflow status`). */
export function topTable(ranked: readonly RankedTrial[], metric: TuneMetric, n = 5): string {
  const rows = ranked.slice(0, n).map((t, i) => `| ${i + 1} | ${t.mean.toFixed(4)} ± ${t.std.toFixed(4)} | ${t.epochs} | ${describePoint(t.point)} |`);
  return [`| rank | ${metric} (mean ± std over folds) | epochs | params |`, '|---|---|---|---|', ...rows].join('\n');
}

/** One row per trial and fold; a column per hyperparameter (numbers as float64, anything else as text). */
export async function trialsParquet(trials: readonly TrialOutcome[], names: readonly string[], pruned: ReadonlySet<number>): Promise<Uint8Array> {
  const rows = trials.flatMap((t) => t.folds.map((f, fold) => ({ t, f, fold })));
  const num = (get: (r: (typeof rows)[number]) => number) => Float64Array.from(rows, get);
  const columns: Record<string, Float64Array | Int32Array | string[] | boolean[]> = {
    candidate: Int32Array.from(rows, (r) => r.t.id),
    rung: Int32Array.from(rows, (r) => r.t.rung),
    fold: Int32Array.from(rows, (r) => r.fold),
    epochs_budget: Int32Array.from(rows, (r) => r.t.epochs),
    epochs_run: Int32Array.from(rows, (r) => r.f.epochs),
  };
  for (const name of names) {
    const values = rows.map((r) => r.t.point[name]);
    columns[`hp_${name}`] = values.every((v) => typeof v === 'number') ? Float64Array.from(values) : values.map(String);
  }
  Object.assign(columns, {
    auc: num((r) => r.f.auc),
    accuracy: num((r) => r.f.accuracy),
    loss: num((r) => r.f.loss),
    trial_seconds: num((r) => r.t.seconds),
    reused: rows.map((r) => r.t.reused),
    pruned: rows.map((r) => pruned.has(r.t.id)),
    worker: rows.map((r) => r.t.worker),
    trial_key: rows.map((r) => r.t.trialKey),
  });
  const table = tableFromArrays(columns as Parameters<typeof tableFromArrays>[0]);
  const encoder = new ParquetStreamEncoder(zstdWriterProperties(Math.max(1, rows.length), { dictionaryColumns: [], metadata: { 'topoflow.format': 'topoflow.tune-trials/1' } }));
  for (const batch of table.batches as RecordBatch[]) encoder.push(batch);
  encoder.close();
  return collectBytes(encoder.bytes());
}
