/**
 * The `topoflow` command as a user types it: the embedded stack (`up`, or
 * started by `run` itself), exit codes, --json, holds and operator commands.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { projectRoot } from '../infra/tools.js';
import { freePort } from '../infra/ports.js';
import { cliEntry, testPlugins } from './support/harness.js';

const dir = mkdtempSync(join(tmpdir(), 'topoflow-cli-'));
const yaml = join(dir, 'pipelines.yaml');
copyFileSync(join(projectRoot, 'test', 'fixtures', 'engine', 'pipelines.yaml'), yaml);
let env: NodeJS.ProcessEnv;

interface Out { code: number | null; stdout: string; stderr: string }
function cli(...args: string[]): Out {
  const r = spawnSync(process.execPath, [cliEntry, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
const json = <T = { runId: string; status: string; stages: Record<string, { status: string; outputs: unknown[] }> }>(o: Out): T => {
  assert.ok(o.stdout.trim(), `stdout has JSON (stderr: ${o.stderr})`);
  return JSON.parse(o.stdout) as T;
};
const stageStatuses = (o: { stages: Record<string, { status: string }> }) => Object.fromEntries(Object.entries(o.stages).map(([k, v]) => [k, v.status]));

before(async () => {
  const port = await freePort();
  env = { ...process.env, TOPOFLOW_TEMPORAL_PORT: String(port), TOPOFLOW_UI_PORT: String(await freePort()), TOPOFLOW_PLUGINS: testPlugins };
  delete env.TEMPORAL_ADDRESS;
});

describe('topoflow CLI', () => {
  test('--help works for every command', () => {
    for (const args of [[], ['run'], ['status'], ['list'], ['resume'], ['retry'], ['skip'], ['abort'], ['schedule'], ['schedule', 'create'], ['schedule', 'list'], ['schedule', 'delete'], ['validate'], ['up'], ['worker']]) {
      const out = cli(...args, '--help');
      assert.equal(out.code, 0, `${args.join(' ')} --help`);
      assert.match(out.stdout, /Usage: topoflow/);
    }
  });

  test('validate: exit 0 on the project file, 2 with file:line:column and key on a bad one', () => {
    const ok = cli('validate', join(projectRoot, 'pipelines.yaml'));
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /OK — pipelines: demo/);
    const bad = cli('validate', join(projectRoot, 'test', 'fixtures', 'config', 'bad', 'unknown-kind.yaml'));
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown-kind\.yaml:\d+:\d+: pipelines\.demo\.stages\.train\.uses: unknown stage kind "trian"; expected one of: /);
  });

  /** `topoflow validate` on a bad fixture with one issue: exit 2, the message, the source line under it and a caret at the column. */
  function assertOneFramedIssue(fixture: string, message: RegExp, at: { line: number; column: number; source: string }): void {
    const bad = cli('validate', join(projectRoot, 'test', 'fixtures', 'config', 'bad', fixture));
    assert.equal(bad.code, 2);
    const [first, code, caret, ...rest] = bad.stderr.trimEnd().split('\n');
    const gutter = `  ${at.line} | `;
    assert.match(first!, message);
    assert.equal(code, gutter + at.source);
    assert.equal(caret, `${' '.repeat(gutter.length + at.column - 1)}^`);
    assert.deepEqual(rest, []);
  }

  test('validate: an invalid S3 bucket in storage.root fails with the rule it breaks, the line and a caret', () => {
    assertOneFramedIssue('bad-s3-bucket.yaml', /^.*bad-s3-bucket\.yaml:2:9: storage\.root: invalid S3 root "s3:\/\/Bad_Bucket\/x"; .*but "Bad_Bucket" has uppercase letters and contains "_"$/, { line: 2, column: 9, source: '  root: s3://Bad_Bucket/x' });
  });

  test('validate: a problem on line 1 shows that source line under the message, not the message again', () => {
    assertOneFramedIssue('bad-version.yaml', /bad-version\.yaml:1:10: version: expected 1, got number 2$/, { line: 1, column: 10, source: 'version: 2' });
  });

  test('validate: one tab is one error, in the project\'s words', () => {
    const bad = cli('validate', join(projectRoot, 'test', 'fixtures', 'config', 'bad', 'tab-cascade.yaml'));
    assert.equal(bad.code, 2);
    const messages = bad.stderr.split('\n').filter((line) => line.includes('YAML syntax error'));
    assert.equal(messages.length, 1, bad.stderr);
    assert.match(messages[0]!, /tab-cascade\.yaml:6:1: YAML syntax error: Tabs are not allowed as indentation: YAML indents with spaces only; replace the tab with spaces$/);
  });

  test('an unknown command is bad input: exit 2, "error:" and the help', () => {
    const out = cli('frobnicate');
    assert.equal(out.code, 2, out.stderr);
    assert.match(out.stderr, /^error: unknown command 'frobnicate'/);
    assert.match(out.stderr, /Usage: topoflow/);
    const option = cli('validate', '--bogus');
    assert.equal(option.code, 2, option.stderr);
    assert.match(option.stderr, /^error: unknown option '--bogus'/);
    const bare = cli();
    assert.equal(bare.code, 2, 'no command at all is bad input too');
    assert.match(bare.stderr, /Usage: topoflow/);
  });

  test('a bad --set is bad input: exit 2, every line starting with "error:" (before any stack starts)', () => {
    for (const [arg, says] of [
      ['rowsB=abc', /params\.rowsB: expected number like the default 50, got "abc" \(--set rowsB=abc\)/],
      ['nope=1', /unknown param "nope"/],
      ['rowsB', /malformed --set "rowsB"; expected KEY=VALUE/],
    ] as const) {
      const out = cli('run', 'diamond', '--set', arg);
      assert.equal(out.code, 2, out.stderr);
      assert.match(out.stderr, says);
      for (const line of out.stderr.trimEnd().split('\n')) assert.match(line, /^error: /, `--set ${arg}: ${out.stderr}`);
      assert.doesNotMatch(out.stderr, /starting Temporal dev server/);
    }
    const missing = cli('run', 'nope');
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /^error: .*no pipeline named "nope"/);
  });

  test('run starts its own stack when none is up, and stops it afterwards', () => {
    const out = cli('run', 'diamond', '--json');
    assert.equal(out.code, 0, out.stderr);
    const res = json(out);
    assert.equal(res.status, 'completed');
    assert.deepEqual(stageStatuses(res), { a: 'completed', b: 'completed', sum: 'completed' });
    assert.match(out.stderr, /starting Temporal dev server/);
    assert.ok(!existsSync(join(dir, 'data', 'stack.json')), 'the stack was stopped');
  });

  test('status, list and verify <runId> with no stack running read the run without starting workers; an unknown run is exit 2', () => {
    // The run of the test above finished in a stack of its own, now stopped.
    const list = cli('list');
    assert.equal(list.code, 0, list.stderr);
    const [header, row, ...more] = list.stdout.trimEnd().split('\n');
    assert.match(header!, /^started +status +kind +pipeline +run id$/);
    assert.match(row!, /^\S+Z +completed +manual +diamond +diamond-\S+$/);
    assert.deepEqual(more, []);
    for (const column of ['status', 'kind', 'pipeline']) assert.equal(row![header!.indexOf(column) - 1], ' ', `column ${column} lines up`);
    const runId = row!.slice(header!.indexOf('run id'));
    assert.match(runId, /^diamond-\S+$/, 'the run id column lines up');

    const status = cli('status');
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^diamond ${runId}: completed \\(workflow completed, started `));
    assert.match(status.stdout, /✔ sum +completed .*→ 1 output\(s\)/);
    const verify = cli('verify', runId);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stdout, /3 committed stage\(s\) checked .*: all intact/);
    for (const out of [list, status, verify]) assert.doesNotMatch(out.stderr, /starting Temporal dev server/, 'no stack with workers was started');

    const unknown = cli('status', 'nosuch-id');
    assert.equal(unknown.code, 2);
    assert.equal(unknown.stderr, 'error: no run nosuch-id\n');
    const empty = cli('--data', mkdtempSync(join(tmpdir(), 'topoflow-cli-empty-')), 'list');
    assert.equal(empty.code, 0, empty.stderr);
    assert.equal(empty.stdout, 'no runs yet\n');
    assert.ok(!existsSync(join(dir, 'data', 'stack.json')), 'nothing left running');
  });

  test('a run that holds on a stack of its own exits 3 cleanly, with and without --json (no crash on the closed connection)', () => {
    // A store and data folder of its own: the held-run tests below expect a fresh one.
    const own = mkdtempSync(join(tmpdir(), 'topoflow-cli-held-'));
    copyFileSync(yaml, join(own, 'pipelines.yaml'));
    for (const args of [['--json'], []]) {
      const r = spawnSync(process.execPath, [cliEntry, 'run', 'flaky', ...args], { cwd: own, env, encoding: 'utf8', timeout: 180_000 });
      const out: Out = { code: r.status, stdout: r.stdout, stderr: r.stderr };
      assert.equal(out.code, 3, `${args.join(' ')}: ${out.stderr}`);
      assert.doesNotMatch(out.stderr, /Channel has been shut down|Error:|at /, 'no uncaught error');
      if (args.length) assert.equal(json(out).status, 'held');
      else assert.match(out.stdout, /is HELD waiting for an operator/);
    }
    assert.ok(!existsSync(join(own, 'data', 'stack.json')), 'the stack was stopped');
  });

  describe('with `topoflow up` running', () => {
    let up: ChildProcess;
    let upOut = '';
    before(async () => {
      up = spawn(process.execPath, [cliEntry, 'up'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      up.stdout!.on('data', (d: Buffer) => (upOut += d.toString()));
      up.stderr!.on('data', (d: Buffer) => (upOut += d.toString()));
      const deadline = Date.now() + 90_000;
      while (!upOut.includes('Ctrl-C')) {
        assert.ok(Date.now() < deadline && up.exitCode === null, `up did not start: ${upOut}`);
        await sleep(100);
      }
    });
    after(async () => {
      if (up.exitCode === null) up.kill('SIGINT');
      await new Promise((r) => (up.exitCode === null ? up.once('exit', r) : r(null)));
    });

    test('up prints the Web UI URL; the SQLite state lives in the data folder', () => {
      assert.match(upOut, /Web UI: +http:\/\/127\.0\.0\.1:\d+/);
      assert.ok(existsSync(join(dir, 'data', 'temporal.db')));
      assert.ok(upOut.includes(`(logs in ${join(dir, 'data', 'logs')}/)`), `up names its real logs folder: ${upOut}`);
    });

    test('rerun is fully cached; --set changes exactly one branch; bad --set is exit 2', () => {
      const again = json(cli('run', 'diamond', '--json'));
      assert.deepEqual(stageStatuses(again), { a: 'cached', b: 'cached', sum: 'cached' });
      assert.doesNotMatch(cli('run', 'diamond').stderr, /starting Temporal dev server/, 'reuses the running stack');
      const changed = json(cli('run', 'diamond', '--set', 'rowsB=7', '--json'));
      assert.deepEqual(stageStatuses(changed), { a: 'cached', b: 'completed', sum: 'completed' });
      const bad = cli('run', 'diamond', '--set', 'rowsB=lots');
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /params\.rowsB: expected number/);
      const unknown = cli('run', 'nope');
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /no pipeline named "nope"; expected one of: diamond, flaky/);
    });

    test('a held run: exit 3, then retry --set fixes it; status and list show it', () => {
      const held = cli('run', 'flaky', '--json');
      assert.equal(held.code, 3, held.stderr);
      const h = json(held);
      assert.equal(h.status, 'held');
      assert.equal(h.stages.flaky!.status, 'held');
      const retried = cli('retry', h.runId, '--set', 'ok=true', '--json');
      assert.equal(retried.code, 0, retried.stderr);
      assert.deepEqual(stageStatuses(json(retried)), { first: 'completed', flaky: 'completed', after: 'completed' });
      const status = cli('status', h.runId);
      assert.equal(status.code, 0);
      assert.match(status.stdout, /flaky +completed/);
      const list = json<Array<{ runId: string; status: string; kind: string }>>(cli('list', '--json'));
      assert.ok(list.some((r) => r.runId === h.runId && r.status === 'completed' && r.kind === 'manual'));
    });

    test('a run aborted while `run` follows it: `run` exits 1 and says aborted', async () => {
      const follower = spawn(process.execPath, [cliEntry, 'run', 'diamond', '--set', 'delayMs=20000', '--set', 'rowsA=123', '--json'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      follower.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      follower.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => follower.once('exit', (code) => resolve(code)));
      const deadline = Date.now() + 60_000;
      let runId: string | undefined;
      while (!(runId = /run (\S+) started/.exec(stderr)?.[1])) {
        assert.ok(Date.now() < deadline, `the run started: ${stderr}`);
        await sleep(100);
      }
      await sleep(1_000);
      const aborted = cli('abort', runId, '--reason', 'exit code test');
      assert.equal(aborted.code, 0, aborted.stderr);
      assert.equal(await exited, 1, stderr);
      const res = JSON.parse(stdout) as { status: string };
      assert.equal(res.status, 'aborted');
    });

    test('abort ends a held run; resume restarts it from the cache; skip completes it', () => {
      const h = json(cli('run', 'flaky', '--set', 'ok=false', '--json'));
      assert.equal(h.status, 'held');
      const aborted = cli('abort', h.runId, '--reason', 'testing');
      assert.equal(aborted.code, 0, aborted.stderr);
      assert.match(aborted.stdout, /aborted/);
      assert.match(aborted.stdout, /^run \S+ aborted: testing$/m, 'one "aborted" prefix');
      const resumed = cli('resume', h.runId, '--json');
      assert.equal(resumed.code, 3, 'the restarted run holds again at the same stage');
      const r = json(resumed);
      assert.equal(r.stages.first!.status, 'cached', 'completed stages come from the cache');
      const skipped = cli('skip', h.runId, '--json');
      assert.equal(skipped.code, 0, skipped.stderr);
      assert.deepEqual(stageStatuses(json(skipped)), { first: 'cached', flaky: 'skipped', after: 'skipped' });
    });

    test('one stack per data folder: a second `up` is refused; a worker killed with -9 is restarted by `up`, and commands keep using the stack', async () => {
      const second = cli('up');
      assert.equal(second.code, 2, second.stderr);
      assert.match(second.stderr, /a stack for the data folder .* is already running \(process \d+, Temporal at 127\.0\.0\.1:\d+\)/);

      const stateFile = join(dir, 'data', 'stack.json');
      const before = JSON.parse(readFileSync(stateFile, 'utf8')) as { workerPids: number[] };
      const victim = before.workerPids[0]!;
      process.kill(victim, 'SIGKILL');
      const deadline = Date.now() + 30_000;
      while (!/restarted \(pid \d+\)/.test(upOut)) {
        assert.ok(Date.now() < deadline, `up restarted the worker: ${upOut}`);
        await sleep(200);
      }
      assert.match(upOut, new RegExp(`\\(pid ${victim}\\) exited \\(SIGKILL\\); restarting it in 1 s`));
      const after = JSON.parse(readFileSync(stateFile, 'utf8')) as { workerPids: number[] };
      assert.equal(after.workerPids.length, before.workerPids.length);
      assert.ok(!after.workerPids.includes(victim), 'stack.json lists the new worker');

      const status = cli('status');
      assert.equal(status.code, 0, status.stderr);
      assert.doesNotMatch(status.stderr, /starting Temporal dev server/, 'status asked the running stack');
      assert.ok(existsSync(stateFile), 'the stack is still there');
      const rerun = cli('run', 'diamond', '--json');
      assert.equal(rerun.code, 0, rerun.stderr);
    });

    test('Ctrl-C stops up cleanly', async () => {
      up.kill('SIGINT');
      await new Promise((r) => up.once('exit', r));
      assert.equal(up.exitCode, 0, upOut);
      assert.ok(!existsSync(join(dir, 'data', 'stack.json')));
      assert.match(readFileSync(join(dir, 'data', 'logs', 'worker.log'), 'utf8'), /polling/);
    });
  });
});
