/**
 * Checks a pipelines file's contents, or one pipeline given as JSON, against
 * the schemas of config/spec.ts and the caller's stage kinds and model schema.
 * Every problem is added to `out` as a finding by key path, so that one run
 * reports them all; the same checks serve YAML files and JSON specs.
 */
import { z } from 'zod';
import { dagIssues, declaredNeeds } from './dag.js';
import { ConfigError, describeValue, expectedOneOf, type ConfigPath, type Finding } from './errors.js';
import { isPlainObject } from './json.js';
import { resolveModelRef } from './models.js';
import { paramSource, resolveWith } from './params.js';
import { Identifier, PipelineSpec, StageSpec, type Params } from './spec.js';
import { StorageSpec } from '../storage/spec.js';
import { canonicalStorageRoot, DEFAULT_STORAGE_ROOT } from './storageRoot.js';
import type { ConfigVocabulary, KindSchemas } from './vocabulary.js';
import { fromZod, parseWith } from './zodIssues.js';

/** A checked file's contents. */
export interface CheckedFile {
  /** `root` is canonical: `file:///abs/path` or `s3://bucket/prefix`. */
  storage: StorageSpec;
  /** By name; `with` values keep their `${params.*}` references. */
  pipelines: Record<string, PipelineSpec>;
}

type NamedModels = Record<string, Record<string, unknown>>;

/** The file's model names that failed their own checks: stages may still name them, without a second report. */
type BrokenModels = ReadonlySet<string>;

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

/** The file's contents when its storage is valid; the caller decides by whether `out` grew. */
export function checkFile(data: unknown, baseDir: string, vocabulary: ConfigVocabulary, out: Finding[]): CheckedFile | undefined {
  if (data === null || data === undefined) {
    out.push({ path: [], message: `the file is empty; expected a mapping with the keys: ${Object.keys(FileSchema.shape).join(', ')} (pipelines is required)` });
    return undefined;
  }
  parseWith(FileSchema, data, [], out);
  const raw = isPlainObject(data) ? data : {};
  const storage = checkStorage(raw.storage, baseDir, out);
  const { models, broken } = checkModels(raw.models, vocabulary.modelSchema, out);
  const pipelines: Record<string, PipelineSpec> = {};
  if (isPlainObject(raw.pipelines)) {
    if (Object.keys(raw.pipelines).length === 0) out.push({ path: ['pipelines'], message: 'no pipelines defined; expected at least one' });
    for (const [name, body] of Object.entries(raw.pipelines)) {
      // Every pipeline carries the file's models, so its spec stands alone (workflow input, UI).
      const withModels = models && isPlainObject(body) && body.models === undefined ? { ...body, models } : body;
      const pipeline = checkPipeline(name, withModels, vocabulary.kinds, ['pipelines', name], out, broken);
      if (pipeline) pipelines[name] = pipeline;
    }
  }
  return storage ? { storage, pipelines } : undefined;
}

