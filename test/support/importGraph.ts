/**
 * The project's import graph, for the architecture check: which source file
 * imports which (static, re-export and dynamic imports of relative paths),
 * its import cycles, and the imports that run against the declared layer order.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import ts from 'typescript';

/** file (relative to the root, `a/b.ts`) → the files it imports. */
export type ImportGraph = Map<string, Set<string>>;

/** Layers from top to bottom; each layer is a set of top-level folders. */
export type LayerOrder = string[][];

/** Relative module specifiers a TypeScript source imports (`./x.js`, `../y/index.js`), as TypeScript's own pre-processor finds them. */
export function importSpecifiers(source: string): string[] {
  const { importedFiles } = ts.preProcessFile(source, true, true);
  return importedFiles.map((f) => f.fileName).filter((name) => name.startsWith('.'));
}

/** The `.ts` file a specifier of `from` names (ESM specifiers end in `.js`). */
export function resolveSpecifier(from: string, specifier: string): string {
  return normalize(join(dirname(from), specifier)).replace(/\.js$/, '.ts');
}

const SKIP = new Set(['node_modules', 'dist', 'data', '.git', '.tools', '.venv', '.venv-bench', 'shared']);

/** Every `.ts` file under root (relative paths, `/`-separated), build outputs and dependencies left out. */
export function sourceFiles(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return SKIP.has(e.name) ? [] : sourceFiles(root, join(dir, e.name));
    return e.name.endsWith('.ts') ? [relative(root, join(dir, e.name)).split('\\').join('/')] : [];
  });
}

export function buildGraph(sources: Map<string, string>): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const [file, source] of sources) graph.set(file, new Set(importSpecifiers(source).map((s) => resolveSpecifier(file, s))));
  return graph;
}

/** Strongly connected components of more than one file, or a file importing itself: each is a cycle. */
export function findCycles(graph: ImportGraph): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.has(v)) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

export const topFolder = (file: string): string => (file.includes('/') ? file.slice(0, file.indexOf('/')) : '.');

/**
 * Imports between top-level folders that do not run from a higher layer to a
 * strictly lower one, and folders the order does not name, as readable lines.
 */
export function layerViolations(graph: ImportGraph, order: LayerOrder): string[] {
  const rank = new Map(order.flatMap((layer, i) => layer.map((folder) => [folder, i] as const)));
  const problems = new Set<string>();
  for (const [from, targets] of graph) {
    const a = topFolder(from);
    if (!rank.has(a)) problems.add(`${from}: folder "${a}" is not in the layer order`);
    for (const to of targets) {
      const b = topFolder(to);
      if (a === b || !rank.has(a)) continue;
      if (!rank.has(b)) problems.add(`${from} imports ${to}: folder "${b}" is not in the layer order`);
      else if (rank.get(b)! <= rank.get(a)!) problems.add(`${from} imports ${to}: "${a}" may import only layers below it, and "${b}" is ${rank.get(b) === rank.get(a) ? 'in the same layer' : 'above it'}`);
    }
  }
  return [...problems].sort();
}

/**
 * The layer order as the README declares it: the first line after the
 * "Layer order" heading text of the form `` `a` > `b`, `c` > `d` `` (top first;
 * commas join folders of one layer).
 */
export function layerOrderFromReadme(readme: string): LayerOrder {
  const after = readme.slice(readme.indexOf('Layer order'));
  const line = after.split('\n').find((l) => /^`[\w-]+`( *[>,] *`[\w-]+`)+\s*$/.test(l.trim()));
  if (!line) throw new Error('README.md: no layer order line (`a` > `b`, `c` > …) after "Layer order"');
  return line.split('>').map((layer) => layer.split(',').map((f) => f.trim().replace(/^`|`$/g, '')));
}

export function projectGraph(root: string): ImportGraph {
  return buildGraph(new Map(sourceFiles(root).map((f) => [f, readFileSync(join(root, f), 'utf8')])));
}
