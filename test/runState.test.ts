/** The pipeline run's state and transitions (workflows/runState.ts), without a Temporal server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunState } from '../workflows/runState.js';
import type { PreparedRun, ResolvedStage, StageOutcome } from '../protocol/protocol.js';

/**
 *   a ─┬─ b ─┬─ d ── e
 *      └─ c ─┘
 *   solo (needs nothing)
 */
const NEEDS: Record<string, string[]> = { a: [], b: ['a'], c: ['a'], d: ['b', 'c'], e: ['d'], solo: [] };

const resolved = (id: string): ResolvedStage => ({
  id, uses: `kind-${id}`, kindVersion: '1', kindType: 'simple', needs: NEEDS[id]!, with: {},
  retry: { maxAttempts: 1, initialInterval: '1s', backoffCoefficient: 2 }, timeout: '1h', heartbeatTimeout: '30s', queue: 'topoflow',
});

const plan = (params: PreparedRun['params'] = { rows: 10 }): PreparedRun => ({
  pipeline: 'dia', storage: { root: 'file:///store' }, params, stages: Object.keys(NEEDS).map(resolved), spec: { name: 'dia', params, stages: {} },
});

const outcome = (id: string, status: StageOutcome['status'] = 'completed'): StageOutcome => ({
  status, reason: `${status} ${id}`, key: `k-${id}`, manifestKey: `manifests/${id}`, manifestUri: `file:///store/manifests/${id}`, contentHash: `hash-${id}`,
  outputs: [{ name: `${id}.parquet`, key: `out/${id}`, uri: `file:///store/out/${id}`, bytes: 1, sha256: 'x' }], outputCount: 1, counts: { rows: 1 }, seconds: 0.5,
});

/** A started run, and every state the listener saw (the workflow publishes each). */
function started(force: string[] = []) {
  const seen: { active: string[]; status: string }[] = [];
  const run = new RunState({ runId: 'run-1', pipeline: 'dia', runKind: 'manual', startedAt: 0, params: {} }, (r) => seen.push({ active: r.activeStages(), status: r.progress.status }));
  assert.equal(run.start(plan(), force), undefined);
  return { run, seen };
}

const statuses = (run: RunState) => Object.fromEntries(run.progress.order.map((id) => [id, run.stage(id).status]));

/** Starts whatever can start, the way the workflow does: each before asking for the next. */
function startReady(run: RunState, now = 0): string[] {
  const ids: string[] = [];
  for (const id of run.startable()) {
    run.stageStarted(id, now);
    ids.push(id);
  }
  return ids;
}

const complete = (run: RunState, ...ids: string[]) => ids.forEach((id) => run.stageFinished(id, outcome(id), 1000));

test('a new run is preparing; start takes the plan: every stage pending, the run running', () => {
  const run = new RunState({ runId: 'run-1', pipeline: 'from-input', runKind: 'scheduled', startedAt: 5, params: { rows: 3 } });
  assert.equal(run.progress.status, 'preparing');
  assert.equal(run.progress.pipeline, 'from-input');
  assert.deepEqual(run.progress.order, []);
  assert.equal(run.start(plan({ rows: 3 }), []), undefined);
  assert.equal(run.progress.status, 'running');
  assert.equal(run.progress.pipeline, 'dia');
  assert.deepEqual(run.progress.params, { rows: 3 });
  assert.deepEqual(run.progress.order, ['a', 'b', 'c', 'd', 'e', 'solo']);
  assert.deepEqual(run.stage('d'), { status: 'pending', uses: 'kind-d', needs: ['b', 'c'] });
  assert.equal(run.progress.runKind, 'scheduled');
});

test('forcing an unknown stage is a problem: named with the stages there are, and the run does not start', () => {
  const run = new RunState({ runId: 'r', pipeline: 'dia', runKind: 'manual', startedAt: 0, params: {} });
  assert.equal(run.start(plan(), ['b', 'nope', 'zz'], '--force'), '--force names unknown stage(s) nope, zz; stages of "dia": a, b, c, d, e, solo');
  assert.equal(run.progress.status, 'preparing');
});

test('the problem names the force list as the run input has it unless told otherwise (no CLI flag in the Web UI)', () => {
  const run = new RunState({ runId: 'r', pipeline: 'dia', runKind: 'manual', startedAt: 0, params: {} });
  assert.equal(run.start(plan(), ['nope']), `the input's force list names unknown stage(s) nope; stages of "dia": a, b, c, d, e, solo`);
});

test('a stage is ready once every stage it needs completed or was cached', () => {
  const { run } = started();
  assert.deepEqual(startReady(run), ['a', 'solo']);
  assert.deepEqual(startReady(run), [], 'running stages do not start twice');
  complete(run, 'a');
  assert.deepEqual(startReady(run), ['b', 'c']);
  complete(run, 'b');
  assert.deepEqual([...run.startable()], [], 'd still needs c');
  run.stageFinished('c', outcome('c', 'cached'), 1000);
  assert.deepEqual(startReady(run), ['d'], 'a cached stage counts as done');
  assert.equal(run.stage('c').reason, 'cached c');
});

