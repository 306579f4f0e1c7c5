/**
 * pipelines.yaml loading and validation (positions and wording of every
 * message), plus the pure DAG and param helpers.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { projectRoot } from '../infra/tools.js';
import { configVocabulary } from '../stages/configVocabulary.js';
import { KindRegistry } from '../stages/registry.js';
import type { StageKind } from '../stages/kind.js';
import { ConfigError, didYouMean, formatIssue, formatPath, formatReport, type ConfigIssue } from '../config/errors.js';
import { dagIssues, downstreamOf, findCycle, topoOrder } from '../config/dag.js';
import { mergeParams, parseSetArgs, referencedParams, resolveWith } from '../config/params.js';
import { loadPipelinesFile, parsePipelinesText, validateInlinePipeline, validatePipelinesFile } from '../config/load.js';
import { prepareRun } from '../runtime/prepare.js';
import { ModelSpec } from '../ml/modelSpec.js';

const fixtures = join(projectRoot, 'test', 'fixtures', 'config');

function kind(name: string, withSchema: z.ZodType): StageKind {
  return { name, version: '1', description: `test kind ${name}`, type: 'simple', withSchema, run: () => Promise.resolve({}) };
}

const registry = new KindRegistry([
  kind('noop', z.strictObject({})),
  kind('count', z.strictObject({ events: z.number().int().positive(), label: z.string().optional() })),
  kind('train', z.strictObject({ epochs: z.number().int().positive(), features: z.array(z.string()).default([]), options: z.record(z.string(), z.unknown()).optional() })),
]);
const kinds = configVocabulary(registry);
/** For the model-*.yaml fixtures: a `train` kind whose `with` takes a model (named or inline). */
const modelKinds = configVocabulary(new KindRegistry([kind('train', z.strictObject({ model: ModelSpec, epochs: z.number().int().positive().optional() }))]));

/** Runs `fn`, expecting a ConfigError, and returns its issues. */
function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.issues;
  }
  assert.fail('expected a ConfigError');
}

// ---------------------------------------------------------------- malformed files

interface Expected {
  line?: number;
  column?: number;
  /** formatPath(issue.path) */
  path: string;
  /** Substrings of the message: what was found, what was expected, the valid choices. */
  says: string[];
}

const KINDS = 'expected one of: count, noop, train';
const STAGE_KEYS = 'expected one of: uses, needs, with, retry, timeout, heartbeatTimeout, queue, description';

