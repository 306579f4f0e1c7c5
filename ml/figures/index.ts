/** Figures for evaluation reports: hand-written SVG, and PNG through resvg. */
export { rocFigure, rocLegendLabel, type RocFigureCurve, type RocFigureOptions } from './roc.js';
export { trainingCurvesFigure, type TrainingSeries, type TrainingCurvesOptions } from './training.js';
export { rejectionFigure, type RejectionCurve, type RejectionFigureOptions } from './rejection.js';
export { confusionMatrixFigure, type ConfusionFigureOptions } from './confusion.js';
export { lineChart, type LineChartSpec, type LineSeries, type AxisSpec, type LegendPlace } from './lineChart.js';
export { svgToPng, type PngOptions } from './png.js';
export { escapeXml } from './svg.js';
export { heatmapFigure, type HeatmapOptions } from './heatmap.js';