test('a stage request carries its inputs\' manifests; forced stages and their downstream skip the cache on the first attempt only', () => {
  const { run } = started(['b']);
  startReady(run);
  assert.equal(run.stageRequest('a', 0).force, false, 'a is upstream of the forced stage');
  complete(run, 'a');
  startReady(run);
  const b = run.stageRequest('b', 0);
  assert.deepEqual(b.inputs, { a: { manifestKey: 'manifests/a', contentHash: 'hash-a' } });
  assert.equal(b.force, true);
  assert.equal(run.stageRequest('b', 1).force, false, 'a retry may use what the first attempt committed');
  assert.equal(run.stageRequest('c', 0).force, false, 'c is not downstream of b');
  complete(run, 'b', 'c');
  assert.equal(run.stageRequest('d', 0).force, true);
  complete(run, 'd');
  assert.equal(run.stageRequest('e', 0).force, true, 'downstream is transitive');
  assert.deepEqual({ runId: b.runId, pipeline: b.pipeline, stage: b.stage.id, storage: b.storage }, { runId: 'run-1', pipeline: 'dia', stage: 'b', storage: { root: 'file:///store' } });
});

test('a held stage holds the run until an operator retries it; retry params go over the overrides so far', () => {
  const { run, seen } = started();
  startReady(run);
  complete(run, 'a');
  startReady(run);
  run.stageHeld('b', 'told to fail');
  assert.equal(run.progress.status, 'held');
  assert.deepEqual(run.heldStages(), ['b']);
  assert.deepEqual(run.activeStages(), ['b', 'c', 'solo'], 'held stages are current too');
  assert.deepEqual(seen.at(-1), { active: ['b', 'c', 'solo'], status: 'held' }, 'the listener sees every change');
  assert.equal(run.holdEnded('b'), false);

  assert.throws(() => run.checkRetry({ params: { nope: 1 } }), { message: 'unknown param(s) nope; params of "dia": rows' });
  assert.throws(() => run.checkRetry({ stage: 'c' }), { message: 'stage "c" is not held (held: b)' });
  run.checkRetry({ stage: 'b', params: { rows: 20 } });
  assert.equal(run.hasParamOverrides, false);
  assert.deepEqual(run.retry({ params: { rows: 20 } }), ['b']);
  assert.deepEqual(run.paramOverrides, { rows: 20 });
  assert.equal(run.hasParamOverrides, true);
  assert.deepEqual({ status: run.stage('b').status, error: run.stage('b').error }, { status: 'running', error: undefined });
  assert.equal(run.progress.status, 'running');

  assert.equal(run.holdEnded('b'), true);
  assert.equal(run.takeAction('b', 3000), 'retry');
  assert.equal(run.stage('b').status, 'running', 'taking a retry leaves the stage running');
  assert.equal(run.holdEnded('b'), false, 'the action is taken once');
  run.replan(plan({ rows: 20 }));
  assert.deepEqual(run.progress.params, { rows: 20 });
  run.stageRetrying('b');
  run.stageFinished('b', outcome('b'), 4000);
  assert.equal(run.stage('b').seconds, 4, 'seconds count from the first start');
});

test('retry params go over the input\'s overrides and the earlier retries\'', () => {
  const run = new RunState({ runId: 'r', pipeline: 'dia', runKind: 'manual', startedAt: 0, params: { rows: 3, seed: 1 } });
  run.start(plan({ rows: 3, seed: 1, bins: 4 }), []);
  assert.equal(run.hasParamOverrides, true, 'the input\'s overrides count: a retry prepares the plan again');
  startReady(run);
  run.stageHeld('a', 'boom');
  run.retry({ params: { rows: 20 } });
  run.stageHeld('a', 'boom again');
  run.retry({ params: { bins: 8 } });
  assert.deepEqual(run.paramOverrides, { rows: 20, seed: 1, bins: 8 });
});

test('with nothing held, retry and skip are refused', () => {
  const { run } = started();
  assert.throws(() => run.checkRetry({}), { message: 'no stage is held' });
  assert.throws(() => run.checkSkip({}), { message: 'no stage is held' });
  assert.throws(() => run.checkSkip({ stage: 'a' }), { message: 'stage "a" is not held (held: none)' });
});