const malformed: Record<string, Expected[]> = {
  'syntax-unclosed-quote.yaml': [{ line: 3, column: 18, path: '', says: ['YAML syntax error', 'Missing closing "quote', 'never closed'] }],
  'tab-indent.yaml': [{ line: 3, column: 1, path: '', says: ['YAML syntax error', 'Tabs are not allowed as indentation'] }],
  'bad-indent.yaml': [{ line: 5, column: 1, path: '', says: ['YAML syntax error', 'same column'] }],
  'unknown-top-key.yaml': [
    { line: 1, column: 1, path: '', says: ['missing required key "pipelines"'] },
    { line: 2, column: 1, path: 'pipeline', says: ['unknown key "pipeline"', 'expected one of: version, storage, models, pipelines', 'did you mean "pipelines"?'] },
  ],
  'unknown-stage-key.yaml': [{ line: 7, column: 9, path: 'pipelines.demo.stages.ingest.need', says: ['unknown key "need"', STAGE_KEYS, 'did you mean "needs"?'] }],
  'cycle.yaml': [{ line: 4, column: 32, path: 'pipelines.demo.stages.a.needs[0]', says: ['cycle: a → b → c → a', 'b needs a, c needs b, a needs c'] }],
  'self-need.yaml': [{ line: 5, column: 35, path: 'pipelines.demo.stages.b.needs[1]', says: ['stage "b" needs itself'] }],
  'unknown-needs.yaml': [{ line: 8, column: 13, path: 'pipelines.demo.stages.ingest.needs[0]', says: ['unknown stage "genrate"', 'expected one of: generate', 'did you mean "generate"?'] }],
  'duplicate-stage-id.yaml': [{ line: 6, column: 7, path: 'pipelines.demo.stages.train', says: ['duplicate stage id "train"', 'lines 4 and 6'] }],
  'duplicate-needs.yaml': [{ line: 5, column: 35, path: 'pipelines.demo.stages.b.needs[1]', says: ['"a" is listed twice in needs', 'needs[0]'] }],
  'unknown-kind.yaml': [{ line: 5, column: 15, path: 'pipelines.demo.stages.train.uses', says: ['unknown stage kind "trian"', KINDS, 'did you mean "train"?'] }],
  'bad-param-type.yaml': [
    { line: 9, column: 19, path: 'pipelines.demo.stages.count.with.events', says: ['expected a number, got string "abc"', '"${params.events}"', 'param "events" = "abc"'] },
  ],
  'param-list-element.yaml': [
    { line: 7, column: 28, path: 'pipelines.demo.stages.t.with.features[0]', says: ['expected a string, got number 1', 'param "flags" = [1,2]'] },
    { line: 7, column: 28, path: 'pipelines.demo.stages.t.with.features[1]', says: ['expected a string, got number 2'] },
  ],
  'unknown-param-ref.yaml': [
    { line: 7, column: 25, path: 'pipelines.demo.stages.count.with.events', says: ['unknown param "evnts"', 'expected one of: events, seed', 'did you mean "events"?'] },
  ],
  'bad-reference-syntax.yaml': [
    { line: 6, column: 35, path: 'pipelines.demo.stages.count.with.label', says: ['unsupported reference "${env.HOME}"', 'expected ${params.NAME}', '"$${"'] },
  ],
  'alias-bomb.yaml': [{ line: 2, column: 1, path: '', says: ['expands more than 100 aliases', 'alias bomb'] }],
  'bad-duration.yaml': [{ line: 6, column: 18, path: 'pipelines.demo.stages.a.timeout', says: ['expected a duration such as "500ms"', 'got string "5 minutes"'] }],
  'bad-retry.yaml': [{ line: 7, column: 24, path: 'pipelines.demo.stages.a.retry.maxAttempts', says: ['expected a number >= 1, got number 0'] }],
  'bad-storage-root.yaml': [{ line: 2, column: 9, path: 'storage.root', says: ['unsupported storage root "ftp://x"', 'file:///absolute/path or s3://bucket/prefix'] }],
  'bad-endpoint.yaml': [{ line: 3, column: 13, path: 'storage.endpoint', says: ['http:// or https://', 'got string "localhost:9000"'] }],
  'bad-s3-bucket.yaml': [{ line: 2, column: 9, path: 'storage.root', says: ['invalid S3 root "s3://Bad_Bucket/x"', 'bucket name of 3-63 lowercase letters', 'but "Bad_Bucket" has uppercase letters and contains "_"'] }],
  'bad-s3-prefix.yaml': [{ line: 2, column: 9, path: 'storage.root', says: ['invalid S3 root "s3://bucket/runs/../x"', 'the prefix "runs/../x" is not a valid storage key ("..'] }],
  'bad-version.yaml': [{ line: 1, column: 10, path: 'version', says: ['expected 1, got number 2'] }],
  'empty-stages.yaml': [{ line: 4, column: 13, path: 'pipelines.demo.stages', says: ['no stages', 'at least one stage'] }],
  'missing-stages.yaml': [{ line: 2, column: 3, path: 'pipelines.demo', says: ['missing required key "stages"', 'a mapping'] }],
  'bad-pipeline-name.yaml': [{ line: 3, column: 3, path: 'pipelines.1st-try', says: ['invalid pipeline name "1st-try"', 'expected an identifier'] }],
  'unknown-with-key.yaml': [
    { line: 6, column: 9, path: 'pipelines.demo.stages.count.with', says: ['missing required key "events"', 'a number'] },
    { line: 7, column: 11, path: 'pipelines.demo.stages.count.with.evnts', says: ['unknown key "evnts" for stage kind "count"', 'expected one of: events, label'] },
  ],
  'needs-string.yaml': [{ line: 7, column: 16, path: 'pipelines.demo.stages.ingest.needs', says: ['expected a list, got string "generate"', '[generate]'] }],
  'missing-uses.yaml': [{ line: 4, column: 7, path: 'pipelines.demo.stages.a', says: ['missing required key "uses"'] }],
  'bad-param-value.yaml': [{ line: 5, column: 13, path: 'pipelines.demo.params.cuts', says: ['expected a string, a number, a boolean (true/false) or a list of those', 'got a mapping'] }],
  // One error per mistake, in the project's words: the parser's echoes of a tab or a bad indentation are dropped.
  'tab-cascade.yaml': [{ line: 6, column: 1, path: '', says: ['YAML syntax error', 'Tabs are not allowed as indentation', 'replace the tab with spaces'] }],
  'compact-mapping.yaml': [{ line: 6, column: 16, path: '', says: ['YAML syntax error: a mapping cannot start on the same line as its key', 'on its own line', '{ key: value }'] }],
  'indent-under-value.yaml': [{ line: 6, column: 11, path: '', says: ['YAML syntax error: this line is indented further than the key above it, which already has a value'] }],
  'missing-colon.yaml': [{ line: 3, column: 5, path: '', says: ['YAML syntax error: expected `key: value`', 'a colon, or the space after it, is missing'] }],
  'list-on-key-line.yaml': [{ line: 7, column: 16, path: '', says: ['YAML syntax error: a `- ` list cannot start on the same line as its key', '[a, b]'] }],
  // A model with a problem is reported once, under models.<name>; the stages that name it are not told it is unknown.
  'model-layer-typo.yaml': [
    { line: 6, column: 9, path: 'models.particle_sequence.layers[1]', says: ['unknown key(s) "recurentActivation" for a gru layer', 'recurrentActivation'] },
  ],
  'model-last-layer.yaml': [{ line: 6, column: 9, path: 'models.hlf.layers[1]', says: ['the last layer must be { dense: 3, activation: softmax }', 'QCD, ttbar, W+jets'] }],
  'empty-file.yaml': [{ path: '', says: ['the file is empty', 'version, storage, models, pipelines'] }],
  'many-problems.yaml': [
    { line: 2, column: 9, path: 'storage.root', says: ['unsupported storage root'] },
    { line: 6, column: 18, path: 'pipelines.demo.stages.a.uses', says: ['unknown stage kind "nop"', KINDS] },
    { line: 7, column: 32, path: 'pipelines.demo.stages.b.needs[0]', says: ['unknown stage "zz"', 'expected one of: a'] },
    { line: 7, column: 46, path: 'pipelines.demo.stages.b.timeout', says: ['got string "soon"'] },
    { line: 9, column: 13, path: 'pipelines.other.stages', says: ['no stages'] },
  ],
};

