/**
 * Loads and validates pipelines.yaml. Every problem found is reported at once,
 * each with the line/column of the offending YAML node, its key path, what was
 * found and what was expected (with the valid choices for closed sets).
 *
 * Checking works on key paths (`Found`); positions are attached at the end from
 * the YAML document, so the same checks serve JSON specs that have no source.
 * The caller supplies the stage kinds and the model schema (`ConfigVocabulary`).
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { z } from 'zod';
import { dagIssues } from './dag.js';
import { ConfigError, describeValue, expectedOneOf, formatReport, type ConfigIssue, type ConfigPath } from './errors.js';
import { referencedParams, resolveWith } from './params.js';
import { Duration, Identifier, Params, ParamValue, PipelineSpec, StageSpec, StorageSpec } from './spec.js';
import { canonicalStorageRoot, DEFAULT_STORAGE_ROOT } from './storageRoot.js';
import { resolveModelRef } from './models.js';
import type { ConfigVocabulary, KindSchemas } from './vocabulary.js';

export interface PipelinesFile {
  /** The path (or label) the file was loaded under, as given. */
  file: string;
  /** `root` is canonical: `file:///abs/path` or `s3://bucket/prefix`. */
  storage: StorageSpec;
  /** By name; `with` values keep their `${params.*}` references. */
  pipelines: Record<string, PipelineSpec>;
}

export type ValidationResult = { ok: true; file: PipelinesFile } | { ok: false; issues: ConfigIssue[]; text: string };

/** A problem located by key path. `at: 'key'` points at the key itself; `offset` overrides the path. */
interface Found {
  path: ConfigPath;
  message: string;
  at?: 'key';
  offset?: number;
}

// ---------------------------------------------------------------- schemas

const FileSchema = z.strictObject({
  version: z.literal(1).optional(),
  storage: z.unknown().optional(),
  /** Named model definitions (the vocabulary's modelSchema) that stages reference as `with: { model: name }`. */
  models: z.record(Identifier, z.unknown()).optional(),
  pipelines: z.record(Identifier, z.unknown()),
});

const FileStorage = StorageSpec.extend({ root: z.string().min(1).default(DEFAULT_STORAGE_ROOT) });

/** The pipeline minus what is checked piece by piece (name from the key, params, each stage). */
const PipelineHead = PipelineSpec.omit({ name: true }).extend({ params: z.unknown().optional(), stages: z.record(Identifier, z.unknown()), models: z.unknown().optional() });

// ---------------------------------------------------------------- entry points

/** Reads and validates a pipelines.yaml; throws a ConfigError listing every problem. */
export function loadPipelinesFile(path: string, vocabulary: ConfigVocabulary): PipelinesFile {
  const result = validatePipelinesFile(path, vocabulary);
  if (!result.ok) throw new ConfigError(result.issues);
  return result.file;
}

/** For `topoflow validate`: never throws for bad input; `text` is the report with source excerpts. */
export function validatePipelinesFile(path: string, vocabulary: ConfigVocabulary): ValidationResult {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const issues = [{ file: path, path: [], message: `cannot read the file: ${(err as Error).message}` }];
    return { ok: false, issues, text: formatReport(issues) };
  }
  const result = checkText(text, path, dirname(resolve(path)), vocabulary);
  return 'issues' in result ? { ok: false, issues: result.issues, text: formatReport(result.issues, text) } : { ok: true, file: result.file };
}

/** Validates pipelines.yaml text; `baseDir` anchors relative storage roots. Throws a ConfigError listing every problem. */
export function parsePipelinesText(text: string, fileLabel: string, baseDir: string, vocabulary: ConfigVocabulary): PipelinesFile {
  const result = checkText(text, fileLabel, baseDir, vocabulary);
  if ('issues' in result) throw new ConfigError(result.issues);
  return result.file;
}

function checkText(text: string, fileLabel: string, baseDir: string, vocabulary: ConfigVocabulary): { file: PipelinesFile } | { issues: ConfigIssue[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const found = syntaxIssues(doc, position);
  // After a syntax error the document's shape is a guess: report only those.
  const checked = found.length === 0 ? checkFile(doc, position, baseDir, vocabulary, found) : undefined;
  if (checked && found.length === 0) return { file: { file: fileLabel, ...checked } };
  const issues = found.map((f) => ({ file: fileLabel, ...(f.offset !== undefined ? position(f.offset) : locate(f, doc, position)), path: f.path, message: f.message }));
  return { issues: issues.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0)) };
}

