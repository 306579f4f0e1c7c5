/**
 * Loads and validates pipelines.yaml. Every problem found is reported at once,
 * each with the line/column of the offending YAML node, its key path, what was
 * found and what was expected (with the valid choices for closed sets).
 *
 * Checking works on key paths (config/specChecks.ts); positions are attached
 * at the end from the YAML document (config/yamlPositions.ts), so the same
 * checks serve JSON specs that have no source. The caller supplies the stage
 * kinds and the model schema (`ConfigVocabulary`).
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError, describeValue, formatReport, type ConfigIssue, type Finding } from './errors.js';
import { isPlainObject } from './json.js';
import { PipelineSpec } from './spec.js';
import { checkFile, checkPipeline, type CheckedFile } from './specChecks.js';
import type { ConfigVocabulary } from './vocabulary.js';
import { duplicateKeys, locateAll, parseYaml, syntaxIssues } from './yamlPositions.js';
import { parseWith } from './zodIssues.js';

export interface PipelinesFile extends CheckedFile {
  /** The path (or label) the file was loaded under, as given. */
  file: string;
}

/** Pipelines files are small; anything larger is a mistake (or an attack) and is refused before parsing. */
export const MAX_PIPELINES_BYTES = 4 * 1024 * 1024;
/** YAML aliases a file may expand (the yaml library's own default; an alias bomb needs far more). */
export const MAX_YAML_ALIASES = 100;

export type ValidationResult = { ok: true; file: PipelinesFile } | { ok: false; issues: ConfigIssue[]; text: string };

/** Reads and validates a pipelines.yaml; throws a ConfigError listing every problem. */
export function loadPipelinesFile(path: string, vocabulary: ConfigVocabulary): PipelinesFile {
  const result = validatePipelinesFile(path, vocabulary);
  if (!result.ok) throw new ConfigError(result.issues);
  return result.file;
}

/** For `topoflow validate`: never throws for bad input; `text` is the report with source excerpts. */
export function validatePipelinesFile(path: string, vocabulary: ConfigVocabulary): ValidationResult {
  let text: string;
  const refuse = (message: string): ValidationResult => {
    const issues = [{ file: path, path: [], message }];
    return { ok: false, issues, text: formatReport(issues) };
  };
  try {
    const { size } = statSync(path);
    if (size > MAX_PIPELINES_BYTES) return refuse(`the file is ${size} bytes; a pipelines file may have at most ${MAX_PIPELINES_BYTES} (it was not parsed)`);
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return refuse(`cannot read the file: ${(err as Error).message}`);
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
  if (text.length > MAX_PIPELINES_BYTES) {
    return { issues: [{ file: fileLabel, path: [], message: `the text is ${text.length} characters; a pipelines file may have at most ${MAX_PIPELINES_BYTES} (it was not parsed)` }] };
  }
  const { doc, position } = parseYaml(text);
  const found = syntaxIssues(doc, text, position);
  // After a syntax error the document's shape is a guess: report only those.
  let checked: CheckedFile | undefined;
  if (found.length === 0) {
    // Drops repeated keys from the document before its data is read.
    found.push(...duplicateKeys(doc, position));
    const data = dataOf(doc, found);
    if (data !== undefined) checked = checkFile(data, baseDir, vocabulary, found);
  }
  if (checked && found.length === 0) return { file: { file: fileLabel, ...checked } };
  return { issues: locateAll(found, fileLabel, doc, position) };
}

/** Validates a pipeline spec given as JSON (UI, workflow input). Issues carry key paths only. */
export function validateInlinePipeline(spec: unknown, vocabulary: ConfigVocabulary): PipelineSpec {
  const found: Finding[] = [];
  if (!isPlainObject(spec)) throw new ConfigError([{ path: [], message: `expected a pipeline spec (a mapping), got ${describeValue(spec)}` }]);
  const { name, ...body } = spec;
  parseWith(PipelineSpec.pick({ name: true }), { name }, [], found);
  const pipeline = checkPipeline(String(name), body, vocabulary.kinds, [], found);
  if (found.length > 0 || !pipeline) throw new ConfigError(found.map(({ path, message }) => ({ path, message })));
  return pipeline;
}

/** The document's data, or undefined after recording why it cannot be expanded (too many aliases). */
function dataOf(doc: ReturnType<typeof parseYaml>['doc'], found: Finding[]): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    if (!(err instanceof ReferenceError) && !/alias/i.test((err as Error).message)) throw err;
    found.push({ path: [], message: `the YAML expands more than ${MAX_YAML_ALIASES} aliases (an "alias bomb"?); write the values out or use fewer aliases` });
    return undefined;
  }
}
