/**
 * The working points as text: the report's tables, and the comparison with
 * the paper's claim (Nguyen et al. 2019, abstract: a cut on the classifier's
 * score keeps ~99 % of the interesting events while reducing the false-positive
 * rate by more than an order of magnitude, i.e. a rejection factor above 10 at
 * 99 % signal efficiency).
 */
import { CLASS_NAMES } from '../hep/layout.js';
import { formatRejection, type WorkingPoint } from './workingPoint.js';

/** What the text needs of a scored model: its name and, per class taken as signal, its working points. */
export interface ModelWorkingPoints {
  model: string;
  workingPoints: WorkingPoint[][];
}

/** The rejection a cut at 99 % efficiency must beat for the paper's claim ("more than an order of magnitude"). */
export const CLAIMED_REJECTION = 10;

/** A markdown table: per model, per class taken as signal, FPR and rejection at efficiency `target`. */
export function workingPointTable(results: ModelWorkingPoints[], target: number): string {
  const pct = `${Math.round(target * 100)} %`;
  const head = `| at ${pct} signal efficiency | ${CLASS_NAMES.map((c) => `${c}: FPR | ${c}: rejection`).join(' | ')} |`;
  const rule = `|---|${CLASS_NAMES.map(() => '---:|---:').join('|')}|`;
  const rows = results.map((r) => {
    const cells = CLASS_NAMES.map((_, c) => {
      const wp = pointAt(r, c, target);
      return wp ? `${formatFpr(wp)} | ${formatRejection(wp)}` : '– | –';
    });
    return `| ${r.model} | ${cells.join(' | ')} |`;
  });
  return [head, rule, ...rows].join('\n');
}

export type ClaimVerdict = 'holds' | 'fails' | 'inconclusive';

/** Whether rejection > 10 at 99 % efficiency, at two standard deviations either way. */
export function claimVerdict(wp: WorkingPoint): ClaimVerdict {
  if (wp.rejection === null) return (wp.rejectionLowerLimit ?? 0) > CLAIMED_REJECTION ? 'holds' : 'inconclusive';
  const err = wp.rejectionError ?? 0;
  if (wp.rejection - 2 * err > CLAIMED_REJECTION) return 'holds';
  if (wp.rejection + 2 * err < CLAIMED_REJECTION) return 'fails';
  return 'inconclusive';
}

/** A paragraph comparing each model's 99 % working points with the paper's claim. */
export function paperClaimText(results: ModelWorkingPoints[]): string {
  const lines = [
    `**The paper's claim.** The abstract of Nguyen et al. (2019) says that a cut on the classifier's score retains ~99 % of the interesting events while reducing the false-positive rate by more than an order of magnitude: a background rejection above ${CLAIMED_REJECTION} at 99 % signal efficiency. On this test set (verdicts at two standard deviations):`,
    '',
  ];
  for (const r of results) {
    const parts = CLASS_NAMES.map((name, c) => {
      const wp = pointAt(r, c, 0.99);
      if (!wp) return `${name}: –`;
      const verdict = claimVerdict(wp);
      const word = verdict === 'holds' ? 'holds' : verdict === 'fails' ? 'does not hold' : 'cannot be decided at this test-set size';
      return `${name} as signal, rejection ${formatRejection(wp)}: ${word}`;
    });
    lines.push(`- ${r.model}: ${parts.join('; ')}.`);
  }
  lines.push('', 'The paper\'s interesting events are ttbar and W+jets (QCD is the background a trigger removes); QCD as signal is listed for completeness. At demo scale (a few thousand test events, few epochs) the synthetic samples and short training make these numbers indicative only.');
  return lines.join('\n');
}

function pointAt(r: ModelWorkingPoints, c: number, target: number): WorkingPoint | undefined {
  return r.workingPoints[c]?.find((w) => Math.abs(w.target - target) < 1e-12);
}

function formatFpr(wp: WorkingPoint): string {
  return `${wp.fpr.toPrecision(3)} ± ${wp.fprError.toPrecision(2)}`;
}