/** Validates a pipeline spec given as JSON (UI, workflow input). Issues carry key paths only. */
export function validateInlinePipeline(spec: unknown, vocabulary: ConfigVocabulary): PipelineSpec {
  const found: Found[] = [];
  if (!isPlainObject(spec)) throw new ConfigError([{ path: [], message: `expected a pipeline spec (a mapping), got ${describeValue(spec)}` }]);
  const { name, ...body } = spec;
  parseWith(PipelineSpec.pick({ name: true }), { name }, [], found);
  const pipeline = checkPipeline(String(name), body, vocabulary.kinds, [], found);
  if (found.length > 0 || !pipeline) throw new ConfigError(found.map(({ path, message }) => ({ path, message })));
  return pipeline;
}

// ---------------------------------------------------------------- checks

/** The file's contents when its storage is valid; the caller decides by whether `out` grew. */
function checkFile(doc: Document, position: Position, baseDir: string, vocabulary: ConfigVocabulary, out: Found[]): Omit<PipelinesFile, 'file'> | undefined {
  out.push(...duplicateKeys(doc, position));
  const data: unknown = doc.toJS();
  if (data === null || data === undefined) {
    out.push({ path: [], message: `the file is empty; expected a mapping with the keys: ${Object.keys(FileSchema.shape).join(', ')} (pipelines is required)` });
    return undefined;
  }
  parseWith(FileSchema, data, [], out);
  const raw = isPlainObject(data) ? data : {};
  const storage = checkStorage(raw.storage, baseDir, out);
  const models = checkModels(raw.models, vocabulary.modelSchema, out);
  const pipelines: Record<string, PipelineSpec> = {};
  if (isPlainObject(raw.pipelines)) {
    if (Object.keys(raw.pipelines).length === 0) out.push({ path: ['pipelines'], message: 'no pipelines defined; expected at least one' });
    for (const [name, body] of Object.entries(raw.pipelines)) {
      // Every pipeline carries the file's models, so its spec stands alone (workflow input, UI).
      const withModels = models && isPlainObject(body) && body.models === undefined ? { ...body, models } : body;
      const pipeline = checkPipeline(name, withModels, vocabulary.kinds, ['pipelines', name], out);
      if (pipeline) pipelines[name] = pipeline;
    }
  }
  return storage ? { storage, pipelines } : undefined;
}

function checkStorage(raw: unknown, baseDir: string, out: Found[]): StorageSpec | undefined {
  const at = ['storage'];
  // `storage:` left empty means all defaults.
  const parsed = parseWith(FileStorage, raw ?? {}, at, out);
  if (!parsed) return undefined;
  // `localhost:9000` parses as a URL with scheme "localhost:"; S3 clients need http(s).
  if (parsed.endpoint !== undefined && !/^https?:\/\//i.test(parsed.endpoint)) {
    out.push({ path: [...at, 'endpoint'], message: `expected an http:// or https:// URL such as http://127.0.0.1:9000, got ${describeValue(parsed.endpoint)}` });
    return undefined;
  }
  let root: string;
  try {
    root = canonicalStorageRoot(parsed.root, baseDir);
  } catch (err) {
    out.push({ path: [...at, 'root'], message: (err as Error).message });
    return undefined;
  }
  return parseWith(StorageSpec, { ...parsed, root }, at, out);
}

/** Each model definition against the model schema; problems are reported under models.<name>. */
function checkModels(raw: unknown, modelSchema: z.ZodType, out: Found[]): Record<string, Record<string, unknown>> | undefined {
  if (!isPlainObject(raw)) return undefined;
  const models: Record<string, Record<string, unknown>> = {};
  for (const [name, body] of Object.entries(raw)) {
    if (parseWith(modelSchema, body, ['models', name], out)) models[name] = body as Record<string, unknown>;
  }
  return models;
}

/** Returns the normalized spec when this pipeline has no problems. */
function checkPipeline(name: string, body: unknown, kinds: KindSchemas, at: ConfigPath, out: Found[]): PipelineSpec | undefined {
  const before = out.length;
  parseWith(PipelineHead, body, at, out);
  const raw = isPlainObject(body) ? body : {};
  const params = checkParams(raw.params, [...at, 'params'], out);
  const rawStages = isPlainObject(raw.stages) ? raw.stages : {};
  if (isPlainObject(raw.stages) && Object.keys(rawStages).length === 0) {
    out.push({ path: [...at, 'stages'], message: 'no stages; a pipeline needs at least one stage' });
  }
  const graph: Record<string, { needs: string[] }> = {};
  const models = isPlainObject(raw.models) ? (raw.models as Record<string, Record<string, unknown>>) : undefined;
  for (const [id, rawStage] of Object.entries(rawStages)) {
    const stage = checkStage(rawStage, params, models, kinds, [...at, 'stages', id], out);
    graph[id] = { needs: stage?.needs ?? rawNeeds(rawStage) };
  }
  for (const issue of dagIssues(graph)) out.push({ path: [...at, 'stages', ...issue.path], message: issue.message });
  // The name's own problem is reported where it comes from (the file's key, or the JSON's `name`).
  const ok = out.length === before && Identifier.safeParse(name).success;
  return ok ? parseWith(PipelineSpec, { ...raw, name }, at, out) : undefined;
}

