/** Confusion-matrix heatmap (rows true class, columns predicted) with the value written in each cell. */
import { linearScale } from './scale.js';
import { el, svgDocument, text } from './svg.js';
import { BLUES, blues, centralShift, FONT, FONT_FAMILY, INK, textWidth } from './theme.js';

export interface ConfusionFigureOptions {
  title: string;
  /** Show each row as fractions of its true class (the count is kept in brackets below). */
  normalize?: boolean;
}

function validate(matrix: number[][], classNames: string[]): void {
  const k = matrix.length;
  if (k === 0) throw new RangeError('confusionMatrixFigure: the matrix is empty');
  if (classNames.length !== k) throw new RangeError(`confusionMatrixFigure: ${k} rows but ${classNames.length} class names`);
  matrix.forEach((row, r) => {
    if (row.length !== k) throw new RangeError(`confusionMatrixFigure: row ${r} has ${row.length} entries, expected ${k}`);
    row.forEach((v, c) => {
      if (!Number.isFinite(v) || v < 0) throw new RangeError(`confusionMatrixFigure: entry [${r}][${c}] is ${v}; counts must be finite and >= 0`);
    });
  });
}

/**
 * Square cells shaded by value (row fractions when normalized, else counts),
 * class names on both axes and a colour bar. Throws RangeError for an empty or
 * non-square matrix, a class-name count that does not match, or negative counts.
 */
export function confusionMatrixFigure(matrix: number[][], classNames: string[], options: ConfusionFigureOptions): string {
  validate(matrix, classNames);
  const k = matrix.length;
  const normalize = options.normalize === true;
  const rowTotals = matrix.map((row) => row.reduce((a, b) => a + b, 0));
  // A row with no samples has no fractions: it is shown blank with a dash.
  const shown = matrix.map((row, r) => row.map((v) => (normalize ? (rowTotals[r]! > 0 ? v / rowTotals[r]! : Number.NaN) : v)));
  const vmax = normalize ? 1 : Math.max(1, ...matrix.flat());

  const cell = Math.min(130, Math.max(48, 390 / k));
  const valueFont = Math.min(FONT.cell, cell / 4);
  const nameWidth = Math.max(...classNames.map((n) => textWidth(n, FONT.tick)));
  // Column names are turned 45° when they would not fit under their cells.
  const rotateX = nameWidth > cell - 6;
  const left = 16 + FONT.axisLabel + 14 + nameWidth + 8;
  const top = 48;
  const gridSize = cell * k;
  // sin 45° of the (already generous) width estimate, less a little, is the height the turned names take.
  const xNamesHeight = rotateX ? nameWidth * 0.62 + FONT.tick : FONT.tick + 4;
  const bottom = 8 + xNamesHeight + 14 + FONT.axisLabel + 14;
  const barX = left + gridSize + 22;
  const barWidth = 16;
  const barScale = linearScale([0, vmax], [top + gridSize, top], { tickCount: 5, integer: !normalize && vmax >= 5 });
  const barLabelWidth = Math.max(...barScale.ticks.map((t) => textWidth(barScale.format(t), FONT.tick)));
  const width = Math.ceil(barX + barWidth + 6 + barLabelWidth + 16);
  const height = Math.ceil(top + gridSize + bottom);

  const parts: string[] = [];
  const cells: string[] = [];
  for (let r = 0; r < k; r++) {
    for (let c = 0; c < k; c++) {
      const v = shown[r]![c]!;
      const x = left + c * cell;
      const y = top + r * cell;
      const t = Number.isNaN(v) ? 0 : v / vmax;
      cells.push(el('rect', { x, y, width: cell, height: cell, fill: blues(t) }));
      const ink = t > 0.55 ? '#ffffff' : INK;
      const main = Number.isNaN(v) ? '\u2013' : normalize ? v.toFixed(2) : String(Math.round(v));
      const cx = x + cell / 2;
      const cy = y + cell / 2;
      if (normalize && !Number.isNaN(v)) {
        cells.push(text(main, { x: cx, y: cy - valueFont * 0.2, 'text-anchor': 'middle', 'font-size': valueFont, fill: ink }));
        cells.push(text(`(${Math.round(matrix[r]![c]!)})`, { x: cx, y: cy + valueFont * 1.05, 'text-anchor': 'middle', 'font-size': valueFont * 0.75, fill: ink }));
      } else {
        cells.push(text(main, { x: cx, y: cy + centralShift(valueFont), 'text-anchor': 'middle', 'font-size': valueFont, fill: ink }));
      }
    }
  }
  parts.push(el('g', { class: 'cells' }, ...cells));
  parts.push(el('rect', { x: left, y: top, width: gridSize, height: gridSize, fill: 'none', stroke: INK, 'stroke-width': 1 }));

  const names: string[] = [];
  classNames.forEach((name, i) => {
    const mid = left + (i + 0.5) * cell;
    const yName = top + gridSize + 8 + FONT.tick;
    names.push(
      rotateX
        ? text(name, { x: mid, y: yName, 'text-anchor': 'end', transform: `rotate(-45 ${mid.toFixed(2)} ${yName.toFixed(2)})` })
        : text(name, { x: mid, y: yName, 'text-anchor': 'middle' }),
    );
    names.push(text(name, { x: left - 8, y: top + (i + 0.5) * cell + centralShift(FONT.tick), 'text-anchor': 'end' }));
  });
  parts.push(el('g', { class: 'class-names', 'font-size': FONT.tick, fill: INK }, ...names));

  const xTitleY = top + gridSize + 8 + xNamesHeight + 14 + FONT.axisLabel * 0.8;
  const yTitleX = left - 8 - nameWidth - 14;
  const yMid = top + gridSize / 2;
  parts.push(text('Predicted label', { x: left + gridSize / 2, y: xTitleY, 'text-anchor': 'middle', 'font-size': FONT.axisLabel, fill: INK }));
  parts.push(text('True label', { x: yTitleX, y: yMid, 'text-anchor': 'middle', 'font-size': FONT.axisLabel, fill: INK, transform: `rotate(-90 ${yTitleX.toFixed(2)} ${yMid.toFixed(2)})` }));
  parts.push(text(options.title, { x: left + gridSize / 2, y: top - 18, 'text-anchor': 'middle', 'font-size': FONT.title, fill: INK }));

  // Colour bar: a vertical gradient through the same colour stops, with its own ticks.
  const stops = BLUES.map((color, i) => el('stop', { offset: i / (BLUES.length - 1), 'stop-color': color }));
  parts.push(el('linearGradient', { id: 'colour-bar', x1: 0, y1: 1, x2: 0, y2: 0 }, ...stops));
  parts.push(el('rect', { x: barX, y: top, width: barWidth, height: gridSize, fill: 'url(#colour-bar)', stroke: INK, 'stroke-width': 1 }));
  const barTicks = barScale.ticks.map(
    (t) =>
      el('line', { x1: barX + barWidth, y1: barScale.map(t), x2: barX + barWidth + 4, y2: barScale.map(t), stroke: INK }) +
      text(barScale.format(t), { x: barX + barWidth + 7, y: barScale.map(t) + centralShift(FONT.tick) }),
  );
  parts.push(el('g', { class: 'colour-bar', 'font-size': FONT.tick, fill: INK }, ...barTicks));

  return svgDocument(width, height, FONT_FAMILY, ...parts);
}
