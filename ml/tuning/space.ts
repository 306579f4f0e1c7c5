/**
 * A search space: hyperparameter names with their candidate values. A name is
 * either a `${hp.NAME}` placeholder in a model template, or a train param
 * (epochs, batchSize, ...). Points are plain objects, NAME → value.
 *
 * Pure: no TensorFlow.js, no storage (config checks use it too).
 */
import { Rng } from '../../common/rng.js';

export type HpValue = number | string | boolean;
export type Space = Record<string, HpValue[]>;
export type Point = Record<string, HpValue>;

/** A string that is exactly one placeholder: `${hp.NAME}`. */
const HP_REF = /^\$\{\s*hp\.([A-Za-z][A-Za-z0-9_]*)\s*\}$/;

export interface HpRef {
  name: string;
  /** Where the placeholder sits in the template. */
  path: Array<string | number>;
}

/** Every `${hp.NAME}` placeholder in a JSON value, in document order. */
export function hpRefs(template: unknown, path: Array<string | number> = []): HpRef[] {
  if (typeof template === 'string') {
    const m = HP_REF.exec(template);
    return m ? [{ name: m[1]!, path }] : [];
  }
  if (Array.isArray(template)) return template.flatMap((v, i) => hpRefs(v, [...path, i]));
  if (template !== null && typeof template === 'object') return Object.entries(template).flatMap(([k, v]) => hpRefs(v, [...path, k]));
  return [];
}

/** The template with each placeholder replaced by its value in `values` (placeholders without one stay). */
export function fillHp(template: unknown, values: Readonly<Point>): unknown {
  if (typeof template === 'string') {
    const name = HP_REF.exec(template)?.[1];
    return name !== undefined && Object.hasOwn(values, name) ? values[name] : template;
  }
  if (Array.isArray(template)) return template.map((v) => fillHp(v, values));
  if (template !== null && typeof template === 'object') return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, fillHp(v, values)]));
  return template;
}

export const gridSize = (space: Readonly<Space>) => Object.values(space).reduce((n, vs) => n * vs.length, 1);

/** The point at `index` of the grid, the last name varying fastest (as nested loops in key order). */
export function gridPoint(space: Readonly<Space>, index: number): Point {
  const names = Object.keys(space);
  const point: Point = {};
  let rest = index;
  for (let i = names.length - 1; i >= 0; i--) {
    const values = space[names[i]!]!;
    point[names[i]!] = values[rest % values.length]!;
    rest = Math.floor(rest / values.length);
  }
  return Object.fromEntries(names.map((n) => [n, point[n]!]));
}

/** Every grid point, in grid order. */
export function gridPoints(space: Readonly<Space>): Point[] {
  return Array.from({ length: gridSize(space) }, (_, i) => gridPoint(space, i));
}

/**
 * `count` distinct grid points drawn uniformly without replacement (seeded),
 * in the order drawn; all of them, in grid order, when the grid has no more.
 */
export function randomPoints(space: Readonly<Space>, count: number, seed: number): Point[] {
  const size = gridSize(space);
  if (count >= size) return gridPoints(space);
  const rng = new Rng(seed, 0x7a11);
  const taken = new Set<number>();
  const out: Point[] = [];
  while (out.length < count) {
    const i = Math.floor(rng.uniform() * size);
    if (taken.has(i)) continue;
    taken.add(i);
    out.push(gridPoint(space, i));
  }
  return out;
}

/** A point's values for the names in `names`, and the rest. */
export function splitPoint(point: Readonly<Point>, names: ReadonlySet<string>): { inside: Point; outside: Point } {
  const inside: Point = {};
  const outside: Point = {};
  for (const [k, v] of Object.entries(point)) (names.has(k) ? inside : outside)[k] = v;
  return { inside, outside };
}

/** `nh1=50 nh2=20 batchSize=64`: how a point is shown in tables and logs. */
export const describePoint = (point: Readonly<Point>) => Object.entries(point).map(([k, v]) => `${k}=${v}`).join(' ');
