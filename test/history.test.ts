/**
 * A run's history stays bounded, on a real Temporal dev server whose history
 * limits are lowered far below a stage's progress rate: stages that report
 * thousands of times complete, their live progress still shows through the
 * CLI (heartbeat details), and the run continues as new between stages and
 * while held, carrying its state.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { NAMES, type PipelineRunInput, type RunProgress, type RunResult } from '../protocol/protocol.js';
import { innermostMessage } from '../protocol/errors.js';
import { progressNow } from '../cli/follow.js';
import { Harness, cliEntry } from './support/harness.js';

/** Temporal suggests continuing as new past this many events… */
const SUGGEST_AT = 40;
/** …and terminates a run past this many (51,200 by default). */
const LIMIT = 400;
/**
 * What one execution may record: the suggestion's threshold, plus what the
 * stages in flight when it came add before the next point where nothing runs.
 * Here one stage at a time: its scheduling and cache look-up, its activity or
 * child workflow, search-attribute upserts, and at most 1 + 16 progress
 * signals (activities/progressSignals.ts), each with its workflow task (≤ 4
 * events), or for a fan-out at most 10 shard-count signals from its child:
 * 12 + 4 × 17 = 80.
 */
const BOUND = SUGGEST_AT + 80;
/** Old behaviour for comparison: one signal per progress interval per running activity. */
const PROGRESS_INTERVAL_MS = 20;

const h = new Harness();
let seq = 0;
const storage = () => ({ root: pathToFileURL(join(h.tmp, `store-${++seq}`)).href });
type Stages = Exclude<PipelineRunInput['pipeline'], string>['stages'];
const spec = (name: string, stages: Stages, params: Record<string, number | string | boolean> = {}) => ({ name, params, stages });
const statuses = (r: RunResult) => Object.fromEntries(Object.entries(r.stages).map(([id, s]) => [id, s.status]));

/** Events per execution of a workflow id (continue-as-new makes several), oldest first. */
async function historyLengths(workflowId: string): Promise<number[]> {
  const runs: Array<{ runId: string; start: number }> = [];
  for await (const ex of h.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ runId: ex.runId, start: ex.startTime.getTime() });
  runs.sort((a, b) => a.start - b.start);
  return Promise.all(runs.map(async (r) => (await h.client.workflow.getHandle(workflowId, r.runId).fetchHistory()).events?.length ?? 0));
}

/** The CLI's view of a run: its state with the live heartbeat reports merged in. */
async function cliView(runId: string): Promise<RunProgress | null> {
  const handle = h.client.workflow.getHandle(runId);
  return progressNow(h.client, handle, await handle.describe());
}

before(async () => {
  await h.start(undefined, [
    '--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${SUGGEST_AT}`,
    '--dynamic-config-value', `limit.historyCount.error=${LIMIT}`,
  ]);
  await h.startWorker(['--progress-interval', String(PROGRESS_INTERVAL_MS)]);
});

after(async () => {
  await h.stop();
});

