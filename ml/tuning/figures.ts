/**
 * A sweep's figures: the metric against each hyperparameter (the best and
 * the mean trial at each value), a heat map over the two that matter most,
 * and, for successive halving, every candidate's metric across the rungs.
 */
import { heatmapFigure, lineChart, type LineSeries } from '../figures/index.js';
import { describePoint, type HpValue } from './space.js';
import { higherIsBetter, mean, type TuneMetric } from './trial.js';
import { scoreOf, type RankedTrial, type TrialOutcome } from './results.js';

export interface SweepFigure {
  name: string;
  title: string;
  svg: string;
}

/** Each value's trials' scores, for one hyperparameter, over the ranked (final-rung) trials. */
function byValue(ranked: readonly RankedTrial[], name: string, values: readonly HpValue[]): number[][] {
  return values.map((v) => ranked.filter((t) => t.point[name] === v).map((t) => t.mean).filter(Number.isFinite));
}

const best = (scores: number[], metric: TuneMetric) => (scores.length ? (higherIsBetter(metric) ? Math.max(...scores) : Math.min(...scores)) : Number.NaN);

/** How much the best score moves across a hyperparameter's values: the ordering for the heat map. */
export function importance(ranked: readonly RankedTrial[], name: string, values: readonly HpValue[], metric: TuneMetric): number {
  const bests = byValue(ranked, name, values).map((s) => best(s, metric)).filter(Number.isFinite);
  return bests.length ? Math.max(...bests) - Math.min(...bests) : 0;
}

export function sweepFigures(space: Record<string, HpValue[]>, ranked: readonly RankedTrial[], trials: readonly TrialOutcome[], metric: TuneMetric): SweepFigure[] {
  const figures: SweepFigure[] = [];
  const names = Object.keys(space).filter((n) => space[n]!.length > 1);
  for (const name of names) {
    const values = space[name]!;
    const numeric = values.every((v) => typeof v === 'number');
    const x = values.map((v, i) => (numeric ? (v as number) : i));
    const scores = byValue(ranked, name, values);
    const log = numeric && Math.min(...(x)) > 0 && Math.max(...x) / Math.min(...x) >= 20;
    const series: LineSeries[] = [
      { label: `best ${metric}`, x, y: scores.map((s) => best(s, metric)), markers: true },
      { label: `mean ${metric}`, x, y: scores.map((s) => (s.length ? mean(s) : Number.NaN)), markers: true, dash: '6 4' },
    ];
    const axisLabel = numeric ? name : `${name} (${values.map((v, i) => `${i}: ${v}`).join(', ')})`;
    figures.push({ name: `tune-${name}`, title: `${metric} against ${name}`, svg: lineChart({ title: `${metric} against ${name}`, x: { label: axisLabel, log, integer: !numeric }, y: { label: metric }, series }) });
  }
  const ordered = [...names].sort((a, b) => importance(ranked, b, space[b]!, metric) - importance(ranked, a, space[a]!, metric));
  if (ordered.length >= 2) {
    const [rowName, colName] = [ordered[0]!, ordered[1]!];
    const rows = space[rowName]!;
    const cols = space[colName]!;
    const cell = (r: HpValue, c: HpValue) => best(ranked.filter((t) => t.point[rowName] === r && t.point[colName] === c).map((t) => t.mean), metric);
    figures.push({
      name: 'tune-heatmap',
      title: `best ${metric} over ${rowName} and ${colName}`,
      svg: heatmapFigure(rows.map((r) => cols.map((c) => cell(r, c))), rows.map(String), cols.map(String), { title: `best ${metric}: ${rowName} × ${colName}`, xLabel: colName, yLabel: rowName }),
    });
  }
  if (trials.some((t) => t.rung > 0)) figures.push(rungsFigure(trials, ranked[0], metric));
  return figures;
}

/** Successive halving: each candidate's metric at each rung's budget, the winner in colour. */
function rungsFigure(trials: readonly TrialOutcome[], winner: RankedTrial | undefined, metric: TuneMetric): SweepFigure {
  const byCandidate = new Map<number, TrialOutcome[]>();
  for (const t of trials) byCandidate.set(t.id, [...(byCandidate.get(t.id) ?? []), t]);
  const series: LineSeries[] = [...byCandidate.entries()].map(([id, ts]) => {
    const sorted = [...ts].sort((a, b) => a.rung - b.rung);
    const isWinner = id === winner?.id;
    return {
      label: isWinner ? `best: ${describePoint(winner.point)}` : '',
      x: sorted.map((t) => t.rung),
      y: sorted.map((t) => scoreOf(t, metric)),
      color: isWinner ? '#d62728' : '#b0b0b0',
      strokeWidth: isWinner ? 2.5 : 1,
      markers: true,
    };
  });
  // The winner last, drawn on top.
  series.sort((a, b) => Number(a.label !== '') - Number(b.label !== ''));
  return { name: 'tune-rungs', title: `successive halving: ${metric} per rung`, svg: lineChart({ title: `successive halving: ${metric} per rung`, x: { label: 'rung (epoch budget grows by eta)', integer: true }, y: { label: metric }, series, legend: 'lower right' }) };
}