describe('malformed pipelines.yaml files', () => {
  test('the table covers at least 18 files', () => assert.ok(Object.keys(malformed).length >= 18));

  for (const [name, expected] of Object.entries(malformed)) {
    test(name, () => {
      const file = join(fixtures, 'bad', name);
      const result = validatePipelinesFile(file, name.startsWith('model-') ? modelKinds : kinds);
      assert.equal(result.ok, false, `${name} should be rejected`);
      if (result.ok) return;
      const shown = result.issues.map(formatIssue).join('\n');
      assert.equal(result.issues.length, expected.length, `issues for ${name}:\n${shown}`);
      expected.forEach((want, i) => {
        const issue = result.issues[i]!;
        assert.equal(issue.file, file);
        assert.equal(issue.line, want.line, `line of: ${formatIssue(issue)}`);
        assert.equal(issue.column, want.column, `column of: ${formatIssue(issue)}`);
        assert.equal(formatPath(issue.path), want.path, `path of: ${formatIssue(issue)}`);
        for (const s of want.says) assert.ok(issue.message.includes(s), `${JSON.stringify(s)} not in: ${issue.message}`);
      });
    });
  }

  test('the ConfigError message is one formatted line per issue', () => {
    const file = join(fixtures, 'bad', 'unknown-kind.yaml');
    assert.throws(() => loadPipelinesFile(file, kinds), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.message, `${file}:5:15: pipelines.demo.stages.train.uses: unknown stage kind "trian"; ${KINDS} (did you mean "train"?)`);
      return true;
    });
  });

  test('validate text shows the offending line with a caret under the column', () => {
    const result = validatePipelinesFile(join(fixtures, 'bad', 'unknown-kind.yaml'), kinds);
    assert.ok(!result.ok);
    const [, code, caret] = result.text.split('\n');
    assert.equal(code, '  5 |         uses: trian');
    assert.equal(caret, `${' '.repeat('  5 | '.length + 14)}^`);
  });

  test('an oversized file is refused before parsing, naming the file and the limit', () => {
    const big = join(mkdtempSync(join(tmpdir(), 'topoflow-big-')), 'huge.yaml');
    writeFileSync(big, `# padding\n${'x: 1\n'.repeat(1_100_000)}`);
    const result = validatePipelinesFile(big, kinds);
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.text, /huge\.yaml.*the file is \d+ bytes; a pipelines file may have at most 4194304 \(it was not parsed\)/);
  });

  test('a missing file is an issue, not a crash', () => {
    const result = validatePipelinesFile(join(fixtures, 'nope.yaml'), kinds);
    assert.ok(!result.ok);
    assert.match(result.issues[0]!.message, /cannot read the file: .*ENOENT/);
  });

  test('duplicate keys are reported after syntax-level checks and do not hide other problems', () => {
    const text = 'pipelines:\n  demo:\n    stages:\n      a: { uses: noop }\n      a: { uses: nope }\n      b: { uses: noop, needs: [c] }\n';
    const issues = issuesOf(() => parsePipelinesText(text, 'p.yaml', '/tmp', kinds));
    assert.deepEqual(issues.map(formatIssue), [
      'p.yaml:5:7: pipelines.demo.stages.a: duplicate stage id "a": defined at lines 4 and 5',
      'p.yaml:6:32: pipelines.demo.stages.b.needs[0]: needs unknown stage "c"; expected one of: a',
    ]);
  });

  test('unknown keys in retry and pipelines list their allowed keys', () => {
    const text = 'pipelines:\n  demo:\n    name: x\n    stages:\n      a: { uses: noop, retry: { attempts: 2 } }\n';
    const messages = issuesOf(() => parsePipelinesText(text, 'p.yaml', '/tmp', kinds)).map(formatIssue);
    assert.deepEqual(messages, [
      'p.yaml:3:5: pipelines.demo.name: unknown key "name"; expected one of: description, params, stages, models',
      'p.yaml:5:33: pipelines.demo.stages.a.retry.attempts: unknown key "attempts"; expected one of: maxAttempts, initialInterval, backoffCoefficient, maximumInterval, nonRetryableErrors',
    ]);
  });

  test('a null value points at its key', () => {
    const text = 'pipelines:\n  demo:\n    stages:\n      a:\n';
    const [issue] = issuesOf(() => parsePipelinesText(text, 'p.yaml', '/tmp', kinds));
    assert.equal(formatIssue(issue!), 'p.yaml:4:7: pipelines.demo.stages.a: expected a mapping, got an empty value (null)');
  });

  test('a value of the wrong type for a duration says what a duration is', () => {
    const text = 'pipelines:\n  demo:\n    stages:\n      a: { uses: noop, timeout: true }\n';
    const [issue] = issuesOf(() => parsePipelinesText(text, 'p.yaml', '/tmp', kinds));
    assert.equal(formatIssue(issue!), 'p.yaml:4:33: pipelines.demo.stages.a.timeout: expected a duration such as "500ms", "30s", "5m", "2h", or a number of milliseconds, got boolean true');
  });

  test('a second YAML document is a syntax error at its start', () => {
    const [issue] = issuesOf(() => parsePipelinesText('pipelines: {}\n---\nx: 1\n', 'p.yaml', '/tmp', kinds));
    assert.equal(formatIssue(issue!), 'p.yaml:2:1: YAML syntax error: a second YAML document starts here; pipelines.yaml must hold exactly one');
  });

  test('param names must be identifiers', () => {
    const text = 'pipelines:\n  demo:\n    params: { "my events": 1 }\n    stages: { a: { uses: noop } }\n';
    const [issue] = issuesOf(() => parsePipelinesText(text, 'p.yaml', '/tmp', kinds));
    assert.equal(issue!.line, 3);
    assert.equal(formatPath(issue!.path), 'pipelines.demo.params["my events"]');
    assert.match(issue!.message, /invalid param name "my events": expected an identifier/);
  });
});

