/**
 * zod's issues as findings that say what was found and what was expected,
 * with the valid choices for closed sets (unknown keys, enums). Findings
 * carry key paths only; config/yamlPositions.ts places them in the file.
 */
import type { z } from 'zod';
import { describeValue, expectedOneOf, keyLabel, type ConfigPath, type Finding } from './errors.js';
import { valueAt } from './json.js';
import { Duration, ParamValue } from './spec.js';

export interface ZodContext {
  schema: z.core.$ZodType;
  data: unknown;
  /** Path of `data` in the file. */
  at: ConfigPath;
  /** Who defines the allowed keys, for unknown-key messages (e.g. `stage kind "count"`). */
  owner?: string;
}

/** The parsed value, or undefined after adding the problems to `out`. */
export function parseWith<S extends z.ZodType>(schema: S, data: unknown, at: ConfigPath, out: Finding[]): z.output<S> | undefined {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  for (const issue of result.error.issues) out.push(...fromZod(issue, { schema, data, at }));
  return undefined;
}

/** One zod issue as findings that say what was found and what was expected. */
export function fromZod(issue: z.core.$ZodIssue, ctx: ZodContext): Finding[] {
  const rel = issue.path.map((seg) => (typeof seg === 'symbol' ? String(seg) : seg));
  const path = [...ctx.at, ...rel];
  const value = valueAt(ctx.data, rel);
  const got = `got ${describeValue(value)}`;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(ctx.schema, rel);
      const owner = ctx.owner ? ` for ${ctx.owner}` : '';
      const choices = (key: string) => (allowed.length > 0 ? expectedOneOf(allowed, key) : 'no keys are allowed here');
      return issue.keys.map((key) => ({ path: [...path, key], at: 'key', message: `unknown key "${key}"${owner}; ${choices(key)}` }));
    }
    case 'invalid_key':
      return [{ path, at: 'key', message: `invalid ${keyLabel(path)} ${JSON.stringify(rel[rel.length - 1])}: ${issue.issues.map((i) => i.message).join('; ')}` }];
    case 'invalid_type':
      if (value === undefined && rel.length > 0) {
        return [{ path: path.slice(0, -1), at: 'key', message: `missing required key "${String(rel[rel.length - 1])}" (${typeWord(issue.expected)})` }];
      }
      return [{ path, message: `expected ${typeWord(issue.expected)}, ${got}${listHint(issue.expected, value)}` }];
    case 'invalid_union':
      return unionFindings(issue, { ...ctx, schema: schemaAt(ctx.schema, rel) ?? ctx.schema, data: value, at: path });
    case 'invalid_value':
      return [{ path, message: `expected ${issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of: ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`}, ${got}` }];
    case 'too_small':
    case 'too_big':
      return [{ path, message: `${rangeMessage(issue)}, ${got}` }];
    case 'invalid_format':
      return [{ path, message: `${issue.format === 'regex' ? issue.message : `expected a valid ${issue.format === 'url' ? 'URL' : issue.format}`}, ${got}` }];
    default:
      return [{ path, message: issue.message }];
  }
}

/**
 * A union fails when no option matches. If an option has the right type but
 * a failed check (a string that is not a duration), its issues say the most;
 * otherwise list the types the options accept.
 */
function unionFindings(issue: z.core.$ZodIssueInvalidUnion, ctx: ZodContext): Finding[] {
  const options = def(ctx.schema).options ?? [];
  const typeMismatch = (issues: z.core.$ZodIssue[]) => issues.every((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_union'));
  const closest = issue.errors.findIndex((issues) => !typeMismatch(issues));
  if (closest >= 0) {
    const schema = options[closest] ?? ctx.schema;
    return issue.errors[closest]!.flatMap((i) => fromZod(i, { ...ctx, schema }));
  }
  const types = [...new Set(issue.errors.flatMap(expectedTypes))];
  const list = types.length > 1 ? `${types.slice(0, -1).join(', ')} or ${types[types.length - 1]}` : (types[0] ?? 'a valid value');
  return [{ path: ctx.at, message: `expected ${UNION_NAMES.get(ctx.schema) ?? list}, got ${describeValue(ctx.data)}` }];
}

/** Unions whose option types alone would read poorly ("a number or a string"). */
const UNION_NAMES = new Map<z.core.$ZodType, string>([
  [Duration, 'a duration such as "500ms", "30s", "5m", "2h", or a number of milliseconds'],
  [ParamValue, 'a string, a number, a boolean (true/false) or a list of those'],
]);

function expectedTypes(issues: z.core.$ZodIssue[]): string[] {
  return issues.flatMap((i) => (i.code === 'invalid_type' ? [typeWord(i.expected)] : i.code === 'invalid_union' ? i.errors.flatMap(expectedTypes) : []));
}

function typeWord(expected: string): string {
  const words: Record<string, string> = {
    object: 'a mapping',
    record: 'a mapping',
    array: 'a list',
    string: 'a string',
    number: 'a number',
    int: 'an integer',
    boolean: 'a boolean (true/false)',
  };
  return words[expected] ?? expected;
}

/** A single item where a list is expected: `needs: generate` → suggest `[generate]`. */
function listHint(expected: string, value: unknown): string {
  return expected === 'array' && ['string', 'number'].includes(typeof value) ? `; write a list, e.g. [${String(value)}]` : '';
}

function rangeMessage(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig): string {
  const small = issue.code === 'too_small';
  const limit = 'minimum' in issue ? issue.minimum : issue.maximum;
  const op = small ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
  switch (issue.origin) {
    case 'number':
    case 'int':
    case 'bigint':
      return `expected a number ${op} ${limit}`;
    case 'string':
      return small && Number(limit) === 1 ? 'expected a non-empty string' : `expected a string with length ${op} ${limit}`;
    case 'array':
      return `expected a list with ${op} ${limit} items`;
    default:
      return issue.message;
  }
}

// ---------------------------------------------------------------- schema structure

interface SchemaDef {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  valueType?: z.core.$ZodType;
  element?: z.core.$ZodType;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  options?: z.core.$ZodType[];
}

function def(schema: z.core.$ZodType): SchemaDef {
  return schema._zod.def;
}

/** Sees through optional/default/nullable/... wrappers and pipes. */
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  const d = def(schema);
  const inner = d.innerType ?? (d.type === 'pipe' ? d.in : undefined);
  return inner ? unwrap(inner) : schema;
}

/** The sub-schema that validates the value at `path`, when the schema's structure says. */
function schemaAt(schema: z.core.$ZodType, path: ConfigPath): z.core.$ZodType | undefined {
  let current: z.core.$ZodType | undefined = unwrap(schema);
  for (const seg of path) {
    const d: SchemaDef = def(current);
    current = d.type === 'object' ? d.shape?.[String(seg)] : d.type === 'record' ? d.valueType : d.type === 'array' ? d.element : undefined;
    if (!current) return undefined;
    current = unwrap(current);
  }
  return current;
}

function allowedKeysAt(schema: z.core.$ZodType, path: ConfigPath): string[] {
  const target = schemaAt(schema, path);
  return target && def(target).type === 'object' ? Object.keys(def(target).shape ?? {}) : [];
}