test('a skipped stage skips everything downstream of it; the run still completes', () => {
  const { run } = started();
  startReady(run);
  complete(run, 'a', 'solo');
  startReady(run);
  run.stageHeld('b', 'boom');
  run.checkSkip({ stage: 'b' });
  assert.deepEqual(run.skip({ stage: 'b' }), ['b']);
  assert.equal(run.stage('b').reason, 'skipped by operator');
  assert.equal(run.takeAction('b', 2000), 'skip');
  assert.deepEqual({ status: run.stage('b').status, seconds: run.stage('b').seconds, error: run.stage('b').error }, { status: 'skipped', seconds: 2, error: undefined });
  complete(run, 'c');
  assert.deepEqual(startReady(run), []);
  assert.deepEqual(statuses(run), { a: 'completed', b: 'skipped', c: 'completed', d: 'skipped', e: 'skipped', solo: 'completed' });
  assert.equal(run.stage('d').reason, 'upstream "b" did not complete');
  assert.equal(run.stage('e').reason, 'upstream "d" did not complete', 'skipped in the same pass');
  const result = run.finish();
  assert.equal(result.status, 'completed');
  assert.equal(run.progress.status, 'completed');
});

test('skips and starts come in plan order when the caller starts each stage before asking for the next', () => {
  // x needs the failed f; y is ready; z needs f: skip x, start y, skip z.
  const stages = ['f', 'x', 'y', 'z'].map((id) => ({ ...resolved('a'), id, needs: id === 'x' || id === 'z' ? ['f'] : [] }));
  const log: string[] = [];
  const run = new RunState({ runId: 'r', pipeline: 'p', runKind: 'manual', startedAt: 0, params: {} }, (r) => log.push(r.activeStages().join(',') || '-'));
  run.start({ ...plan(), stages }, []);
  run.stageStarted('f', 0);
  run.stageCancelled('f', 1);
  log.length = 0;
  for (const id of run.startable()) {
    log.push(`start ${id}`);
    run.stageStarted(id, 2);
  }
  assert.deepEqual(log, ['-', 'start y', 'y', 'y']);
  assert.deepEqual(statuses(run), { f: 'failed', x: 'skipped', y: 'running', z: 'skipped' });
});

test('abort: a held stage fails "(aborted)", running work fails with the reason, pending stages are skipped', () => {
  const { run } = started();
  startReady(run);
  complete(run, 'a');
  startReady(run);
  run.stageHeld('b', 'boom');
  run.abort('operator said so');
  assert.equal(run.aborted, true);
  assert.equal(run.holdEnded('b'), true, 'abort ends every hold');
  assert.equal(run.takeAction('b', 2000), 'aborted');
  assert.deepEqual({ status: run.stage('b').status, error: run.stage('b').error }, { status: 'failed', error: 'boom (aborted)' });
  run.stageCancelled('c', 2500);
  assert.deepEqual({ status: run.stage('c').status, error: run.stage('c').error, seconds: run.stage('c').seconds }, { status: 'failed', error: 'operator said so', seconds: 2.5 });
  assert.deepEqual(startReady(run), []);
  assert.equal(run.stage('d').reason, 'run aborted');
  const result = run.finish();
  assert.equal(result.status, 'aborted');
  assert.equal(run.progress.status, 'aborted');
  assert.equal(run.progress.message, 'operator said so');
  assert.deepEqual(Object.fromEntries(Object.entries(result.stages).map(([id, s]) => [id, s.status])), { a: 'completed', b: 'failed', c: 'failed', d: 'skipped', e: 'skipped', solo: 'running' });
});

test('abort without a reason says so, and wins over a retry the stage has not taken yet', () => {
  const { run } = started();
  startReady(run);
  run.stageHeld('a', 'boom');
  run.retry({});
  run.abort(undefined);
  assert.equal(run.abortReason, 'aborted by operator');
  assert.equal(run.takeAction('a', 1000), 'aborted');
  assert.equal(run.stage('a').status, 'failed');
  assert.equal(run.finish().status, 'aborted');
});

test('a cancelled stage without an abort fails the run', () => {
  const { run } = started();
  startReady(run);
  run.stageCancelled('a', 1000);
  complete(run, 'solo');
  startReady(run);
  assert.equal(run.stage('a').error, 'cancelled');
  assert.equal(run.finish().status, 'failed');
  assert.equal(run.progress.message, undefined);
});

test('the result lists every stage in plan order, with outputs, manifest and counts when it has an outcome', () => {
  const { run } = started();
  startReady(run, 1000);
  run.stageFinished('a', outcome('a'), 3500);
  run.stageHeld('solo', 'x');
  run.skip({ stage: 'solo' });
  const result = run.finish();
  assert.deepEqual(Object.keys(result.stages), ['a', 'b', 'c', 'd', 'e', 'solo']);
  assert.deepEqual(result.stages.a, {
    status: 'completed', seconds: 2.5, reason: 'completed a', outputs: outcome('a').outputs, manifestUri: 'file:///store/manifests/a', counts: { rows: 1 },
  });
  assert.deepEqual(result.stages.b, { status: 'pending', seconds: 0, outputs: [] });
  assert.deepEqual(result.stages.solo, { status: 'skipped', seconds: 0, reason: 'skipped by operator', outputs: [] });
  assert.deepEqual({ runId: result.runId, pipeline: result.pipeline }, { runId: 'run-1', pipeline: 'dia' });
});