// ---------------------------------------------------------------- valid files

describe('valid pipelines.yaml', () => {
  test('loads with names, defaults and a canonical storage root', () => {
    const path = join(fixtures, 'valid.yaml');
    const file = loadPipelinesFile(path, kinds);
    assert.equal(file.file, path);
    assert.deepEqual(file.storage, { root: pathToFileURL(join(fixtures, 'data', 'store')).href });
    assert.deepEqual(Object.keys(file.pipelines), ['demo', 'minimal']);
    const demo = file.pipelines.demo!;
    assert.equal(demo.name, 'demo');
    assert.deepEqual(demo.params, { events: 1000, seed: 42, label: 'x', flags: ['a', 'b'], fast: true });
    assert.deepEqual(demo.stages.count, {
      uses: 'count',
      needs: ['generate'],
      with: { events: '${params.events}', label: 'run-${params.seed}-${params.label} costs $${HOME}' },
      retry: { maxAttempts: 5, initialInterval: '2s', backoffCoefficient: 2 },
      timeout: '1h',
      heartbeatTimeout: '30s',
      queue: 'train',
    });
    assert.deepEqual(file.pipelines.minimal, {
      name: 'minimal',
      params: {},
      stages: { only: { uses: 'noop', needs: [], with: {}, timeout: '2h', heartbeatTimeout: '30s' } },
    });
    assert.deepEqual(topoOrder(demo.stages), ['generate', 'count', 'train']);
    assert.deepEqual(validatePipelinesFile(path, kinds), { ok: true, file });
  });

  test('`with` resolves against the defaults with types preserved', () => {
    const demo = loadPipelinesFile(join(fixtures, 'valid.yaml'), kinds).pipelines.demo!;
    assert.deepEqual(resolveWith(demo.stages.count!.with, demo.params), { events: 1000, label: 'run-42-x costs ${HOME}' });
    assert.deepEqual(resolveWith(demo.stages.train!.with, demo.params), { epochs: 3, features: ['a', 'b'], options: { fast: true, tags: ['x', 'fixed'] } });
  });

  const minimal = (storage: string) => `${storage}pipelines:\n  p:\n    stages: { a: { uses: noop } }\n`;

  test('storage roots: default, relative, absolute, file:// and s3:// forms', () => {
    const root = (storage: string) => parsePipelinesText(minimal(storage), 'p.yaml', '/srv/flows', kinds).storage.root;
    assert.equal(root(''), 'file:///srv/flows/data/store');
    assert.equal(root('storage:\n'), 'file:///srv/flows/data/store');
    assert.equal(root('storage: { root: ../shared/store/ }\n'), 'file:///srv/shared/store');
    assert.equal(root('storage: { root: "/data/my store" }\n'), 'file:///data/my%20store');
    assert.equal(root('storage: { root: "file:///data/x/" }\n'), 'file:///data/x');
    assert.equal(root('storage: { root: "s3://hep-bucket/runs/" }\n'), 's3://hep-bucket/runs');
  });

  test('S3 settings are kept', () => {
    const storage = 'storage:\n  root: s3://hep-bucket\n  endpoint: http://127.0.0.1:9000\n  region: us-east-1\n  forcePathStyle: true\n';
    assert.deepEqual(parsePipelinesText(minimal(storage), 'p.yaml', '/srv', kinds).storage, {
      root: 's3://hep-bucket',
      endpoint: 'http://127.0.0.1:9000',
      region: 'us-east-1',
      forcePathStyle: true,
    });
  });

  test('bad file:// and s3:// roots say what is expected', () => {
    const message = (root: string) => issuesOf(() => parsePipelinesText(minimal(`storage: { root: "${root}" }\n`), 'p.yaml', '/srv', kinds))[0]!.message;
    assert.match(message('file://host/data'), /invalid file URL "file:\/\/host\/data"; expected file:\/\/\/absolute\/path/);
    assert.match(message('s3://B'), /invalid S3 root "s3:\/\/B"; expected s3:\/\/bucket\/prefix/);
  });
});

