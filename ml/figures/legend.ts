/** A matplotlib-style legend box: a line sample (and marker) per entry, then its label. */
import { el, text } from './svg.js';
import { centralShift, FONT, INK, textWidth } from './theme.js';

export interface LegendEntry {
  label: string;
  color: string;
  dash?: string | undefined;
  marker?: boolean | undefined;
}

const PAD = 8;
const SAMPLE = 28;
const GAP = 8;
const ROW = FONT.legend * 1.6;

export function legendSize(entries: LegendEntry[]): { width: number; height: number } {
  const widest = Math.max(0, ...entries.map((e) => textWidth(e.label, FONT.legend)));
  return { width: PAD * 2 + SAMPLE + GAP + widest, height: PAD * 2 + ROW * entries.length - (ROW - FONT.legend) };
}

/** The legend with its top-left corner at (x, y). */
export function drawLegend(entries: LegendEntry[], x: number, y: number): string {
  const { width, height } = legendSize(entries);
  const rows = entries.map((e, i) => {
    const mid = y + PAD + i * ROW + FONT.legend / 2;
    return (
      el('line', { x1: x + PAD, y1: mid, x2: x + PAD + SAMPLE, y2: mid, stroke: e.color, 'stroke-width': 2, 'stroke-dasharray': e.dash }) +
      (e.marker === true ? el('circle', { cx: x + PAD + SAMPLE / 2, cy: mid, r: 3.5, fill: e.color }) : '') +
      text(e.label, { x: x + PAD + SAMPLE + GAP, y: mid + centralShift(FONT.legend), 'font-size': FONT.legend, fill: INK })
    );
  });
  return el(
    'g',
    { class: 'legend' },
    el('rect', { x, y, width, height, rx: 3, fill: '#ffffff', 'fill-opacity': 0.85, stroke: '#cccccc' }),
    ...rows,
  );
}