test('progress reports reach running stages only, and go when the stage stops running', () => {
  const { run } = started();
  startReady(run);
  assert.equal(run.stageProgress({ stageId: 'a', done: 3, total: 10 }), true);
  assert.deepEqual(run.stage('a').progress, { stageId: 'a', done: 3, total: 10 });
  assert.equal(run.stageProgress({ stageId: 'b', done: 1 }), false, 'b is pending');
  assert.equal(run.stageProgress({ stageId: 'ghost', done: 1 }), false);
  run.stageHeld('a', 'boom');
  assert.equal(run.stage('a').progress, undefined);
  assert.equal(run.stageProgress({ stageId: 'a', done: 4 }), false, 'a late report from a held stage');
});

test('every stage change reaches the listener; the run is held while any stage is', () => {
  const { run, seen } = started();
  startReady(run);
  run.stageHeld('a', 'boom');
  run.stageHeld('solo', 'bang');
  run.skip({ stage: 'a' });
  assert.deepEqual(seen, [
    { active: ['a'], status: 'running' },
    { active: ['a', 'solo'], status: 'running' },
    { active: ['a', 'solo'], status: 'held' },
    { active: ['a', 'solo'], status: 'held' },
    { active: ['solo'], status: 'held' },
  ]);
  assert.deepEqual(run.retry({}), ['solo'], 'retry without a stage takes every held one');
  assert.equal(run.progress.status, 'running');
});

test('an operator retry is the stage\'s next attempt; skips and aborts are not', () => {
  const { run } = started();
  startReady(run);
  assert.equal(run.attemptOf('a'), 0);
  run.stageHeld('a', 'boom');
  run.retry({ stage: 'a' });
  assert.equal(run.takeAction('a', 1), 'retry');
  assert.equal(run.attemptOf('a'), 1);
  assert.equal(run.stageRequest('a', run.attemptOf('a')).force, false);
  run.stageHeld('a', 'boom again');
  run.skip({ stage: 'a' });
  assert.equal(run.takeAction('a', 2), 'skip');
  assert.equal(run.attemptOf('a'), 1);
});

test('stages at their hold: held ones, and acted-on ones that have not gone on yet', () => {
  const { run } = started();
  startReady(run);
  run.stageHeld('a', 'boom');
  run.stageHeld('solo', 'bang');
  assert.deepEqual(run.stagesAtHold(), ['a', 'solo']);
  run.retry({ stage: 'a' });
  assert.equal(run.stage('a').status, 'running');
  assert.deepEqual(run.stagesAtHold(), ['a', 'solo'], 'a has its retry to take');
  run.takeAction('a', 1);
  assert.deepEqual(run.stagesAtHold(), ['solo']);
});

test('a snapshot restores the whole run: stages, plan, overrides, forced stages, pending actions, attempts', () => {
  const { run } = started(['b']);
  startReady(run);
  complete(run, 'a');
  startReady(run);
  run.stageHeld('b', 'boom');
  run.stageHeld('c', 'bang');
  run.retry({ stage: 'b', params: { rows: 20 } });
  assert.equal(run.takeAction('b', 5), 'retry');
  run.stageHeld('b', 'boom again');
  run.skip({ stage: 'c' });
  // Through JSON, as Temporal carries it.
  const seen: string[] = [];
  const again = RunState.restore(JSON.parse(JSON.stringify(run.snapshot())) as ReturnType<RunState['snapshot']>, (r) => seen.push(r.progress.status));
  assert.deepEqual(again.snapshot(), JSON.parse(JSON.stringify(run.snapshot())));
  assert.deepEqual(again.paramOverrides, { rows: 20 });
  assert.equal(again.attemptOf('b'), 1);
  assert.deepEqual(again.snapshot().forced.sort(), ['b', 'd', 'e'], 'b and its downstream');
  assert.equal(again.stageRequest('b', 0).force, true);
  assert.deepEqual(again.stagesAtHold(), ['b', 'c']);
  assert.equal(again.holdEnded('c'), true, 'the skip is still to be taken');
  assert.equal(again.takeAction('c', 6), 'skip');
  again.retry({ stage: 'b' });
  assert.equal(again.takeAction('b', 7), 'retry');
  assert.equal(again.attemptOf('b'), 2);
  assert.ok(seen.length > 0, 'the restored run publishes its changes');
  complete(again, 'b');
  assert.deepEqual(startReady(again), [], 'd needs c, which was skipped');
  assert.equal(again.stage('d').status, 'skipped');
});