// ---------------------------------------------------------------- run preparation

describe('run preparation', () => {
  const env = { registry, defaultSpecFile: join(fixtures, 'valid.yaml') };
  const pipeline = validateInlinePipeline({ name: 'adhoc', stages: { a: { uses: 'noop' } } }, kinds);

  test('a storage root given with the run is checked before any stage runs; the message names storage.root', () => {
    const bucket = issuesOf(() => prepareRun({ pipeline, storage: { root: 's3://Bad_Bucket/x' } }, env));
    assert.deepEqual(bucket.map(formatIssue), [
      'storage.root: invalid S3 root "s3://Bad_Bucket/x"; expected s3://bucket/prefix with a bucket name of 3-63 lowercase letters, digits, "." or "-" that starts and ends with a letter or digit, but "Bad_Bucket" has uppercase letters and contains "_"',
    ]);
    const prefix = issuesOf(() => prepareRun({ pipeline: 'demo', storage: { root: 's3://bucket/a//b' } }, env));
    assert.deepEqual(prefix.map(formatIssue), ['storage.root: invalid S3 root "s3://bucket/a//b"; the prefix "a//b" is not a valid storage key (empty path segment)']);
  });

  test('a valid storage root given with the run is used as given', () => {
    assert.deepEqual(prepareRun({ pipeline, storage: { root: 's3://hep-bucket/runs', endpoint: 'http://127.0.0.1:9000' } }, env).storage, { root: 's3://hep-bucket/runs', endpoint: 'http://127.0.0.1:9000' });
  });
});

