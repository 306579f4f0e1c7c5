/**
 * One computation per cache key (runtime/keyLease.ts and its use in the stage
 * runner), on the local store: concurrent callers of one key compute it once
 * and the others join; dead holders are taken over; a holder that lost its
 * lease cannot commit; an input whose content changed is refused; a cache hit
 * whose outputs were damaged is recomputed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { LocalStorage } from '../storage/index.js';
import { LeaseLostError, singleFlight, type HeldLease, type LeaseHolder } from '../runtime/keyLease.js';
import { runSimpleStage, stageKey } from '../runtime/stageRunner.js';
import { KindRegistry } from '../stages/registry.js';
import type { SimpleStageKind } from '../stages/kind.js';
import type { ResolvedStage, StageRequest } from '../protocol/protocol.js';
import { BadInputError } from '../common/errors.js';

const fresh = () => new LocalStorage(mkdtempSync(join(tmpdir(), 'topoflow-lease-')));
const holder = (runId: string, stageId = 's'): LeaseHolder => ({ runId, stageId, worker: `test:${runId}` });
const timing = { ttlMs: 400, pollMs: 20 };

/** A unit whose result is the object `result` (absent until computed). */
function unit(storage: LocalStorage, runId: string, computeMs: number, computed: string[]) {
  return singleFlight({
    storage,
    folder: 'leases/k/key1',
    holder: holder(runId),
    timing,
    async committed(joined) {
      const info = await storage.stat('result');
      return info ? { by: Buffer.from(await storage.get('result')).toString(), joined: joined?.runId ?? null } : null;
    },
    async compute(lease) {
      computed.push(runId);
      await sleep(computeMs);
      await lease.assertHeld();
      await storage.put('result', runId);
      return { by: runId, joined: null };
    },
  });
}

test('concurrent callers of one key: one computes, the others wait and join its result; the lease is gone afterwards', async () => {
  const storage = fresh();
  const computed: string[] = [];
  const results = await Promise.all(['r1', 'r2', 'r3', 'r4'].map((r) => unit(storage, r, 200, computed)));
  assert.equal(computed.length, 1, `computed by ${computed.join(', ')}`);
  const [winner] = computed;
  for (const r of results) assert.equal(r.by, winner);
  assert.equal(results.filter((r) => r.joined === winner).length, 3, 'the three others joined the winner');
  assert.deepEqual(await storage.list('leases/'), []);
});

test("a dead holder's lease expires and the next caller takes over; the same run's retry takes over at once", async () => {
  const storage = fresh();
  const stale = { holder: holder('dead'), renewedAt: Date.now() - 10_000, ttlMs: 400 };
  await storage.put('leases/k/key1/00000000.json', JSON.stringify(stale));
  const computed: string[] = [];
  const r = await unit(storage, 'next', 10, computed);
  assert.deepEqual(computed, ['next']);
  assert.equal(r.by, 'next');

  const storage2 = fresh();
  const live = { holder: holder('same'), renewedAt: Date.now(), ttlMs: 60_000 };
  await storage2.put('leases/k/key1/00000000.json', JSON.stringify(live));
  const t0 = Date.now();
  const computed2: string[] = [];
  await unit(storage2, 'same', 10, computed2);
  assert.deepEqual(computed2, ['same']);
  assert.ok(Date.now() - t0 < 2_000, 'the retry did not wait for the TTL');
});

test('a live holder of another run is waited for, not overtaken', async () => {
  const storage = fresh();
  const live = { holder: holder('other'), renewedAt: Date.now(), ttlMs: 60_000 };
  await storage.put('leases/k/key1/00000000.json', JSON.stringify(live));
  const computed: string[] = [];
  const waiting = unit(storage, 'me', 10, computed);
  await sleep(300);
  assert.deepEqual(computed, [], 'nothing computed while the other run holds the lease');
  await storage.put('result', 'other');
  const r = await waiting;
  assert.deepEqual(r, { by: 'other', joined: 'other' });
});

test('a holder that lost its lease is aborted and cannot commit; a failed holder lets a waiter compute', async () => {
  const storage = fresh();
  let seen: HeldLease | undefined;
  const run = singleFlight({
    storage,
    folder: 'leases/k/key2',
    holder: holder('loser'),
    timing: { ttlMs: 150, pollMs: 20 },
    committed: async () => null,
    async compute(lease) {
      seen = lease;
      // Someone takes generation 1 (as after an expiry): the renewal notices.
      await storage.put('leases/k/key2/00000001.json', JSON.stringify({ holder: holder('thief'), renewedAt: Date.now(), ttlMs: 60_000 }));
      await sleep(400);
      return 'committed anyway';
    },
  });
  await assert.rejects(run.then(() => seen!.assertHeld()), LeaseLostError);
  assert.ok(seen!.signal.aborted, 'the computation was told to stop');
  assert.ok(await storage.stat('leases/k/key2/00000001.json'), "the new holder's lease is left alone");

  const storage2 = fresh();
  const computed: string[] = [];
  const failing = singleFlight({
    storage: storage2,
    folder: 'leases/k/key1',
    holder: holder('fails'),
    timing,
    committed: async () => null,
    async compute() {
      computed.push('fails');
      await sleep(100);
      throw new Error('boom');
    },
  });
  await sleep(20);
  const waiter = unit(storage2, 'waiter', 10, computed);
  await assert.rejects(failing, /boom/);
  assert.equal((await waiter).by, 'waiter');
  assert.deepEqual(computed, ['fails', 'waiter']);
});

