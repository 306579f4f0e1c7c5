/**
 * `topoflow verify`: committed outputs re-hashed against their manifests, in
 * the domain function and through the CLI (no server needed without a run id).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { LocalStorage } from '../storage/index.js';
import { runSimpleStage } from '../runtime/stageRunner.js';
import { verifyCommitted } from '../runtime/verifyStore.js';
import { KindRegistry } from '../stages/registry.js';
import type { SimpleStageKind } from '../stages/kind.js';
import type { StageOutcome, StageRequest } from '../protocol/protocol.js';
import { cliEntry } from './support/harness.js';

const twoFiles: SimpleStageKind<{ label: string }> = {
  type: 'simple',
  name: 'two-files',
  version: '1',
  description: 'test: writes two small files',
  withSchema: z.strictObject({ label: z.string() }),
  async run(ctx) {
    await ctx.output.write('a.txt', `a ${ctx.with.label}\n`);
    await ctx.output.write('b.txt', `b ${ctx.with.label}\n`);
    return {};
  },
};
const registry = new KindRegistry([twoFiles]);

/** A local store with two committed entries. */
async function committedStore(): Promise<{ dir: string; storage: LocalStorage; outcomes: StageOutcome[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'topoflow-verify-'));
  const storage = new LocalStorage(dir);
  const outcomes: StageOutcome[] = [];
  for (const label of ['x', 'y']) {
    const req: StageRequest = {
      runId: 'r', pipeline: 'p', inputs: {}, force: false, storage: { root: pathToFileURL(dir).href },
      stage: { id: `s-${label}`, uses: 'two-files', kindVersion: '1', kindType: 'simple', needs: [], with: { label }, retry: { maxAttempts: 1, initialInterval: '1s', backoffCoefficient: 2 }, timeout: '1m', heartbeatTimeout: '30s', queue: 'topoflow' },
    };
    outcomes.push(await runSimpleStage(req, { registry, storage }));
  }
  return { dir, storage, outcomes };
}

test('verifyCommitted: intact entries pass; a same-size corruption and a deleted output are each named', async () => {
  const { storage, outcomes } = await committedStore();
  const intact = await verifyCommitted(storage);
  assert.deepEqual(intact.map((c) => [c.stageId, c.outputs, c.problems]).sort(), [['s-x', 2, []], ['s-y', 2, []]]);

  const [x, y] = outcomes as [StageOutcome, StageOutcome];
  await storage.put(x.outputs.find((o) => o.name === 'a.txt')!.key, 'A x\n'); // same size, other bytes
  await storage.delete(y.outputs.find((o) => o.name === 'b.txt')!.key);
  const damaged = Object.fromEntries((await verifyCommitted(storage)).map((c) => [c.stageId, c.problems]));
  assert.equal(damaged['s-x']!.length, 1);
  assert.match(damaged['s-x']![0]!, /^a\.txt: .*differs from what its stage's manifest recorded/);
  assert.deepEqual(damaged['s-y'], [`b.txt: missing (${storage.uri(y.outputs.find((o) => o.name === 'b.txt')!.key)})`]);

  const onlyY = await verifyCommitted(storage, { keyPrefix: y.key.slice(0, 10) });
  assert.deepEqual(onlyY.map((c) => c.stageId), ['s-y']);
  assert.deepEqual((await verifyCommitted(storage, { kind: 'other' })).length, 0);
});

test('topoflow verify: exit 0 and "all intact"; exit 1 naming the damaged output; a kind filter; --json', async () => {
  const { dir, storage, outcomes } = await committedStore();
  const yaml = join(dir, 'pipelines.yaml');
  writeFileSync(yaml, `storage:\n  root: ${pathToFileURL(dir).href}\npipelines:\n  p:\n    stages:\n      s: { uses: noop }\n`);
  const verify = (...args: string[]) => spawnSync(process.execPath, [cliEntry, 'verify', '-f', yaml, ...args], { encoding: 'utf8', env: { ...process.env, TOPOFLOW_DATA: join(dir, 'data') } });

  const ok = verify();
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^ok {6}two-files/m);
  assert.match(ok.stdout, /2 committed stage\(s\) checked under file:.*: all intact/);

  await storage.put(outcomes[0]!.outputs[0]!.key, 'damaged!\n');
  const bad = verify('two-files');
  assert.equal(bad.status, 1, bad.stderr);
  assert.match(bad.stdout, /^DAMAGED two-files/m);
  assert.match(bad.stdout, /a\.txt: .*differs from what its stage's manifest recorded/);
  assert.match(bad.stdout, /1 damaged/);

  const json = JSON.parse(verify('--json').stdout) as { entries: unknown[]; damaged: number };
  assert.equal(json.entries.length, 2);
  assert.equal(json.damaged, 1);
});
