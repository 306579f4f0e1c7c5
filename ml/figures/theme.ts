/** Shared look of all figures: fonts, sizes and colours (matplotlib's defaults, so they read like the seed's plots). */

export const FONT_FAMILY = "'DejaVu Sans', 'Bitstream Vera Sans', Verdana, sans-serif";

export const FONT = { title: 16, axisLabel: 14, tick: 12, legend: 12, cell: 15 } as const;

/** matplotlib's tab10 cycle. */
export const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'] as const;

export const colorAt = (i: number): string => PALETTE[i % PALETTE.length]!;

export const INK = '#222222';
export const GRID = '#e3e3e3';

/**
 * Rough rendered width of a string in DejaVu Sans: ~0.62 em per character is a
 * slight overestimate, so boxes sized with it always fit their text.
 */
export function textWidth(s: string, fontSize: number): number {
  return [...s].length * fontSize * 0.62;
}

/** Baseline offset that centres a line of text vertically on a y coordinate (instead of dominant-baseline, which renderers treat unevenly). */
export function centralShift(fontSize: number): number {
  return fontSize * 0.36;
}

/** matplotlib's "Blues" colour map, light to dark. */
export const BLUES = ['#f7fbff', '#deebf7', '#c6dbef', '#9ecae1', '#6baed6', '#4292c6', '#2171b5', '#08519c', '#08306b'];

export function blues(t: number): string {
  const x = Math.min(1, Math.max(0, t)) * (BLUES.length - 1);
  const i = Math.min(BLUES.length - 2, Math.floor(x));
  const f = x - i;
  const a = BLUES[i]!;
  const b = BLUES[i + 1]!;
  const channel = (k: number) => Math.round(parseInt(a.slice(k, k + 2), 16) * (1 - f) + parseInt(b.slice(k, k + 2), 16) * f);
  return `#${[1, 3, 5].map((k) => channel(k).toString(16).padStart(2, '0')).join('')}`;
}