/** A stage's needs even when another of its fields is wrong, so that its DAG problems are reported too. */
function rawNeeds(stage: unknown): string[] {
  const needs = isPlainObject(stage) ? stage.needs : undefined;
  return Array.isArray(needs) && needs.every((n) => typeof n === 'string') ? needs : [];
}

function checkParams(raw: unknown, at: ConfigPath, out: Found[]): Params | undefined {
  const params = parseWith(PipelineSpec.shape.params, raw, at, out);
  // Params are referenced as ${params.NAME} and set as --set NAME=...: names must be identifiers.
  for (const name of Object.keys(params ?? {})) {
    const problem = Identifier.safeParse(name).error?.issues[0]?.message;
    if (problem) out.push({ path: [...at, name], at: 'key', message: `invalid param name ${JSON.stringify(name)}: ${problem}` });
  }
  return params;
}

function checkStage(raw: unknown, params: Params | undefined, models: Record<string, Record<string, unknown>> | undefined, kinds: KindSchemas, at: ConfigPath, out: Found[]): StageSpec | undefined {
  const stage = parseWith(StageSpec, raw, at, out);
  // `uses` and `with` are checked even when another field is wrong, to report everything at once.
  const fields = isPlainObject(raw) ? raw : {};
  const uses = typeof fields.uses === 'string' && fields.uses !== '' ? fields.uses : undefined;
  const kind = uses === undefined ? undefined : kinds.get(uses);
  if (uses !== undefined && !kind) {
    out.push({ path: [...at, 'uses'], message: `unknown stage kind "${uses}"; ${expectedOneOf(kinds.names(), uses)}` });
  }
  const template = fields.with ?? {};
  if (uses !== undefined && kind && params && isPlainObject(template)) checkWith({ name: uses, withSchema: kind.withSchema }, template, params, models, [...at, 'with'], out);
  return stage;
}

/** Resolves params with their defaults, then applies the kind's schema. */
function checkWith(kind: { name: string; withSchema: z.ZodType }, template: Record<string, unknown>, params: Params, models: Record<string, Record<string, unknown>> | undefined, at: ConfigPath, out: Found[]): void {
  let resolved: Record<string, unknown>;
  try {
    resolved = resolveModelRef(resolveWith(template, params, at), models, at);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    out.push(...err.issues);
    return;
  }
  const result = kind.withSchema.safeParse(resolved);
  for (const issue of result.error?.issues ?? []) {
    for (const f of fromZod(issue, { schema: kind.withSchema, data: resolved, at, owner: `stage kind "${kind.name}"` })) {
      out.push({ ...f, message: f.message + paramSource(template, f.path.slice(at.length), params) });
    }
  }
}

/** `; the value comes from "${params.events}" (param "events" = "abc")` when the value at `path` was a template. */
function paramSource(template: unknown, path: ConfigPath, params: Params): string {
  let value = template;
  for (const seg of path) {
    if (typeof value === 'string' || !(isPlainObject(value) || Array.isArray(value))) break;
    value = (value as Record<string | number, unknown>)[seg];
  }
  const names = typeof value === 'string' ? referencedParams(value) : [];
  if (names.length === 0) return '';
  const values = names.map((n) => `param "${n}" = ${JSON.stringify(params[n])}`).join(', ');
  return `; the value comes from ${JSON.stringify(value)} (${values})`;
}

// ---------------------------------------------------------------- zod issues → messages

interface ZodContext {
  schema: z.core.$ZodType;
  data: unknown;
  /** Path of `data` in the file. */
  at: ConfigPath;
  /** Who defines the allowed keys, for unknown-key messages (e.g. `stage kind "count"`). */
  owner?: string;
}

function parseWith<S extends z.ZodType>(schema: S, data: unknown, at: ConfigPath, out: Found[]): z.output<S> | undefined {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  for (const issue of result.error.issues) out.push(...fromZod(issue, { schema, data, at }));
  return undefined;
}

