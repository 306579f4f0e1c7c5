/**
 * Pipeline params: `${params.NAME}` references inside a stage's `with`, CLI
 * `--set key=value` overrides, and type-checked merging of overrides. Pure (no
 * Node built-ins): workflow code imports it.
 *
 * A string that is exactly `${params.NAME}` becomes the param's value with its
 * type; inside other text the value is interpolated (lists joined with ",").
 * `$${` stands for a literal `${`. Only values are templates, never keys.
 * `${hp.NAME}` (a tune stage's placeholder) is left as written.
 */
import { ConfigError, describeValue, expectedOneOf, type ConfigIssue, type ConfigPath } from './errors.js';
import { isPlainObject } from './json.js';
import type { Params, ParamValue } from './spec.js';

type ParamScalar = string | number | boolean;
type Piece = { text: string } | { param: string };

const TOKEN = /\$\$\{|\$\{([^}]*)(\}?)/g;
const REFERENCE = /^params\.([A-Za-z][A-Za-z0-9_-]*)$/;
/** `${hp.NAME}`: a tune stage's placeholder, left for the stage to fill. */
const HP_PLACEHOLDER = /^hp\.[A-Za-z][A-Za-z0-9_]*$/;
const LITERAL_HINT = 'write "$${" for a literal "${"';

/** Splits a template string into text and references; `problems` lists malformed `${...}`. */
function scan(template: string): { pieces: Piece[]; problems: string[] } {
  const pieces: Piece[] = [];
  const problems: string[] = [];
  const pushText = (text: string) => {
    const last = pieces[pieces.length - 1];
    if (last && 'text' in last) last.text += text;
    else if (text) pieces.push({ text });
  };
  let from = 0;
  for (const m of template.matchAll(TOKEN)) {
    pushText(template.slice(from, m.index));
    from = m.index + m[0].length;
    const ref = REFERENCE.exec((m[1] ?? '').trim());
    if (m[0] === '$${') pushText('${');
    else if (m[2] && HP_PLACEHOLDER.test((m[1] ?? '').trim())) pushText(m[0]);
    else if (!m[2]) problems.push(`unclosed "\${" in ${JSON.stringify(template)}; expected \${params.NAME}, or ${LITERAL_HINT}`);
    else if (!ref) problems.push(`unsupported reference "${m[0]}"; expected \${params.NAME}, or ${LITERAL_HINT}`);
    else pieces.push({ param: ref[1]! });
  }
  pushText(template.slice(from));
  return { pieces, problems };
}

/** Applies `visit` to every string inside a JSON value, rebuilding the value. */
function mapStrings(value: unknown, path: ConfigPath, visit: (s: string, path: ConfigPath) => unknown): unknown {
  if (typeof value === 'string') return visit(value, path);
  if (Array.isArray(value)) return value.map((v, i) => mapStrings(v, [...path, i], visit));
  if (isPlainObject(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, [...path, k], visit)]));
  }
  return value;
}

/**
 * Substitutes params into a stage's `with`. Throws a ConfigError listing every
 * unknown or malformed reference, each at its key path (`path` is prepended).
 */
export function resolveWith(withTemplate: Readonly<Record<string, unknown>>, params: Params, path: ConfigPath = []): Record<string, unknown> {
  const issues: ConfigIssue[] = [];
  const resolved = mapStrings(withTemplate, path, (template, at) => {
    const { pieces, problems } = scan(template);
    const unknown = pieces.flatMap((p) => ('param' in p && !Object.hasOwn(params, p.param) ? [p.param] : []));
    for (const message of problems) issues.push({ path: at, message });
    for (const name of unknown) issues.push({ path: at, message: unknownParamMessage(name, template, params) });
    return problems.length + unknown.length > 0 ? template : substitute(pieces, params);
  });
  if (issues.length > 0) throw new ConfigError(issues);
  return resolved as Record<string, unknown>;
}

function unknownParamMessage(name: string, template: string, params: Params): string {
  const names = Object.keys(params);
  const choices = names.length > 0 ? expectedOneOf(names, name) : 'the pipeline declares no params';
  return `unknown param "${name}" in ${JSON.stringify(template)}; ${choices}`;
}

function substitute(pieces: Piece[], params: Params): unknown {
  const only = pieces.length === 1 ? pieces[0]! : undefined;
  if (only && 'param' in only) {
    const value = params[only.param]!;
    return Array.isArray(value) ? [...value] : value;
  }
  return pieces.map((p) => ('text' in p ? p.text : String(params[p.param]))).join('');
}

/** Names of the params a `with` (or any JSON value) refers to, each once, in order of appearance. */
export function referencedParams(withTemplate: unknown): string[] {
  const names = new Set<string>();
  mapStrings(withTemplate, [], (template) => {
    for (const piece of scan(template).pieces) if ('param' in piece) names.add(piece.param);
  });
  return [...names];
}

/**
 * `; the value comes from "${params.events}" (param "events" = "abc")` when the
 * value at `path` in a stage's `with` was a template, to explain a schema
 * problem found after substitution; '' otherwise.
 */