// ---------------------------------------------------------------- inline (JSON) specs

describe('validateInlinePipeline', () => {
  test('returns the normalized spec', () => {
    const spec = validateInlinePipeline({ name: 'adhoc', params: { n: 5 }, stages: { c: { uses: 'count', with: { events: '${params.n}' } } } }, kinds);
    assert.deepEqual(spec, {
      name: 'adhoc',
      params: { n: 5 },
      stages: { c: { uses: 'count', needs: [], with: { events: '${params.n}' }, timeout: '2h', heartbeatTimeout: '30s' } },
    });
  });

  test('reports every problem by key path, without positions', () => {
    const issues = issuesOf(() =>
      validateInlinePipeline({ name: '9x', stages: { a: { uses: 'cuont' }, b: { uses: 'count', needs: ['a', 'q'], with: { events: 0 } } } }, kinds),
    );
    assert.deepEqual(issues.map(formatIssue), [
      'name: expected an identifier: a letter, then letters, digits, "_" or "-" (at most 64), got string "9x"',
      'stages.a.uses: unknown stage kind "cuont"; expected one of: count, noop, train (did you mean "count"?)',
      'stages.b.with.events: expected a number > 0, got number 0',
      'stages.b.needs[1]: needs unknown stage "q"; expected one of: a',
    ]);
  });

  test('a missing name or a non-object is reported', () => {
    assert.deepEqual(issuesOf(() => validateInlinePipeline({ stages: { a: { uses: 'noop' } } }, kinds)).map(formatIssue), ['missing required key "name" (a string)']);
    assert.deepEqual(issuesOf(() => validateInlinePipeline('demo', kinds)).map(formatIssue), ['expected a pipeline spec (a mapping), got string "demo"']);
  });
});

// ---------------------------------------------------------------- dag.ts

describe('dag', () => {
  const g = (spec: Record<string, string[]>) => Object.fromEntries(Object.entries(spec).map(([id, needs]) => [id, { needs }]));

  test('findCycle: none in a DAG, unknown needs ignored', () => {
    assert.equal(findCycle(g({ a: [], b: ['a'], c: ['a', 'b', 'zz'] })), null);
  });

  test('findCycle: data-flow order from the earliest-declared stage', () => {
    assert.deepEqual(findCycle(g({ x: [], a: ['c'], b: ['a'], c: ['b'] })), ['a', 'b', 'c', 'a']);
    assert.deepEqual(findCycle(g({ c: ['b'], b: ['a'], a: ['c'] })), ['c', 'a', 'b', 'c']);
    assert.deepEqual(findCycle(g({ a: ['a'] })), ['a', 'a']);
  });

  test('topoOrder: dependencies first, ties by declaration order', () => {
    assert.deepEqual(topoOrder(g({ c: [], a: [], b: ['c'], d: ['a'] })), ['c', 'a', 'b', 'd']);
    assert.deepEqual(topoOrder(g({ train: ['prep'], eval: ['train', 'prep'], prep: [] })), ['prep', 'train', 'eval']);
    assert.deepEqual(topoOrder({}), []);
  });

  test('topoOrder: throws on a cycle, naming it', () => {
    assert.throws(() => topoOrder(g({ a: ['b'], b: ['a'] })), /cycle: a → b → a/);
  });

  test('downstreamOf: the stages plus their transitive dependents, in declaration order', () => {
    const stages = g({ gen: [], skim: ['gen'], train: ['skim'], plot: ['gen'], other: [] });
    assert.deepEqual([...downstreamOf(stages, ['skim'])], ['skim', 'train']);
    assert.deepEqual([...downstreamOf(stages, ['plot', 'gen'])], ['gen', 'skim', 'train', 'plot']);
    assert.deepEqual([...downstreamOf(stages, [])], []);
  });

  test('downstreamOf: unknown stage ids are an error listing the valid ones', () => {
    const [issue] = issuesOf(() => downstreamOf(g({ gen: [], skim: ['gen'] }), ['skmi']));
    assert.equal(issue!.message, 'unknown stage "skmi"; expected one of: gen, skim (did you mean "skim"?)');
  });

  test('dagIssues: none for a valid graph', () => {
    assert.deepEqual(dagIssues(g({ a: [], b: ['a'], c: ['a', 'b'] })), []);
  });

  test('dagIssues: unknown, self, duplicate and cyclic needs', () => {
    const issues = dagIssues(g({ a: ['c'], b: ['a', 'b', 'a', 'nope'], c: ['b'] }));
    assert.deepEqual(
      issues.map((i) => `${formatPath(i.path)}: ${i.message}`),
      [
        'b.needs[1]: stage "b" needs itself; a stage can only need other stages',
        'b.needs[2]: "a" is listed twice in needs (first at needs[0])',
        'b.needs[3]: needs unknown stage "nope"; expected one of: a, c',
        'a.needs[0]: needs form a cycle: a → b → c → a (b needs a, c needs b, a needs c)',
      ],
    );
  });

  test('dagIssues: every independent cycle is reported once', () => {
    const issues = dagIssues(g({ a: ['b', 'c'], b: ['a'], c: ['a'], d: ['e'], e: ['d'] }));
    assert.deepEqual(
      issues.map((i) => i.message),
      [
        'needs form a cycle: a → b → a (b needs a, a needs b)',
        'needs form a cycle: a → c → a (c needs a, a needs c)',
        'needs form a cycle: d → e → d (e needs d, d needs e)',
      ],
    );
  });
});

