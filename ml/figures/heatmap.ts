/** A heat map of a value over two categorical axes (e.g. a sweep's metric over two hyperparameters), the value written in each cell. */
import { el, svgDocument, text } from './svg.js';
import { blues, centralShift, FONT, FONT_FAMILY, INK, textWidth } from './theme.js';

export interface HeatmapOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Digits after the point in the cells. */
  digits?: number;
}

/** `values[r][c]` for row r (y axis, top to bottom) and column c (x axis); NaN cells are blank. */
export function heatmapFigure(values: number[][], rowNames: string[], colNames: string[], options: HeatmapOptions): string {
  if (values.length !== rowNames.length || values.some((row) => row.length !== colNames.length)) {
    throw new RangeError(`heatmapFigure: expected ${rowNames.length} rows of ${colNames.length} values`);
  }
  const finite = values.flat().filter(Number.isFinite);
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  const shade = (v: number) => (high > low ? (v - low) / (high - low) : 0.5);
  const cell = Math.min(110, Math.max(56, 420 / Math.max(rowNames.length, colNames.length)));
  const rowNameWidth = Math.max(...rowNames.map((n) => textWidth(n, FONT.tick)));
  const left = 16 + FONT.axisLabel + 12 + rowNameWidth + 8;
  const top = 48;
  const width = Math.ceil(left + cell * colNames.length + 24);
  const height = Math.ceil(top + cell * rowNames.length + 8 + FONT.tick + 14 + FONT.axisLabel + 14);
  const digits = options.digits ?? 4;
  const valueFont = Math.min(FONT.cell, cell / 4.5);

  const cells: string[] = [];
  values.forEach((row, r) =>
    row.forEach((v, c) => {
      const x = left + c * cell;
      const y = top + r * cell;
      const t = Number.isFinite(v) ? shade(v) : 0;
      cells.push(el('rect', { x, y, width: cell, height: cell, fill: Number.isFinite(v) ? blues(t) : '#ffffff', stroke: '#ffffff' }));
      cells.push(text(Number.isFinite(v) ? v.toFixed(digits) : '\u2013', { x: x + cell / 2, y: y + cell / 2 + centralShift(valueFont), 'text-anchor': 'middle', 'font-size': valueFont, fill: t > 0.55 ? '#ffffff' : INK }));
    }),
  );
  const gridW = cell * colNames.length;
  const gridH = cell * rowNames.length;
  const names = [
    ...colNames.map((n, c) => text(n, { x: left + (c + 0.5) * cell, y: top + gridH + 8 + FONT.tick, 'text-anchor': 'middle' })),
    ...rowNames.map((n, r) => text(n, { x: left - 8, y: top + (r + 0.5) * cell + centralShift(FONT.tick), 'text-anchor': 'end' })),
  ];
  const yTitleX = left - 8 - rowNameWidth - 12;
  const yMid = top + gridH / 2;
  return svgDocument(
    width,
    height,
    FONT_FAMILY,
    el('g', { class: 'cells' }, ...cells),
    el('rect', { x: left, y: top, width: gridW, height: gridH, fill: 'none', stroke: INK, 'stroke-width': 1 }),
    el('g', { 'font-size': FONT.tick, fill: INK }, ...names),
    text(options.xLabel, { x: left + gridW / 2, y: top + gridH + 8 + FONT.tick + 14 + FONT.axisLabel * 0.8, 'text-anchor': 'middle', 'font-size': FONT.axisLabel, fill: INK }),
    text(options.yLabel, { x: yTitleX, y: yMid, 'text-anchor': 'middle', 'font-size': FONT.axisLabel, fill: INK, transform: `rotate(-90 ${yTitleX.toFixed(2)} ${yMid.toFixed(2)})` }),
    text(options.title, { x: width / 2, y: top - 18, 'text-anchor': 'middle', 'font-size': FONT.title, fill: INK }),
  );
}
