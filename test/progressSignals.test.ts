/** Which progress reports become signals to the run (activities/progressSignals.ts): few, whatever the report rate. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_MILESTONE_SIGNALS, ProgressSignals } from '../activities/progressSignals.js';
import type { StageProgressSignal } from '../protocol/protocol.js';

function harness(minIntervalMs = 0) {
  let now = 0;
  const sent: StageProgressSignal[] = [];
  const signals = new ProgressSignals((p) => sent.push(p), minIntervalMs, () => now);
  return { signals, sent, tick: (ms: number) => void (now += ms) };
}

test('the start always goes; then one signal per tenth of the total, however many reports', () => {
  const { signals, sent, tick } = harness();
  signals.started({ stageId: 's', done: 0, message: 'started on a train worker' });
  for (let done = 1; done <= 100_000; done++) {
    tick(1);
    signals.report({ stageId: 's', done, total: 100_000, unit: 'steps' });
  }
  assert.equal(sent[0]!.message, 'started on a train worker');
  assert.deepEqual(sent.slice(1).map((p) => p.done), [1, 10_000, 20_000, 30_000, 40_000, 50_000, 60_000, 70_000, 80_000, 90_000, 100_000]);
});

test('reports without a total (a count, a message) never become signals: their heartbeats show them', () => {
  const { signals, sent, tick } = harness();
  for (let done = 0; done < 1000; done++) {
    tick(1000);
    signals.report({ stageId: 's', done, unit: 'events', message: `part ${done}` });
  }
  assert.equal(sent.length, 0);
});

test('signals are at least the interval apart; a tenth reached too soon goes with a later report of it', () => {
  const { signals, sent, tick } = harness(2000);
  signals.started({ stageId: 's', done: 0 });
  signals.report({ stageId: 's', done: 5, total: 10, unit: 'rows' });
  tick(1999);
  signals.report({ stageId: 's', done: 5, total: 10, unit: 'rows' });
  assert.equal(sent.length, 1, 'still within the interval after the start');
  tick(1);
  signals.report({ stageId: 's', done: 5, total: 10, unit: 'rows' });
  assert.deepEqual(sent.map((p) => p.done), [0, 5]);
});

test('a new unit starts a new phase; the total number of milestones is capped', () => {
  const { signals, sent } = harness();
  signals.report({ stageId: 's', done: 10, total: 10, unit: 'parts verified' });
  signals.report({ stageId: 's', done: 0, total: 10, unit: 'steps' });
  assert.deepEqual(sent.map((p) => p.unit), ['parts verified', 'steps']);
  for (let i = 0; i < 100; i++) signals.report({ stageId: 's', done: 0, total: 10, unit: `phase ${i}` });
  assert.equal(sent.length, MAX_MILESTONE_SIGNALS);
});