// ---------------------------------------------------------------- params.ts

describe('params', () => {
  const params = { events: 1000, seed: 42, label: 'mc', flags: ['a', 'b'], fast: false };

  test('resolveWith: exact references keep their type, others interpolate', () => {
    const template = {
      events: '${params.events}',
      fast: '${ params.fast }',
      flags: '${params.flags}',
      path: 'out/${params.label}-${params.seed}.root',
      joined: 'f=${params.flags}',
      literal: 'cost $${HOME} and $${params.events}, $5',
      nested: { list: [1, '${params.seed}', { deep: '${params.label}' }] },
      untouched: [true, null, 3.5],
    };
    const before = structuredClone(template);
    assert.deepEqual(resolveWith(template, params), {
      events: 1000,
      fast: false,
      flags: ['a', 'b'],
      path: 'out/mc-42.root',
      joined: 'f=a,b',
      literal: 'cost ${HOME} and ${params.events}, $5',
      nested: { list: [1, 42, { deep: 'mc' }] },
      untouched: [true, null, 3.5],
    });
    assert.deepEqual(template, before);
  });

  test('resolveWith: a list param is copied, not shared', () => {
    const resolved = resolveWith({ f: '${params.flags}' }, params);
    assert.notEqual(resolved.f, params.flags);
  });

  test('resolveWith: every unknown or malformed reference, at its key path', () => {
    const issues = issuesOf(() => resolveWith({ a: '${params.evnts}', b: ['ok', 'x-${params.nope}'], c: '${params.events', d: '${seed}' }, params, ['stages', 's', 'with']));
    assert.deepEqual(issues.map(formatIssue), [
      'stages.s.with.a: unknown param "evnts" in "${params.evnts}"; expected one of: events, seed, label, flags, fast (did you mean "events"?)',
      'stages.s.with.b[1]: unknown param "nope" in "x-${params.nope}"; expected one of: events, seed, label, flags, fast',
      'stages.s.with.c: unclosed "${" in "${params.events"; expected ${params.NAME}, or write "$${" for a literal "${"',
      'stages.s.with.d: unsupported reference "${seed}"; expected ${params.NAME}, or write "$${" for a literal "${"',
    ]);
  });

  test('resolveWith: a pipeline without params says so', () => {
    assert.equal(issuesOf(() => resolveWith({ a: '${params.x}' }, {}))[0]!.message, 'unknown param "x" in "${params.x}"; the pipeline declares no params');
  });

  test('referencedParams: each name once, in order, escapes excluded', () => {
    assert.deepEqual(referencedParams({ a: '${params.seed}-${params.label}', b: ['$${params.events}', { c: '${params.seed}${params.flags}' }], d: 3 }), ['seed', 'label', 'flags']);
    assert.deepEqual(referencedParams('${params.x}'), ['x']);
  });

  test('parseSetArgs: values take the type of the default', () => {
    assert.deepEqual(parseSetArgs(['events=1e3', 'seed= 7 ', 'label=a=b', 'flags=x, y,z', 'fast=YES'], params), {
      events: 1000,
      seed: 7,
      label: 'a=b',
      flags: ['x', 'y', 'z'],
      fast: true,
    });
    assert.deepEqual(parseSetArgs(['fast=0', 'flags=', 'label='], params), { fast: false, flags: [], label: '' });
    assert.deepEqual(parseSetArgs(['cuts=1.5,2', 'ids=3', 'tags=1,x'], { cuts: [0.5], ids: [1], tags: [] }), { cuts: [1.5, 2], ids: [3], tags: ['1', 'x'] });
    assert.deepEqual(parseSetArgs(['seed=1', 'seed=2'], params), { seed: 2 });
    assert.deepEqual(parseSetArgs([], params), {});
  });

  test('parseSetArgs: every bad argument is reported with the expected type', () => {
    const issues = issuesOf(() => parseSetArgs(['events=abc', 'seed=', 'fast=maybe', 'flags=a', 'evnts=5', 'oops', '=3', 'seed=Infinity'], { ...params, flags: [1] }));
    assert.deepEqual(issues.map(formatIssue), [
      'params.events: expected number like the default 1000, got "abc" (--set events=abc)',
      'params.seed: expected number like the default 42, got "" (--set seed=)',
      'params.fast: expected boolean like the default false, got "maybe" (use true/false, 1/0 or yes/no) (--set fast=maybe)',
      'params.flags: expected a list of numbers like the default [1], got "a" at element 1 (--set flags=a)',
      'params.evnts: unknown param "evnts" (--set evnts=5); expected one of: events, seed, label, flags, fast (did you mean "events"?)',
      'malformed --set "oops"; expected KEY=VALUE, e.g. --set events=1000',
      'malformed --set "=3"; expected KEY=VALUE, e.g. --set events=1000',
      'params.seed: expected number like the default 42, got "Infinity" (--set seed=Infinity)',
    ]);
  });

  test('mergeParams: overrides replace defaults without mutating them', () => {
    const defaults = structuredClone(params);
    assert.deepEqual(mergeParams(defaults, { seed: 7, flags: ['z'], fast: true }), { ...params, seed: 7, flags: ['z'], fast: true });
    assert.deepEqual(mergeParams(defaults, {}), params);
    assert.deepEqual(defaults, params);
    assert.deepEqual(mergeParams({ any: [] }, { any: [1, 'x', true] }), { any: [1, 'x', true] });
  });

  test('mergeParams: unknown names and wrong types, all at once', () => {
    const issues = issuesOf(() => mergeParams(params, { events: '10', flags: ['a', 3], fast: 'true', sed: 1, seed: Number.NaN }));
    assert.deepEqual(issues.map(formatIssue), [
      'params.events: expected a number like the default 1000, got string "10"',
      'params.flags: expected a list like the default ["a","b"], got a list ["a",3]; element 2 is number 3',
      'params.fast: expected a boolean like the default false, got string "true"',
      'params.sed: unknown param "sed"; expected one of: events, seed, label, flags, fast (did you mean "seed"?)',
      'params.seed: expected a number like the default 42, got number NaN',
    ]);
    assert.deepEqual(issuesOf(() => mergeParams(params, [1])).map(formatIssue), ['params: expected a mapping of param overrides, got a list [1]']);
  });
});

