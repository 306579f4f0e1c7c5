/**
 * The packed-rows plan of a masked batch (ml/rowPlan.ts): longest first, and
 * the running prefix shrinking only by an eighth or more, never below the
 * rows still unfinished.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fullPlan, packedPlan, runsEverything } from '../ml/rowPlan.js';

test('packed plan: longest first (ties in batch order), rows of length 0 never run, every real step of every row run', () => {
  const lengths = Int32Array.from([2, 4, 0, 5, 5, 1]);
  const plan = packedPlan(lengths);
  assert.deepEqual(Array.from(plan.order!), [3, 4, 1, 0, 5, 2]);
  assert.equal(plan.running.length, 5, 'up to the longest row');
  // At each step, every row not yet past its last real step is in the running prefix.
  plan.running.forEach((k, t) => {
    const unfinished = Array.from(lengths).filter((n) => n > t).length;
    assert.ok(k >= unfinished, `step ${t}: ${k} rows run, ${unfinished} unfinished`);
  });
  assert.deepEqual(plan.running, [5, 4, 3, 3, 2]);
  for (let t = 1; t < plan.running.length; t++) assert.ok(plan.running[t]! <= plan.running[t - 1]!, 'never growing');
});

test('packed plan: a prefix shrinks only once an eighth of it has finished (fewer ops)', () => {
  // 64 rows: lengths 64, 63, ..., 1: one row finishes per step.
  const lengths = Int32Array.from({ length: 64 }, (_, i) => 64 - i);
  const plan = packedPlan(lengths);
  assert.equal(plan.order, null, 'already longest first');
  const shrinks = plan.running.filter((k, t) => t > 0 && k < plan.running[t - 1]!).length;
  assert.ok(shrinks < 30, `${shrinks} shrinks`);
  assert.ok(shrinks > 10, `${shrinks} shrinks`);
  plan.running.forEach((k, t) => assert.ok(k >= 64 - t, `step ${t}: ${k} rows`));
  const run = plan.running.reduce((a, b) => a + b, 0);
  assert.ok(run < 0.6 * 64 * 64, `${run} row-steps of ${64 * 64}`);
});

test('a plan runs everything only when nothing is skipped', () => {
  assert.ok(runsEverything(fullPlan(4, 6), 4, 6));
  assert.ok(runsEverything(packedPlan(Int32Array.from([6, 6, 6, 6])), 4, 6));
  assert.ok(!runsEverything(packedPlan(Int32Array.from([6, 6, 6, 5])), 4, 6));
  assert.ok(!runsEverything(packedPlan(Int32Array.from([5, 6, 6, 6])), 4, 6), 'reordered');
  assert.deepEqual(packedPlan(Int32Array.from([0, 0])).running, [], 'all masked: no step');
});
