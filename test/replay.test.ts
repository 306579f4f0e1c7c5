/**
 * Determinism gate: recorded histories (test/fixtures/histories, made by
 * test/support/recordHistories.ts) must replay on the current workflow bundle.
 * A workflow change that would break running workflows fails here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from '@temporalio/worker';
import proto from '@temporalio/proto';
import { projectRoot } from '../infra/tools.js';
import { workflowBundlePath } from '../workers/worker.js';

const dir = join(projectRoot, 'test', 'fixtures', 'histories');

test('recorded histories replay on the prebuilt workflow bundle', async () => {
  const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as Record<string, string>;
  const files = readdirSync(dir).filter((f) => f.endsWith('.binpb'));
  assert.ok(files.length >= 6, 'histories are recorded');
  for (const file of files) {
    const workflowId = index[file.replace(/\.binpb$/, '')];
    assert.ok(workflowId, `${file} is in index.json`);
    const history = proto.temporal.api.history.v1.History.decode(readFileSync(join(dir, file)));
    await Worker.runReplayHistory({ workflowBundle: { codePath: workflowBundlePath } }, history, workflowId);
  }
});