// ---------------------------------------------------------------- errors.ts

describe('errors', () => {
  test('formatPath', () => {
    assert.equal(formatPath(['pipelines', 'demo', 'stages', 'a', 'needs', 0]), 'pipelines.demo.stages.a.needs[0]');
    assert.equal(formatPath(['params', 'my key']), 'params["my key"]');
    assert.equal(formatPath([]), '');
  });

  test('formatIssue with and without a location', () => {
    assert.equal(formatIssue({ file: 'p.yaml', line: 12, column: 7, path: ['a', 'b'], message: 'm' }), 'p.yaml:12:7: a.b: m');
    assert.equal(formatIssue({ file: 'p.yaml', path: [], message: 'm' }), 'p.yaml: m');
    assert.equal(formatIssue({ path: ['x'], message: 'm' }), 'x: m');
  });

  test('formatReport without source is the plain list', () => {
    const issues = [{ path: ['x'], message: 'm' }, { file: 'f', line: 2, path: [], message: 'n' }];
    assert.equal(formatReport(issues), 'x: m\nf:2: n');
  });

  test('didYouMean: close typos only', () => {
    assert.equal(didYouMean('trian', ['noop', 'train']), 'train');
    assert.equal(didYouMean('Needs', ['uses', 'needs']), 'needs');
    assert.equal(didYouMean('xyz', ['noop', 'train']), undefined);
  });
});
