/**
 * The layering the README declares, enforced: no import cycles between source
 * files, and every import between top-level folders runs from a higher layer
 * to a lower one. The checker itself is tested first on small graphs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../infra/tools.js';
import { buildGraph, findCycles, importSpecifiers, layerOrderFromReadme, layerViolations, projectGraph, sourceFiles, topFolder } from './support/importGraph.js';

const graphOf = (files: Record<string, string>) => buildGraph(new Map(Object.entries(files)));

test('importSpecifiers: static, type-only, re-export, side-effect and dynamic imports; not comments or packages', () => {
  const src = [
    "import { a } from './a.js';",
    "import type { B } from '../b/index.js';",
    'import {\n  c,\n  d,\n} from "./cd.js";',
    "export { e } from './e.js';",
    "export * from './f.js';",
    "import './side.js';",
    "const g = await import('../g.js');",
    "import { z } from 'zod';",
    "// import { no } from './commented.js';",
    "/* import { no } from './blocked.js'; */",
  ].join('\n');
  assert.deepEqual(importSpecifiers(src), ['./a.js', '../b/index.js', './cd.js', './e.js', './f.js', './side.js', '../g.js']);
});

test('findCycles: finds a three-file cycle and a self-import, and nothing in a DAG', () => {
  const dag = graphOf({ 'a/x.ts': "import './y.js';", 'a/y.ts': "import '../b/z.js';", 'b/z.ts': '' });
  assert.deepEqual(findCycles(dag), []);
  const cyclic = graphOf({ 'a/x.ts': "import './y.js';", 'a/y.ts': "import '../b/z.js';", 'b/z.ts': "import '../a/x.js';", 'c/s.ts': "import './s.js';" });
  assert.deepEqual(findCycles(cyclic).sort(), [['a/x.ts', 'a/y.ts', 'b/z.ts'], ['c/s.ts']]);
});

test('layerViolations: upward, same-layer and unknown-folder imports are reported; downward ones are not', () => {
  const order = [['app'], ['mid', 'side'], ['low']];
  const graph = graphOf({
    'app/main.ts': "import '../mid/m.js'; import '../low/l.js';",
    'mid/m.ts': "import '../low/l.js'; import '../side/s.js';",
    'side/s.ts': '',
    'low/l.ts': "import '../app/main.js';",
    'extra/e.ts': '',
  });
  assert.deepEqual(layerViolations(graph, order), [
    'extra/e.ts: folder "extra" is not in the layer order',
    'low/l.ts imports app/main.ts: "low" may import only layers below it, and "app" is above it',
    'mid/m.ts imports side/s.ts: "mid" may import only layers below it, and "side" is in the same layer',
  ]);
});

test('layerOrderFromReadme parses the declared order', () => {
  assert.deepEqual(layerOrderFromReadme('## Layout\n\nLayer order, top first:\n\n`cli` > `a`, `b` > `common`\n'), [['cli'], ['a', 'b'], ['common']]);
  assert.throws(() => layerOrderFromReadme('## Layout\n\nno order here\n'), /no layer order line/);
});

test('the project: no import cycles, every import runs down the layer order in README.md, every folder placed', () => {
  const order = layerOrderFromReadme(readFileSync(join(projectRoot, 'README.md'), 'utf8'));
  const graph = projectGraph(projectRoot);
  assert.ok(graph.size > 100, `found ${graph.size} source files`);
  const folders = new Set(sourceFiles(projectRoot).map(topFolder));
  for (const layer of order) for (const folder of layer) assert.ok(folders.has(folder), `README layer order names "${folder}", which holds no .ts files`);
  assert.deepEqual(findCycles(graph), [], 'import cycles');
  assert.deepEqual(layerViolations(graph, order), [], 'imports against the layer order');
});
