/** Axis scales: data value → pixel, plus the tick positions and labels to draw. */

export interface Scale {
  /** Data domain [low, high] shown on the axis. */
  domain: [number, number];
  map(v: number): number;
  /** Labelled ticks. */
  ticks: number[];
  /** Unlabelled minor ticks (log scales only). */
  minorTicks: number[];
  format(v: number): string;
}

/** Tick spacing of 1, 2 or 5 × 10^k giving about `count` intervals over `span`. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const f = raw / magnitude;
  // Round to the nearest of 1, 2, 5, 10 on a log scale (the cut points are their geometric means).
  return (f < Math.SQRT2 ? 1 : f < Math.sqrt(10) ? 2 : f < Math.sqrt(50) ? 5 : 10) * magnitude;
}

/** Decimals needed to print multiples of `step` exactly. */
function decimalsFor(step: number): number {
  return Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
}

export interface LinearOptions {
  /** About how many tick intervals to aim for. */
  tickCount?: number;
  /** Only whole-number ticks (epochs). */
  integer?: boolean;
}

export function linearScale(domain: [number, number], range: [number, number], options: LinearOptions = {}): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  if (!(d1 > d0)) throw new RangeError(`linearScale: empty domain [${d0}, ${d1}]`);
  let step = niceStep(d1 - d0, options.tickCount ?? 5);
  if (options.integer === true) step = Math.max(1, Math.round(step));
  const decimals = decimalsFor(step);
  const ticks: number[] = [];
  // Ticks as integer multiples of the step, rounded, so 0.1 + 0.2 never prints as 0.30000000000000004.
  for (let i = Math.ceil(d0 / step - 1e-9); i * step <= d1 + step * 1e-9; i++) ticks.push(Number((i * step).toFixed(decimals)));
  return {
    domain: [d0, d1],
    map: (v) => r0 + ((v - d0) / (d1 - d0)) * (r1 - r0),
    ticks,
    minorTicks: [],
    format: (v) => (Object.is(v, -0) ? 0 : v).toFixed(decimals),
  };
}

const SUPERSCRIPT: Record<string, string> = {
  '-': '\u207B', '0': '\u2070', '1': '\u00B9', '2': '\u00B2', '3': '\u00B3', '4': '\u2074',
  '5': '\u2075', '6': '\u2076', '7': '\u2077', '8': '\u2078', '9': '\u2079',
};

/** "10⁻³" written with Unicode superscripts (DejaVu Sans has them), so no tspan layout is needed. */
export function powerOfTen(exponent: number): string {
  return '10' + [...String(exponent)].map((c) => SUPERSCRIPT[c] ?? c).join('');
}

/** Base-10 log scale; the domain must be positive. Labelled ticks at powers of ten, minor ticks at 2..9 × 10^k. */
export function logScale(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  if (!(d0 > 0 && d1 > d0)) throw new RangeError(`logScale: the domain must be positive and increasing, got [${d0}, ${d1}]`);
  const l0 = Math.log10(d0);
  const l1 = Math.log10(d1);
  const ticks: number[] = [];
  const minorTicks: number[] = [];
  for (let e = Math.floor(l0); e <= Math.ceil(l1); e++) {
    for (let m = 1; m < 10; m++) {
      const v = m * 10 ** e;
      if (v < d0 * (1 - 1e-9) || v > d1 * (1 + 1e-9)) continue;
      (m === 1 ? ticks : minorTicks).push(v);
    }
  }
  return {
    domain: [d0, d1],
    map: (v) => (v > 0 ? r0 + ((Math.log10(v) - l0) / (l1 - l0)) * (r1 - r0) : Number.NaN),
    ticks,
    minorTicks,
    format: (v) => powerOfTen(Math.round(Math.log10(v))),
  };
}
