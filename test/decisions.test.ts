/** "Why did this stage run?": explanations diffed against the stage's last run. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalStorage } from '../storage/index.js';
import { explainRun, recordLastRun } from '../runtime/decisions.js';
import type { ResolvedStage, StageRequest } from '../protocol/protocol.js';

const storage = new LocalStorage(mkdtempSync(join(tmpdir(), 'topoflow-decisions-')));
const stage = (patch: Partial<ResolvedStage> = {}): ResolvedStage => ({
  id: 's', uses: 'noop', kindVersion: '1', kindType: 'simple', needs: ['up'], with: { rows: 10 },
  retry: { maxAttempts: 1, initialInterval: '1s', backoffCoefficient: 2 }, timeout: '1h', heartbeatTimeout: '30s', queue: 'topoflow', ...patch,
});
const req = (s: ResolvedStage, inputHash = 'h1', force = false): StageRequest => ({
  runId: 'r', pipeline: 'p', stage: s, storage: { root: storage.rootUri }, inputs: { up: { manifestKey: 'm', contentHash: inputHash } }, force,
});

test('first run, forced, uncommitted, and each kind of change is named', async () => {
  assert.equal(await explainRun(storage, req(stage()), 'k1'), 'first run of this stage');
  await recordLastRun(storage, req(stage()), 'k1');
  assert.equal(await explainRun(storage, req(stage(), 'h1', true), 'k1'), 'forced (--force)');
  assert.match(await explainRun(storage, req(stage()), 'k1'), /did not commit/);
  assert.equal(await explainRun(storage, req(stage({ with: { rows: 20 } })), 'k2'), 'new key: with.rows: 10 → 20');
  assert.equal(await explainRun(storage, req(stage(), 'h2'), 'k2'), 'new key: input "up" changed');
  assert.equal(await explainRun(storage, req(stage({ kindVersion: '2' })), 'k2'), 'new key: kind noop version 1 → 2');
  assert.equal(await explainRun(storage, req(stage({ uses: 'features', with: { caps: 5, scale: true } })), 'k2'), 'new key: kind noop → features', 'a new kind: its parameters are not listed');
});