// --- the stage runner ------------------------------------------------------

let runs = 0;
const counted: SimpleStageKind<{ rows: number }> = {
  type: 'simple',
  name: 'counted',
  version: '1',
  description: 'test: counts its runs',
  withSchema: z.strictObject({ rows: z.number() }),
  async run(ctx) {
    runs++;
    await sleep(300, undefined, { signal: ctx.signal });
    await ctx.output.write('rows.txt', 'x\n'.repeat(ctx.with.rows));
    return { counts: { rows: ctx.with.rows } };
  },
};
const registry = new KindRegistry([counted]);
const stage = (id: string, rows: number): ResolvedStage => ({
  id, uses: 'counted', kindVersion: '1', kindType: 'simple', needs: [], with: { rows },
  retry: { maxAttempts: 1, initialInterval: '1s', backoffCoefficient: 2 }, timeout: '1m', heartbeatTimeout: '30s', queue: 'topoflow',
});
const request = (runId: string, s: ResolvedStage, inputs: StageRequest['inputs'] = {}): StageRequest => ({
  runId, pipeline: 'p', stage: s, storage: { root: 'file:///unused' }, inputs, force: false,
});

test('runSimpleStage: three runs of one key at once compute it once; the others report it joined, with the same outputs', async () => {
  const storage = fresh();
  runs = 0;
  const outcomes = await Promise.all(['a', 'b', 'c'].map((r) => runSimpleStage(request(r, stage('s', 5)), { registry, storage, leaseTiming: timing })));
  assert.equal(runs, 1);
  assert.equal(outcomes.filter((o) => o.status === 'completed').length, 1);
  const joined = outcomes.filter((o) => o.status === 'cached');
  assert.equal(joined.length, 2);
  for (const o of joined) assert.match(o.reason, /^joined: run [abc] \(stage "s"\) was computing this key/);
  assert.equal(new Set(outcomes.map((o) => o.contentHash)).size, 1);
  assert.equal(new Set(outcomes.map((o) => o.manifestKey)).size, 1);
  const key = stageKey(stage('s', 5), {});
  assert.deepEqual((await storage.list('cache/')).map((o) => o.key), [`cache/counted/${key}/data/rows.txt`, `cache/counted/${key}/manifest.json`]);
  assert.deepEqual(await storage.list('leases/'), []);
});

test('runSimpleStage: an input whose manifest no longer has the content hash the key was computed from fails naming both', async () => {
  const storage = fresh();
  const up = await runSimpleStage(request('a', stage('up', 3)), { registry, storage, leaseTiming: timing });
  const stale = 'f'.repeat(64);
  await assert.rejects(
    runSimpleStage(request('a', { ...stage('down', 4), needs: ['up'] }, { up: { manifestKey: up.manifestKey, contentHash: stale } }), { registry, storage, leaseTiming: timing }),
    (err: unknown) => err instanceof BadInputError && err.message.includes(up.contentHash) && err.message.includes(stale) && err.message.includes('input "up"'),
  );
});

test('runSimpleStage: a cache hit whose outputs were deleted or truncated since the commit is recomputed, saying why', async () => {
  const storage = fresh();
  runs = 0;
  const first = await runSimpleStage(request('a', stage('s', 6)), { registry, storage, leaseTiming: timing });
  const again = await runSimpleStage(request('b', stage('s', 6)), { registry, storage, leaseTiming: timing });
  assert.equal(again.status, 'cached');
  const out = first.outputs.find((o) => o.name === 'rows.txt')!;
  await storage.put(out.key, 'x\n');
  const truncated = await runSimpleStage(request('c', stage('s', 6)), { registry, storage, leaseTiming: timing });
  assert.equal(truncated.status, 'completed');
  assert.match(truncated.reason, /^committed outputs missing or damaged \(rows\.txt has 2 bytes, 12 recorded\)/);
  await storage.delete(out.key);
  const deleted = await runSimpleStage(request('d', stage('s', 6)), { registry, storage, leaseTiming: timing });
  assert.match(deleted.reason, /^committed outputs missing or damaged \(rows\.txt is missing\)/);
  assert.equal(deleted.contentHash, first.contentHash);
  assert.equal(runs, 3);
});

test('an outcome carries the manifest summary when it is small (evaluate AUCs), and leaves a large one in the manifest', async () => {
  const storage = fresh();
  const summarising: SimpleStageKind<{ size: number }> = {
    type: 'simple', name: 'summarising', version: '1', description: 'test', withSchema: z.strictObject({ size: z.number() }),
    async run(ctx) {
      await ctx.output.write('x.txt', 'x');
      return { summary: { values: Array.from({ length: ctx.with.size }, (_, i) => i) } };
    },
  };
  const reg = new KindRegistry([summarising]);
  const s = (size: number): ResolvedStage => ({ ...stage(`s${size}`, 0), uses: 'summarising', with: { size } });
  const small = await runSimpleStage(request('a', s(3)), { registry: reg, storage, leaseTiming: timing });
  assert.deepEqual(small.summary, { values: [0, 1, 2] });
  const large = await runSimpleStage(request('a', s(5000)), { registry: reg, storage, leaseTiming: timing });
  assert.equal(large.summary, undefined);
});