export function paramSource(withTemplate: unknown, path: ConfigPath, params: Params): string {
  let value = withTemplate;
  // Stops at a template string: a param may stand for a list, which the path then goes into.
  for (const seg of path) {
    if (typeof value === 'string' || !(isPlainObject(value) || Array.isArray(value))) break;
    value = (value as Record<string | number, unknown>)[seg];
  }
  const names = typeof value === 'string' ? referencedParams(value) : [];
  if (names.length === 0) return '';
  const values = names.map((n) => `param "${n}" = ${JSON.stringify(params[n])}`).join(', ');
  return `; the value comes from ${JSON.stringify(value)} (${values})`;
}

/**
 * Parses CLI `--set key=value` arguments into param overrides (only the keys
 * given; the last wins when repeated). Values take the type of the param's
 * default: numbers must be finite, booleans are true/false/1/0/yes/no, lists
 * are comma-separated with elements typed like the default's first element.
 */
export function parseSetArgs(args: readonly string[], defaults: Params): Params {
  const issues: ConfigIssue[] = [];
  const overrides: Params = {};
  for (const arg of args) {
    const eq = arg.indexOf('=');
    const key = arg.slice(0, eq).trim();
    if (eq <= 0 || key === '') {
      issues.push({ path: [], message: `malformed --set ${JSON.stringify(arg)}; expected KEY=VALUE${setExample(defaults)}` });
    } else if (!Object.hasOwn(defaults, key)) {
      issues.push({ path: ['params', key], message: `unknown param "${key}" (--set ${arg}); ${paramChoices(defaults, key)}` });
    } else {
      const coerced = coerce(arg.slice(eq + 1), defaults[key]!);
      if ('value' in coerced) overrides[key] = coerced.value;
      else issues.push({ path: ['params', key], message: `${coerced.error} (--set ${arg})` });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return overrides;
}

function setExample(defaults: Params): string {
  const [name, value] = Object.entries(defaults)[0] ?? [];
  return name === undefined ? '' : `, e.g. --set ${name}=${Array.isArray(value) ? value.join(',') : String(value)}`;
}

function paramChoices(defaults: Params, found: string): string {
  const names = Object.keys(defaults);
  return names.length > 0 ? expectedOneOf(names, found) : 'the pipeline declares no params';
}

type Coerced<T> = { value: T } | { error: string };

function coerce(raw: string, like: ParamValue): Coerced<ParamValue> {
  if (!Array.isArray(like)) return coerceScalar(raw, like, `${typeName(like)} like the default ${JSON.stringify(like)}`);
  if (raw.trim() === '') return { value: [] };
  const values: ParamScalar[] = [];
  for (const [i, part] of raw.split(',').entries()) {
    const element = like[0] ?? '';
    const c = coerceScalar(part.trim(), element, `a list of ${typeName(element)}s like the default ${JSON.stringify(like)}`);
    if ('error' in c) return { error: `${c.error} at element ${i + 1}` };
    values.push(c.value);
  }
  return { value: values };
}

const BOOLEAN_WORDS: Record<string, boolean> = { true: true, false: false, 1: true, 0: false, yes: true, no: false };

function coerceScalar(raw: string, like: ParamScalar, expected: string): Coerced<ParamScalar> {
  if (typeof like === 'string') return { value: raw };
  if (typeof like === 'number') {
    const n = Number(raw.trim());
    if (raw.trim() !== '' && Number.isFinite(n)) return { value: n };
  } else {
    const b = BOOLEAN_WORDS[raw.trim().toLowerCase()];
    if (b !== undefined) return { value: b };
  }
  return { error: `expected ${expected}, got ${JSON.stringify(raw)}${typeof like === 'boolean' ? ' (use true/false, 1/0 or yes/no)' : ''}` };
}

function typeName(value: ParamScalar): string {
  return typeof value === 'boolean' ? 'boolean' : typeof value;
}

/**
 * Defaults with `overrides` applied, after checking that every override names
 * a declared param and has the type of its default (no coercion: JSON input
 * from the UI or a workflow start). Throws a ConfigError listing every problem.
 */
export function mergeParams(defaults: Params, overrides: unknown): Params {
  if (!isPlainObject(overrides)) {
    throw new ConfigError([{ path: ['params'], message: `expected a mapping of param overrides, got ${describeValue(overrides)}` }]);
  }
  const issues: ConfigIssue[] = [];
  for (const [key, value] of Object.entries(overrides)) {
    const problem = Object.hasOwn(defaults, key) ? typeProblem(value, defaults[key]!) : `unknown param "${key}"; ${paramChoices(defaults, key)}`;
    if (problem) issues.push({ path: ['params', key], message: problem });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return { ...defaults, ...(overrides as Params) };
}

function typeProblem(value: unknown, like: ParamValue): string | undefined {
  const expected = `expected ${Array.isArray(like) ? 'a list' : `a ${typeName(like)}`} like the default ${JSON.stringify(like)}, got ${describeValue(value)}`;
  if (!Array.isArray(like)) return isScalarLike(value, like) ? undefined : expected;
  if (!Array.isArray(value)) return expected;
  const bad = value.findIndex((v) => !isScalarLike(v, like[0]));
  return bad < 0 ? undefined : `${expected}; element ${bad + 1} is ${describeValue(value[bad])}`;
}

/** Same scalar type as `like` (any scalar when there is no example element). */
function isScalarLike(value: unknown, like: ParamScalar | undefined): boolean {
  if (typeof value === 'number' && !Number.isFinite(value)) return false;
  if (like === undefined) return ['string', 'number', 'boolean'].includes(typeof value);
  return typeof value === typeof like;
}
