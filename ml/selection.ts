/**
 * The `score` stage's account of its selection: what the working point's cut
 * kept of the new data, per true class, against what the training run's test
 * set predicted for the same cut (the evaluate stage's numbers), with the
 * difference in standard deviations; and the scoring speed per worker.
 */
import { CLASS_NAMES, CLASSES } from '../hep/layout.js';
import { formatRejection, fromCounts, type WorkingPoint } from './workingPoint.js';

/** What one shard reports. */
export interface ShardTally {
  part: string;
  byClass: number[];
  selectedByClass: number[];
  seconds: number;
  backend: string;
}

type Rates = Pick<WorkingPoint, 'signalEvents' | 'backgroundEvents' | 'selectedSignal' | 'selectedBackground' | 'efficiency' | 'efficiencyError' | 'fpr' | 'fprError' | 'rejection' | 'rejectionError' | 'rejectionLowerLimit'>;

export interface Selection {
  model: string;
  signal: string;
  targetEfficiency: number;
  /** Events with signal score >= threshold are selected. */
  threshold: number;
  events: number;
  selected: number;
  byClass: Record<string, { events: number; selected: number }>;
  /** The cut on the training run's test set: the prediction. */
  expected: Rates;
  /** The cut on this data. */
  measured: Rates;
  /** (measured − expected) / combined standard error; null when undefined (no events, zero errors). */
  pulls: { efficiency: number | null; fpr: number | null };
}

export interface SelectionReport {
  selection: Selection;
  timing: { backend: string; seconds: number; eventsPerSecondPerWorker: Record<string, number> };
  counts: Record<string, number>;
  /** The lines the run summary prints. */
  text: string;
}

export function selectionReport(model: string, expected: WorkingPoint, shards: Array<ShardTally & { worker: string }>): SelectionReport {
  const byClass = Array.from({ length: CLASSES }, (_, c) => ({ events: sum(shards.map((s) => s.byClass[c] ?? 0)), selected: sum(shards.map((s) => s.selectedByClass[c] ?? 0)) }));
  const s = expected.signal;
  const measured = fromCounts({
    signal: s,
    target: expected.target,
    threshold: expected.threshold,
    signalEvents: byClass[s]!.events,
    backgroundEvents: sum(byClass.filter((_, c) => c !== s).map((b) => b.events)),
    selectedSignal: byClass[s]!.selected,
    selectedBackground: sum(byClass.filter((_, c) => c !== s).map((b) => b.selected)),
  });
  const events = sum(byClass.map((b) => b.events));
  const selected = sum(byClass.map((b) => b.selected));
  const selection: Selection = {
    model,
    signal: CLASS_NAMES[s]!,
    targetEfficiency: expected.target,
    threshold: expected.threshold,
    events,
    selected,
    byClass: Object.fromEntries(CLASS_NAMES.map((name, c) => [name, byClass[c]!])),
    expected: rates(expected),
    measured: rates(measured),
    pulls: { efficiency: pull(measured.efficiency, measured.efficiencyError, expected.efficiency, expected.efficiencyError), fpr: pull(measured.fpr, measured.fprError, expected.fpr, expected.fprError) },
  };
  const perWorker = new Map<string, { events: number; seconds: number }>();
  for (const sh of shards) {
    const w = perWorker.get(sh.worker) ?? { events: 0, seconds: 0 };
    w.events += sum(sh.byClass);
    w.seconds += sh.seconds;
    perWorker.set(sh.worker, w);
  }
  const eventsPerSecondPerWorker = Object.fromEntries([...perWorker].map(([w, t]) => [w, t.seconds > 0 ? Math.round(t.events / t.seconds) : 0]));
  const timing = { backend: shards[0]?.backend ?? 'none', seconds: sum(shards.map((sh) => sh.seconds)), eventsPerSecondPerWorker };
  return { selection, timing, counts: { events, selected, parts: shards.length }, text: text(selection, timing) };
}

function text(sel: Selection, timing: SelectionReport['timing']): string {
  const pct = (x: number, e: number) => `${(100 * x).toFixed(2)} ± ${(100 * e).toFixed(2)} %`;
  const row = (what: string, r: Rates) => `| ${what} | ${r.signalEvents + r.backgroundEvents} | ${pct(r.efficiency, r.efficiencyError)} | ${r.fpr.toPrecision(3)} ± ${r.fprError.toPrecision(2)} | ${formatRejection(r as WorkingPoint)} |`;
  const pulls = `${fmtPull(sel.pulls.efficiency)} σ in efficiency, ${fmtPull(sel.pulls.fpr)} σ in false-positive rate`;
  const speed = Object.entries(timing.eventsPerSecondPerWorker).map(([w, r]) => `${w}: ${r}`).join(', ');
  return [
    `${sel.model}, cut at ${(100 * sel.targetEfficiency).toFixed(0)} % ${sel.signal} efficiency (${sel.signal} score >= ${sel.threshold.toPrecision(4)}): ${sel.events} events scored, ${sel.selected} selected.`,
    '',
    `| ${sel.signal} selection | events | signal efficiency | false-positive rate | background rejection |`,
    '|---|---:|---:|---:|---:|',
    row('test set (evaluate\'s prediction)', sel.expected),
    row('this data', sel.measured),
    '',
    `Measured − predicted: ${pulls}. Events/s per worker (${timing.backend}): ${speed || 'none'}.`,
  ].join('\n');
}

function rates(w: WorkingPoint): Rates {
  const { signalEvents, backgroundEvents, selectedSignal, selectedBackground, efficiency, efficiencyError, fpr, fprError, rejection, rejectionError, rejectionLowerLimit } = w;
  return { signalEvents, backgroundEvents, selectedSignal, selectedBackground, efficiency, efficiencyError, fpr, fprError, rejection, rejectionError, rejectionLowerLimit };
}

function pull(a: number, ea: number, b: number, eb: number): number | null {
  const e = Math.hypot(ea, eb);
  return Number.isFinite(a) && Number.isFinite(b) && e > 0 ? (a - b) / e : null;
}

const fmtPull = (p: number | null) => (p === null ? 'n/a' : `${p >= 0 ? '+' : ''}${p.toFixed(2)}`);
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
