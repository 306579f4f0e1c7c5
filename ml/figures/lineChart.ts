/**
 * The line-chart primitive behind the ROC and training-curve figures: framed
 * plot area, grid, outward ticks with labels, axis titles, a title, a legend,
 * and optionally log-scaled axes.
 */
import { drawLegend, legendSize, type LegendEntry } from './legend.js';
import { linearScale, logScale, type Scale } from './scale.js';
import { el, polylinePath, svgDocument, text } from './svg.js';
import { centralShift, colorAt, FONT, FONT_FAMILY, GRID, INK, textWidth } from './theme.js';

export interface LineSeries {
  /** Legend text; series with an empty label stay out of the legend. */
  label: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Defaults to the palette colour for the series' position. */
  color?: string;
  /** SVG stroke-dasharray, e.g. "6 4". */
  dash?: string;
  strokeWidth?: number;
  /** Draw a dot at every point (useful when there are few). */
  markers?: boolean;
}

export interface AxisSpec {
  label: string;
  /** Fixed [low, high]; by default the data's extent plus a 5 % margin (log: widened to powers of ten). */
  domain?: [number, number];
  log?: boolean;
  /** Whole-number ticks only (epochs). Linear axes only. */
  integer?: boolean;
}

export type LegendPlace = 'best' | 'upper right' | 'upper left' | 'lower left' | 'lower right' | 'none';

export interface LineChartSpec {
  title?: string;
  x: AxisSpec;
  y: AxisSpec;
  series: LineSeries[];
  width?: number;
  height?: number;
  /** Default 'best': the corner covering the fewest plotted points. */
  legend?: LegendPlace;
  grid?: boolean;
}

const TICK = 5;
const LEGEND_INSET = 10;
const CORNERS = ['upper right', 'upper left', 'lower left', 'lower right'] as const;

function extent(values: Array<ArrayLike<number>>, positiveOnly: boolean): [number, number] | undefined {
  let low = Number.POSITIVE_INFINITY;
  let high = Number.NEGATIVE_INFINITY;
  for (const vs of values) {
    for (let i = 0; i < vs.length; i++) {
      const v = vs[i]!;
      if (!Number.isFinite(v) || (positiveOnly && v <= 0)) continue;
      low = Math.min(low, v);
      high = Math.max(high, v);
    }
  }
  return low <= high ? [low, high] : undefined;
}

function makeScale(axis: AxisSpec, data: Array<ArrayLike<number>>, range: [number, number], tickCount: number): Scale {
  if (axis.log === true) {
    const [lo, hi] = axis.domain ?? extent(data, true) ?? [0.1, 1];
    const domain: [number, number] = axis.domain ?? [10 ** Math.floor(Math.log10(lo) + 1e-9), 10 ** Math.ceil(Math.log10(hi) - 1e-9)];
    if (domain[0] === domain[1]) domain[0] /= 10;
    return logScale(domain, range);
  }
  const [lo, hi] = extent(data, false) ?? [0, 1];
  // A margin as matplotlib leaves one, so points and markers never sit on the frame; a lone value gets room around it.
  const integer = axis.integer === true;
  const pad = hi > lo ? (hi - lo) * (integer ? 0.03 : 0.05) : integer ? 0.5 : Math.abs(lo) * 0.05 || 0.5;
  return linearScale(axis.domain ?? [lo - pad, hi + pad], range, { tickCount, integer });
}

/** Screen points of a series, with NaN for values the scale cannot show (which breaks the line there). */
function screenPoints(s: LineSeries, xs: Scale, ys: Scale): Array<[number, number]> {
  if (s.x.length !== s.y.length) throw new RangeError(`lineChart: series "${s.label}" has ${s.x.length} x values but ${s.y.length} y values`);
  return Array.from({ length: s.x.length }, (_, i) => [xs.map(s.x[i]!), ys.map(s.y[i]!)]);
}

/** Roughly how much drawn line (in 3 px steps along every segment) falls inside the box: the legend should hide as little as possible. */
function coverage(lines: Array<Array<[number, number]>>, box: { x: number; y: number; width: number; height: number }): number {
  const inside = (x: number, y: number) => x >= box.x && x <= box.x + box.width && y >= box.y && y <= box.y + box.height;
  let count = 0;
  for (const pts of lines) {
    for (let i = 0; i < pts.length; i++) {
      const [x, y] = pts[i]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      if (inside(x, y)) count++;
      const next = pts[i + 1];
      if (next === undefined || !Number.isFinite(next[0]) || !Number.isFinite(next[1])) continue;
      const steps = Math.min(1000, Math.ceil(Math.hypot(next[0] - x, next[1] - y) / 3));
      for (let t = 1; t < steps; t++) if (inside(x + ((next[0] - x) * t) / steps, y + ((next[1] - y) * t) / steps)) count++;
    }
  }
  return count;
}

