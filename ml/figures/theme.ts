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