/** One zod issue as findings that say what was found and what was expected. */
function fromZod(issue: z.core.$ZodIssue, ctx: ZodContext): Found[] {
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
function unionFindings(issue: z.core.$ZodIssueInvalidUnion, ctx: ZodContext): Found[] {
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

/** Human name of a record key, from where the record sits. */
function keyLabel(path: ConfigPath): string {
  const labels: Record<string, string> = { pipelines: 'pipeline name', stages: 'stage id', params: 'param name' };
  return labels[String(path[path.length - 2])] ?? 'key';
}

function valueAt(data: unknown, path: ConfigPath): unknown {
  let value = data;
  for (const seg of path) value = isPlainObject(value) || Array.isArray(value) ? (value as Record<string | number, unknown>)[seg] : undefined;
  return value;
}

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

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ---------------------------------------------------------------- YAML positions

type Position = (offset: number) => { line: number; column: number };

/** yaml's errors, the first on each line (the parser cascades), with an unclosed quote shown where it opens. */
function syntaxIssues(doc: Document, position: Position): Found[] {
  const lines = new Set<number>();
  const found: Found[] = [];
  for (const error of doc.errors) {
    const quoteStart = error.code === 'MISSING_CHAR' ? unclosedQuoteStart(doc, error.pos[0]) : undefined;
    const offset = quoteStart ?? error.pos[0];
    const line = position(offset).line;
    if (lines.has(line)) continue;
    lines.add(line);
    const message =
      error.code === 'MULTIPLE_DOCS'
        ? 'a second YAML document starts here; pipelines.yaml must hold exactly one'
        : error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    const detail = quoteStart === undefined ? message : `${message}: the string that starts here is never closed`;
    found.push({ path: [], offset, message: `YAML syntax error: ${detail}` });
  }
  return found;
}

function unclosedQuoteStart(doc: Document, errorOffset: number): number | undefined {
  let start: number | undefined;
  walk(doc.contents, (node) => {
    const quoted = isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE');
    if (quoted && node.range && node.range[0] < errorOffset && errorOffset <= node.range[1]) start = node.range[0];
  });
  return start;
}

function walk(node: unknown, visit: (node: YamlNode) => void): void {
  if (!isNode(node)) return;
  visit(node);
  if (isMap(node)) for (const pair of node.items) [pair.key, pair.value].forEach((n) => walk(n, visit));
  if (isSeq(node)) for (const item of node.items) walk(item, visit);
}

/**
 * Reports keys repeated within a mapping (yaml's "Map keys must be unique",
 * with both lines) and drops the repeats from the document, so that what is
 * checked next matches what positions point at: the first definition.
 */
function duplicateKeys(doc: Document, position: Position): Found[] {
  const found: Found[] = [];
  const visit = (node: unknown, path: ConfigPath): void => {
    if (isSeq(node)) node.items.forEach((item, i) => visit(item, [...path, i]));
    if (!isMap(node)) return;
    const first = new Map<string, YamlNode>();
    node.items = node.items.filter((pair) => {
      if (!isScalar(pair.key)) return true;
      const key = String(pair.key.value);
      const earlier = first.get(key);
      if (!earlier) {
        first.set(key, pair.key);
        visit(pair.value, [...path, key]);
        return true;
      }
      const [a, b] = [earlier.range![0], pair.key.range![0]];
      const lines = `defined at lines ${position(a).line} and ${position(b).line}`;
      found.push({ path: [...path, key], offset: b, message: `duplicate ${keyLabel([...path, key])} "${key}": ${lines}` });
      return false;
    });
  };
  visit(doc.contents, []);
  return found;
}

/**
 * Where a finding points: the value node at its path (or the key, for
 * `at: 'key'`); when that is missing or empty, the key of the nearest
 * existing ancestor.
 */
function locate(f: Found, doc: Document, position: Position): { line?: number; column?: number } {
  const value = f.at === 'key' ? undefined : doc.getIn(f.path, true);
  if (isNode(value) && value.range && value.range[0] < value.range[1]) return position(value.range[0]);
  for (let n = f.path.length; n > 0; n--) {
    const key = keyNode(doc, f.path.slice(0, n));
    if (key?.range) return position(key.range[0]);
  }
  return isNode(doc.contents) && doc.contents.range ? position(doc.contents.range[0]) : {};
}

/** The key node of a mapping entry, or the item node of a list entry. */
function keyNode(doc: Document, path: ConfigPath): YamlNode | undefined {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  if (isSeq(parent) && typeof last === 'number') return isNode(parent.items[last]) ? parent.items[last] : undefined;
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === String(last));
  return isNode(pair?.key) ? pair.key : undefined;
}