export function lineChart(spec: LineChartSpec): string {
  const width = spec.width ?? 640;
  const height = spec.height ?? 480;
  const hasTitle = spec.title !== undefined && spec.title !== '';
  const top = hasTitle ? 44 : 16;
  const bottom = TICK + 6 + FONT.tick + 12 + FONT.axisLabel + 12;
  const right = 24;

  // The y ticks decide the left margin, and the x range depends on it, so the y scale is built first.
  const plotHeight = height - top - bottom;
  const ys = makeScale(spec.y, spec.series.map((s) => s.y), [top + plotHeight, top], Math.max(2, Math.round(plotHeight / 70)));
  const yLabelWidth = Math.max(...ys.ticks.map((t) => textWidth(ys.format(t), FONT.tick)));
  const left = 14 + FONT.axisLabel + 12 + yLabelWidth + TICK + 6;
  const plotWidth = width - left - right;
  if (plotWidth < 50 || plotHeight < 50) throw new RangeError(`lineChart: ${width}×${height} leaves no room to plot`);
  const xs = makeScale(spec.x, spec.series.map((s) => s.x), [left, left + plotWidth], Math.max(2, Math.round(plotWidth / 90)));
  const x0 = left;
  const x1 = left + plotWidth;
  const y0 = top + plotHeight;
  const y1 = top;

  const parts: string[] = [];
  if (spec.grid !== false) {
    const grid = [
      ...xs.ticks.map((t) => el('line', { x1: xs.map(t), y1: y0, x2: xs.map(t), y2: y1 })),
      ...ys.ticks.map((t) => el('line', { x1: x0, y1: ys.map(t), x2: x1, y2: ys.map(t) })),
    ];
    parts.push(el('g', { class: 'grid', stroke: GRID, 'stroke-width': 1 }, ...grid));
  }

  const lines = spec.series.map((s) => screenPoints(s, xs, ys));
  const drawn = spec.series.map((s, i) => {
    const color = s.color ?? colorAt(i);
    const pts = lines[i]!;
    const path = el('path', { d: polylinePath(pts) || 'M0,0', fill: 'none', stroke: color, 'stroke-width': s.strokeWidth ?? 2, 'stroke-dasharray': s.dash, 'stroke-linejoin': 'round', 'stroke-linecap': 'round' });
    const dots = s.markers === true ? pts.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => el('circle', { cx: x, cy: y, r: 3.5, fill: color })) : [];
    return el('g', { class: 'series' }, path, ...dots);
  });
  parts.push(el('clipPath', { id: 'plot-area' }, el('rect', { x: x0, y: y1, width: plotWidth, height: plotHeight })));
  parts.push(el('g', { 'clip-path': 'url(#plot-area)' }, ...drawn));
  parts.push(el('rect', { x: x0, y: y1, width: plotWidth, height: plotHeight, fill: 'none', stroke: INK, 'stroke-width': 1 }));

  const tickMarks = [
    ...xs.ticks.map((t) => el('line', { x1: xs.map(t), y1: y0, x2: xs.map(t), y2: y0 + TICK })),
    ...xs.minorTicks.map((t) => el('line', { x1: xs.map(t), y1: y0, x2: xs.map(t), y2: y0 + TICK * 0.6 })),
    ...ys.ticks.map((t) => el('line', { x1: x0 - TICK, y1: ys.map(t), x2: x0, y2: ys.map(t) })),
    ...ys.minorTicks.map((t) => el('line', { x1: x0 - TICK * 0.6, y1: ys.map(t), x2: x0, y2: ys.map(t) })),
  ];
  parts.push(el('g', { class: 'ticks', stroke: INK, 'stroke-width': 1 }, ...tickMarks));
  const tickLabels = [
    ...xs.ticks.map((t) => text(xs.format(t), { x: xs.map(t), y: y0 + TICK + 4 + FONT.tick, 'text-anchor': 'middle' })),
    ...ys.ticks.map((t) => text(ys.format(t), { x: x0 - TICK - 4, y: ys.map(t) + centralShift(FONT.tick), 'text-anchor': 'end' })),
  ];
  parts.push(el('g', { class: 'tick-labels', 'font-size': FONT.tick, fill: INK }, ...tickLabels));

  const xTitleY = y0 + TICK + 6 + FONT.tick + 12 + FONT.axisLabel * 0.8;
  const yTitleX = x0 - TICK - 6 - yLabelWidth - 12 - FONT.axisLabel * 0.2;
  const yMid = (y0 + y1) / 2;
  parts.push(text(spec.x.label, { x: (x0 + x1) / 2, y: xTitleY, 'text-anchor': 'middle', 'font-size': FONT.axisLabel, fill: INK }));
  parts.push(text(spec.y.label, { x: yTitleX, y: yMid, 'text-anchor': 'middle', 'font-size': FONT.axisLabel, fill: INK, transform: `rotate(-90 ${yTitleX.toFixed(2)} ${yMid.toFixed(2)})` }));
  if (hasTitle) parts.push(text(spec.title!, { x: (x0 + x1) / 2, y: top - 16, 'text-anchor': 'middle', 'font-size': FONT.title, fill: INK }));

  const entries: LegendEntry[] = spec.series
    .map((s, i) => ({ label: s.label, color: s.color ?? colorAt(i), dash: s.dash, marker: s.markers }))
    .filter((e) => e.label !== '');
  const place = spec.legend ?? 'best';
  if (entries.length > 0 && place !== 'none') {
    const size = legendSize(entries);
    const boxAt = (corner: (typeof CORNERS)[number]) => ({
      x: corner.endsWith('right') ? x1 - LEGEND_INSET - size.width : x0 + LEGEND_INSET,
      y: corner.startsWith('upper') ? y1 + LEGEND_INSET : y0 - LEGEND_INSET - size.height,
      ...size,
    });
    // 'best' takes the first corner with the least coverage, in matplotlib's order of preference.
    const corner = place === 'best' ? CORNERS.reduce((a, b) => (coverage(lines, boxAt(b)) < coverage(lines, boxAt(a)) ? b : a)) : place;
    const box = boxAt(corner);
    parts.push(drawLegend(entries, box.x, box.y));
  }

  return svgDocument(width, height, FONT_FAMILY, ...parts);
}
