/** Per-epoch training curves (loss or accuracy; train and validation). */
import { lineChart } from './lineChart.js';

export interface TrainingSeries {
  label: string;
  /** One value per epoch, epoch 1 first; NaN (a diverged epoch) leaves a gap. */
  values: ArrayLike<number>;
  dashed?: boolean;
}

export interface TrainingCurvesOptions {
  title: string;
  yLabel: string;
  xLabel?: string;
  width?: number;
  height?: number;
}

/** Markers make short histories readable; beyond this many epochs they only clutter. */
const MARKER_LIMIT = 30;

/**
 * The series against epoch 1..n. A single epoch is drawn as markers on a one-tick
 * axis. No series, or series without any values, throw a RangeError.
 */
export function trainingCurvesFigure(series: TrainingSeries[], options: TrainingCurvesOptions): string {
  if (series.length === 0) throw new RangeError('trainingCurvesFigure: no series to plot');
  const epochs = Math.max(...series.map((s) => s.values.length));
  if (epochs === 0) throw new RangeError('trainingCurvesFigure: the series have no values');
  return lineChart({
    title: options.title,
    x: { label: options.xLabel ?? 'Epoch', integer: true },
    y: { label: options.yLabel },
    series: series.map((s) => ({
      label: s.label,
      x: Array.from({ length: s.values.length }, (_, i) => i + 1),
      y: s.values,
      markers: epochs <= MARKER_LIMIT,
      ...(s.dashed === true ? { dash: '6 4' } : {}),
    })),
    ...(options.width === undefined ? {} : { width: options.width }),
    ...(options.height === undefined ? {} : { height: options.height }),
  });
}
