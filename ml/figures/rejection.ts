/**
 * Background rejection (1 / false-positive rate, log scale) against signal
 * efficiency, all models on one figure: the view a trigger is designed from,
 * since the interesting region (efficiency near 1) is squeezed into a corner
 * of an ROC plot. Dotted verticals mark the standard working points.
 */
import { lineChart, type LineSeries } from './lineChart.js';

export interface RejectionCurve {
  label: string;
  fpr: ArrayLike<number>;
  tpr: ArrayLike<number>;
}

export interface RejectionFigureOptions {
  title?: string;
  /** Efficiencies to mark with a vertical line (e.g. 0.9, 0.95, 0.99). */
  marks?: readonly number[];
  width?: number;
  height?: number;
}

/** Points with no background passing (rejection = ∞) cannot be drawn on a log axis and are left out. */
export function rejectionFigure(curves: RejectionCurve[], options: RejectionFigureOptions = {}): string {
  if (curves.length === 0) throw new RangeError('rejectionFigure: no curves to plot');
  let highest = 10;
  const series: LineSeries[] = curves.map((c) => {
    if (c.fpr.length !== c.tpr.length) throw new RangeError(`rejectionFigure: curve "${c.label}" has ${c.fpr.length} fpr but ${c.tpr.length} tpr values`);
    const x: number[] = [];
    const y: number[] = [];
    for (let i = 0; i < c.fpr.length; i++) {
      if (!(c.fpr[i]! > 0)) continue;
      x.push(c.tpr[i]!);
      y.push(1 / c.fpr[i]!);
      highest = Math.max(highest, 1 / c.fpr[i]!);
    }
    if (x.length === 0) throw new RangeError(`rejectionFigure: curve "${c.label}" has no point with a non-zero false-positive rate`);
    return { label: c.label, x, y };
  });
  const top = 10 ** Math.ceil(Math.log10(highest) - 1e-9);
  for (const e of options.marks ?? []) series.push({ label: '', x: [e, e], y: [1, top], color: '#888888', dash: '2 3', strokeWidth: 1 });
  return lineChart({
    title: options.title ?? 'Background rejection against signal efficiency',
    x: { label: 'Signal efficiency (true positive rate)', domain: [0, 1.02] },
    y: { label: 'Background rejection (1 / false positive rate)', domain: [1, top], log: true },
    series,
    legend: 'upper right',
    ...(options.width === undefined ? {} : { width: options.width }),
    ...(options.height === undefined ? {} : { height: options.height }),
  });
}
