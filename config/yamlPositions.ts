/**
 * Where problems sit in pipelines.yaml. Checks find problems by key path
 * (`Finding`); this module reads the YAML document to give each its
 * file:line:column, and reports what only the document shows: syntax errors
 * and keys repeated within a mapping.
 */
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import { keyLabel, type ConfigIssue, type ConfigPath, type Finding } from './errors.js';
import { derails, syntaxMessage } from './yamlSyntax.js';

/** 1-based line and column of a source offset. */
export type Position = (offset: number) => { line: number; column: number };

/** Keeps repeated keys in the document, so that `duplicateKeys` can report them with both lines. */
export function parseYaml(text: string): { doc: Document; position: Position } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false });
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  return { doc, position };
}

/** The findings as issues of `file`, in source order (those without a line last). */
export function locateAll(found: readonly Finding[], file: string, doc: Document, position: Position): ConfigIssue[] {
  const issues = found.map((f) => ({ file, ...(f.offset !== undefined ? position(f.offset) : locate(f, doc, position)), path: f.path, message: f.message }));
  return issues.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity) || (a.column ?? 0) - (b.column ?? 0));
}

/**
 * yaml's errors in the project's words (config/yamlSyntax.ts), one per
 * mistake: the first on each line, and nothing after an error that derails
 * the parser (a tab, a bad indentation), whose followers only echo it. An
 * unclosed quote is shown where it opens.
 */
export function syntaxIssues(doc: Document, text: string, position: Position): Finding[] {
  const lines = new Set<number>();
  const found: Finding[] = [];
  for (const error of doc.errors) {
    const quoteStart = error.code === 'MISSING_CHAR' ? unclosedQuoteStart(doc, error.pos[0]) : undefined;
    const worded = error.code === 'MULTIPLE_DOCS' ? { message: 'a second YAML document starts here; pipelines.yaml must hold exactly one' } : syntaxMessage(error, text);
    const offset = quoteStart ?? worded.offset ?? error.pos[0];
    const line = position(offset).line;
    if (!lines.has(line)) {
      lines.add(line);
      const detail = quoteStart === undefined ? worded.message : `${worded.message}: the string that starts here is never closed`;
      found.push({ path: [], offset, message: `YAML syntax error: ${detail}` });
    }
    if (derails(error)) break;
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
export function duplicateKeys(doc: Document, position: Position): Finding[] {
  const found: Finding[] = [];
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
function locate(f: Finding, doc: Document, position: Position): { line?: number; column?: number } {
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
