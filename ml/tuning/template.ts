/**
 * Model templates: model definitions whose values may be `${hp.NAME}`
 * placeholders, filled from a sweep's points. Checks say where a problem is:
 * the placeholder without a space entry, the space key that names nothing,
 * the value that makes the model invalid.
 */
import { z } from 'zod';
import { ModelSpec } from '../modelSpec.js';
import { fillHp, hpRefs, type HpValue, type Point, type Space } from './space.js';

type Path = Array<string | number>;
type Issue = { path: Path; message: string };

const samePath = (a: readonly PropertyKey[], b: Path) => a.length === b.length && a.every((s, i) => s === b[i]);

/**
 * A model definition as the `models:` section holds it: a valid model once
 * its placeholders are filled. Problems at a placeholder are left to the tune
 * stage that fills it; everything else is checked here. The value is kept as
 * written (placeholders and all).
 */
export const ModelTemplate = z.unknown().superRefine((value, ctx) => {
  const refs = hpRefs(value);
  const parsed = ModelSpec.safeParse(value);
  for (const issue of parsed.error?.issues ?? []) {
    if (refs.some((r) => samePath(issue.path, r.path))) continue;
    ctx.addIssue({ code: 'custom', path: issue.path, message: issue.message });
  }
});

/** What a sweep may vary besides placeholders: train params, each with its own schema. */
export type ParamSchemas = Record<string, z.ZodType>;

/** Every problem of a template with a space, at paths relative to the stage's `with` (`model…`, `space…`). */
export function spaceIssues(template: unknown, space: Readonly<Space>, params: ParamSchemas): Issue[] {
  const issues: Issue[] = [];
  const refs = hpRefs(template);
  const hpNames = new Set(refs.map((r) => r.name));
  for (const ref of refs) {
    if (!Object.hasOwn(space, ref.name)) issues.push({ path: ['model', ...ref.path], message: `\${hp.${ref.name}} has no entry in space; add space.${ref.name}: [values]` });
  }
  const known = [...hpNames, ...Object.keys(params)];
  for (const [name, values] of Object.entries(space)) {
    if (hpNames.has(name)) continue;
    const schema = params[name];
    if (!schema) {
      issues.push({ path: ['space', name], message: `"${name}" is neither a \${hp.NAME} placeholder of the model nor a train param; expected one of: ${known.join(', ')}` });
      continue;
    }
    values.forEach((v, i) => {
      const r = schema.safeParse(v);
      if (!r.success) issues.push({ path: ['space', name, i], message: `${JSON.stringify(v)} is not a valid ${name}: ${r.error.issues[0]!.message}` });
    });
  }
  if (issues.some((i) => i.path[0] === 'model')) return issues;
  // The template with every placeholder at its first value: problems here are the model's own.
  const first: Point = Object.fromEntries([...hpNames].map((n) => [n, space[n]![0]!]));
  const base = ModelSpec.safeParse(fillHp(template, first));
  if (!base.success) {
    const atRef = (p: readonly PropertyKey[]) => refs.find((r) => samePath(p, r.path));
    for (const issue of base.error.issues) {
      const ref = atRef(issue.path);
      if (ref) issues.push({ path: ['space', ref.name, 0], message: `${JSON.stringify(first[ref.name])} does not fit \${hp.${ref.name}} at model.${ref.path.join('.')}: ${issue.message}` });
      else issues.push({ path: ['model', ...(issue.path as Path)], message: issue.message });
    }
    return issues;
  }
  // Each other value in turn, the rest at their first.
  for (const name of hpNames) {
    space[name]!.slice(1).forEach((v: HpValue, j) => {
      const r = ModelSpec.safeParse(fillHp(template, { ...first, [name]: v }));
      if (!r.success) issues.push({ path: ['space', name, j + 1], message: `${JSON.stringify(v)} does not fit \${hp.${name}}: ${r.error.issues[0]!.message} at model.${r.error.issues[0]!.path.join('.')}` });
    });
  }
  return issues;
}
