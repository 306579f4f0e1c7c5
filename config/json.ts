/**
 * Reading parsed YAML or JSON input before it is validated, when any shape may
 * turn up. Pure (no Node built-ins): config/params.ts, which workflows import,
 * uses it.
 */
import type { ConfigPath } from './errors.js';

/** A mapping: not null, not a list. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at `path`, or undefined where the path leaves the data. */
export function valueAt(data: unknown, path: ConfigPath): unknown {
  let value = data;
  for (const seg of path) value = isPlainObject(value) || Array.isArray(value) ? (value as Record<string | number, unknown>)[seg] : undefined;
  return value;
}