function checkStorage(raw: unknown, baseDir: string, out: Finding[]): StorageSpec | undefined {
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

/**
 * Each model definition against the model schema; problems are reported
 * under models.<name>. A model with problems is still known by its name
 * (listed in `broken`), so that the stages naming it are not told it is unknown.
 */
function checkModels(raw: unknown, modelSchema: z.ZodType, out: Finding[]): { models?: NamedModels; broken: BrokenModels } {
  const broken = new Set<string>();
  if (!isPlainObject(raw)) return { broken };
  const models: NamedModels = {};
  for (const [name, body] of Object.entries(raw)) {
    if (!parseWith(modelSchema, body, ['models', name], out)) broken.add(name);
    models[name] = isPlainObject(body) ? body : {};
  }
  return { models, broken };
}

/** Returns the normalized spec when this pipeline has no problems. */
export function checkPipeline(name: string, body: unknown, kinds: KindSchemas, at: ConfigPath, out: Finding[], broken: BrokenModels = new Set()): PipelineSpec | undefined {
  const before = out.length;
  parseWith(PipelineHead, body, at, out);
  const raw = isPlainObject(body) ? body : {};
  const params = checkParams(raw.params, [...at, 'params'], out);
  const rawStages = isPlainObject(raw.stages) ? raw.stages : {};
  if (isPlainObject(raw.stages) && Object.keys(rawStages).length === 0) {
    out.push({ path: [...at, 'stages'], message: 'no stages; a pipeline needs at least one stage' });
  }
  const graph: Record<string, { needs: string[] }> = {};
  const models = { defs: isPlainObject(raw.models) ? (raw.models as NamedModels) : undefined, broken };
  for (const [id, rawStage] of Object.entries(rawStages)) {
    const stage = checkStage(rawStage, params, models, kinds, [...at, 'stages', id], out);
    graph[id] = { needs: stage?.needs ?? declaredNeeds(rawStage) };
  }
  for (const issue of dagIssues(graph)) out.push({ path: [...at, 'stages', ...issue.path], message: issue.message });
  out.push(...inputRefIssues(rawStages, graph, kinds, [...at, 'stages']));
  // The name's own problem is reported where it comes from (the file's key, or the JSON's `name`).
  const ok = out.length === before && Identifier.safeParse(name).success;
  return ok ? parseWith(PipelineSpec, { ...raw, name }, at, out) : undefined;
}

/** `with` keys that name another stage (a kind's inputRefs, e.g. train's `tuned`): it must be among needs, of the right kind. */
function inputRefIssues(rawStages: Record<string, unknown>, graph: Record<string, { needs: string[] }>, kinds: KindSchemas, at: ConfigPath): Finding[] {
  const found: Finding[] = [];
  const usesOf = (id: string) => {
    const s = rawStages[id];
    return isPlainObject(s) && typeof s.uses === 'string' ? s.uses : undefined;
  };
  for (const [id, raw] of Object.entries(rawStages)) {
    const uses = usesOf(id);
    const refs = uses === undefined ? undefined : kinds.get(uses)?.inputRefs;
    const w = isPlainObject(raw) && isPlainObject(raw.with) ? raw.with : {};
    for (const [key, kind] of Object.entries(refs ?? {})) {
      const named = w[key];
      if (typeof named !== 'string' || named.includes('${')) continue;
      const path = [...at, id, 'with', key];
      const needs = graph[id]?.needs ?? [];
      if (!needs.includes(named)) found.push({ path, message: `${key}: "${named}" is not among this stage's needs (${needs.join(', ') || 'none'}); add it to needs` });
      else if (usesOf(named) !== kind) found.push({ path, message: `${key}: "${named}" is a "${usesOf(named) ?? 'unknown'}" stage; expected a "${kind}" stage` });
    }
  }
  return found;
}

function checkParams(raw: unknown, at: ConfigPath, out: Finding[]): Params | undefined {
  const params = parseWith(PipelineSpec.shape.params, raw, at, out);
  // Params are referenced as ${params.NAME} and set as --set NAME=...: names must be identifiers.
  for (const name of Object.keys(params ?? {})) {
    const problem = Identifier.safeParse(name).error?.issues[0]?.message;
    if (problem) out.push({ path: [...at, name], at: 'key', message: `invalid param name ${JSON.stringify(name)}: ${problem}` });
  }
  return params;
}

function checkStage(raw: unknown, params: Params | undefined, models: ModelRefs, kinds: KindSchemas, at: ConfigPath, out: Finding[]): StageSpec | undefined {
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

interface ModelRefs {
  defs: NamedModels | undefined;
  broken: BrokenModels;
}

/**
 * Resolves params with their defaults, then applies the kind's schema. A
 * named model that failed its own checks is not checked again at the stage.
 */
function checkWith(kind: { name: string; withSchema: z.ZodType }, template: Record<string, unknown>, params: Params, models: ModelRefs, at: ConfigPath, out: Finding[]): void {
  let named: unknown;
  let resolved: Record<string, unknown>;
  try {
    const withParams = resolveWith(template, params, at);
    named = withParams.model;
    resolved = resolveModelRef(withParams, models.defs, at);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    out.push(...err.issues);
    return;
  }
  const result = kind.withSchema.safeParse(resolved);
  const reported = typeof named === 'string' && models.broken.has(named);
  for (const issue of result.error?.issues ?? []) {
    if (reported && issue.path[0] === 'model') continue;
    for (const f of fromZod(issue, { schema: kind.withSchema, data: resolved, at, owner: `stage kind "${kind.name}"` })) {
      out.push({ ...f, message: f.message + paramSource(template, f.path.slice(at.length), params) });
    }
  }
}