describe(`history limits lowered (continue-as-new suggested at ${SUGGEST_AT} events, terminated at ${LIMIT})`, () => {
  test('stages reporting thousands of times complete; every execution stays under the bound; live progress shows in the CLI', async (t) => {
    const chain = spec('chatty', {
      // No total: no milestones, so the only progress the run itself hears of is the stage's start.
      uncounted: { uses: 'test-chatty', with: { reports: 3000, ms: 6000, withTotal: false } },
      counted: { uses: 'test-chatty', needs: ['uncounted'], with: { reports: 2000, ms: 3000 } },
      rows: { uses: 'test-emit', needs: ['counted'], with: { rows: 10 } },
      sum: { uses: 'test-sum', needs: ['rows'] },
    });
    // At the old one signal per interval, the first two stages alone would send ~450 signals: past the limit.
    assert.ok((6000 + 3000) / PROGRESS_INTERVAL_MS > LIMIT);
    const runId = await h.run({ pipeline: chain, storage: storage() });

    const live = await waitForView(runId, (p) => (p.stages.uncounted?.progress?.done ?? 0) > 100, 'live ticks of the uncounted stage');
    assert.equal(live.stages.uncounted!.progress!.unit, 'ticks');
    const own = (await h.progress(runId))!.stages.uncounted!;
    assert.equal(own.status, 'running');
    assert.equal(own.progress?.done ?? 0, 0, `the run itself only heard that the stage started: ${JSON.stringify(own.progress)}`);
    const status = spawnSync(process.execPath, [cliEntry, 'status', runId], { env: h.env(), encoding: 'utf8', timeout: 60_000 });
    assert.equal(status.status, 0, status.stderr);
    assert.match(status.stdout, /uncounted +running .* \d+ ticks/, 'topoflow status shows the live count');

    const result = await h.result(runId);
    assert.deepEqual(statuses(result), { uncounted: 'completed', counted: 'completed', rows: 'completed', sum: 'completed' });
    const lengths = await historyLengths(runId);
    t.diagnostic(`events per execution: ${lengths.join(', ')}`);
    assert.ok(lengths.length >= 2, `the run continued as new (executions: ${lengths.join(', ')})`);
    for (const n of lengths) assert.ok(n <= BOUND, `an execution recorded ${n} events (bound ${BOUND}; all: ${lengths.join(', ')})`);
    const p = (await h.progress(runId))!;
    assert.equal(p.status, 'completed', 'the last execution answers queries with the whole run');
    assert.equal(p.stages.uncounted!.status, 'completed');
  });

  test('a run continues as new while a stage is held; queries and the retry update reach the new execution', async (t) => {
    const heldWhileBusy = spec('flaky', {
      // `flaky` holds at once; the first safe point comes when `busy` ends, past the suggestion by then.
      flaky: { uses: 'test-flaky', with: { succeed: '${params.ok}' }, retry: { maxAttempts: 1 } },
      busy: { uses: 'test-chatty', with: { reports: 500, ms: 3000 } },
      after: { uses: 'test-sum', needs: ['flaky', 'busy'] },
    }, { ok: false });
    const runId = await h.run({ pipeline: heldWhileBusy, storage: storage() });
    await h.waitFor(runId, (p) => p.stages.flaky?.status === 'held' && p.stages.busy?.status === 'completed', 'flaky held, busy done');
    const deadline = Date.now() + 30_000;
    let lengths = await historyLengths(runId);
    while (lengths.length < 2) {
      assert.ok(Date.now() < deadline, `the held run continued as new (executions: ${lengths.join(', ')})`);
      await sleep(200);
      lengths = await historyLengths(runId);
    }
    const again = (await h.progress(runId))!;
    assert.equal(again.status, 'held', 'the new execution is held too');
    assert.match(again.stages.flaky!.error!, /told to fail/);
    assert.equal(again.stages.busy!.status, 'completed');
    const handle = h.client.workflow.getHandle(runId);
    await assert.rejects(handle.executeUpdate(NAMES.retryUpdate, { args: [{ stage: 'after' }] }), (err: Error) => /stage "after" is not held \(held: flaky\)/.test(innermostMessage(err)));
    assert.equal(await handle.executeUpdate(NAMES.retryUpdate, { args: [{ params: { ok: true } }] }), 'retrying flaky');
    const result = await h.result(runId);
    assert.deepEqual(statuses(result), { flaky: 'completed', busy: 'completed', after: 'completed' });
    lengths = await historyLengths(runId);
    t.diagnostic(`events per execution: ${lengths.join(', ')}`);
    for (const n of lengths) assert.ok(n <= BOUND, `an execution recorded ${n} events (bound ${BOUND})`);
    const list = spawnSync(process.execPath, [cliEntry, 'list', '--json', '--limit', '100'], { env: h.env(), encoding: 'utf8', timeout: 60_000 });
    assert.equal(list.status, 0, list.stderr);
    const rows = (JSON.parse(list.stdout) as Array<{ runId: string; status: string }>).filter((r) => r.runId === runId);
    assert.deepEqual(rows.map((r) => r.status), ['completed'], 'topoflow list shows the run once');
  });

  test('a fan-out: shards\' live progress comes from the child\'s activities, shard counts reach the run, histories stay bounded', async (t) => {
    const runId = await h.run({ pipeline: spec('fan', { fan: { uses: 'test-fanout', with: { shards: 6, delayMs: 1500, window: 2 } } }), storage: storage() });
    const live = await waitForView(runId, (p) => /^shard \d$/.test(p.stages.fan?.progress?.message ?? ''), 'a shard\'s live report');
    assert.equal(live.stages.fan!.status, 'running');
    const counted = await h.waitFor(runId, (p) => p.stages.fan?.progress?.unit === 'shards' && (p.stages.fan.progress.done ?? 0) >= 1, 'shard counts from the child');
    assert.equal(counted.stages.fan!.progress!.total, 6);
    const result = await h.result(runId);
    assert.equal(result.stages.fan!.status, 'completed');
    assert.equal(result.stages.fan!.outputs.filter((o) => o.name.startsWith('shard-')).length, 6);
    for (const id of [runId, `${runId}/fan/0`]) {
      const lengths = await historyLengths(id);
      t.diagnostic(`${id}: events per execution: ${lengths.join(', ')}`);
      for (const n of lengths) assert.ok(n <= BOUND, `${id}: an execution recorded ${n} events (bound ${BOUND})`);
    }
  });
});

async function waitForView(runId: string, pred: (p: RunProgress) => boolean, what: string, timeoutMs = 30_000): Promise<RunProgress> {
  const deadline = Date.now() + timeoutMs;
  let last: RunProgress | null = null;
  while (Date.now() < deadline) {
    last = await cliView(runId).catch(() => null);
    if (last && pred(last)) return last;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}; last view: ${JSON.stringify(last)}`);
}
