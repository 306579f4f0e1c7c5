/** ROC curves of several models on one figure, as the seed pipeline plots them. */
import { lineChart, type LineSeries } from './lineChart.js';

export interface RocFigureCurve {
  label: string;
  fpr: ArrayLike<number>;
  tpr: ArrayLike<number>;
  auc: number;
}

export interface RocFigureOptions {
  title?: string;
  /** Log-scaled false-positive rate, to show the low-background region. */
  logX?: boolean;
  width?: number;
  height?: number;
}

/** The legend text for one curve: "HLF classifier (AUC = 0.987)". */
export const rocLegendLabel = (label: string, auc: number): string => `${label} (AUC = ${auc.toFixed(3)})`;

/**
 * True vs false positive rate for each curve, with a dashed diagonal for a
 * random classifier and the AUCs (3 decimals) in the legend. An empty curve
 * list, a curve without points, mismatched fpr/tpr or a non-finite AUC throw a
 * RangeError: a figure without its curves would only hide the mistake.
 */
export function rocFigure(curves: RocFigureCurve[], options: RocFigureOptions = {}): string {
  if (curves.length === 0) throw new RangeError('rocFigure: no curves to plot');
  for (const c of curves) {
    if (c.fpr.length !== c.tpr.length) throw new RangeError(`rocFigure: curve "${c.label}" has ${c.fpr.length} fpr but ${c.tpr.length} tpr values`);
    if (c.fpr.length === 0) throw new RangeError(`rocFigure: curve "${c.label}" has no points`);
    if (!Number.isFinite(c.auc)) throw new RangeError(`rocFigure: curve "${c.label}" has AUC ${c.auc}`);
  }
  const logX = options.logX === true;
  // On a log axis the diagonal y = x bends, so it is drawn through many points; it starts at the smallest non-zero rate shown.
  let xLow = -0.02;
  if (logX) {
    let smallest = 1;
    for (const c of curves) for (let i = 0; i < c.fpr.length; i++) if (c.fpr[i]! > 0) smallest = Math.min(smallest, c.fpr[i]!);
    xLow = 10 ** Math.min(-1, Math.floor(Math.log10(smallest) + 1e-9));
  }
  const diagonalX = logX ? Array.from({ length: 101 }, (_, i) => xLow ** (1 - i / 100)) : [0, 1];
  const series: LineSeries[] = curves.map((c) => ({ label: rocLegendLabel(c.label, c.auc), x: c.fpr, y: c.tpr }));
  series.push({ label: '', x: diagonalX, y: diagonalX, color: '#555555', dash: '6 4', strokeWidth: 1.2 });
  return lineChart({
    title: options.title ?? 'Receiver operating characteristic (ROC) curve',
    x: { label: 'False positive rate', domain: [xLow, logX ? 1 : 1.02], log: logX },
    y: { label: 'True positive rate', domain: [-0.02, 1.02] },
    series,
    // The seed's place for the legend; on a log axis the curves fill that corner, so take the emptiest one.
    legend: logX ? 'best' : 'lower right',
    ...(options.width === undefined ? {} : { width: options.width }),
    ...(options.height === undefined ? {} : { height: options.height }),
  });
}
