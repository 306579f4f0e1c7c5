/**
 * Named models: a stage writes `with: { model: inclusive }` and gets the
 * definition from the file's `models:` section, with its name. Inline
 * definitions pass through unchanged; the stage kind's schema checks both.
 */
import { ConfigError, expectedOneOf, type ConfigPath } from './errors.js';

export function resolveModelRef(w: Record<string, unknown>, models: Record<string, Record<string, unknown>> | undefined, at: ConfigPath): Record<string, unknown> {
  if (typeof w.model !== 'string') return w;
  const def = models?.[w.model];
  if (!def) {
    const known = Object.keys(models ?? {});
    const hint = known.length ? expectedOneOf(known, w.model) : 'the file has no models: section';
    throw new ConfigError([{ path: [...at, 'model'], message: `unknown model "${w.model}"; ${hint}` }]);
  }
  return { ...w, model: { name: w.model, ...def } };
}
