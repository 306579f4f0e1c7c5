/**
 * Records workflow histories for the replay test (determinism gate):
 *   node dist/test/support/recordHistories.js
 * Re-record only when a workflow change is meant to be incompatible (and then
 * old runs must be drained first); otherwise guard changes with `patched()`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import proto from '@temporalio/proto';
import { projectRoot } from '../../infra/tools.js';
import { NAMES } from '../../protocol/protocol.js';
import { Harness } from './harness.js';

const h = new Harness();
await h.start();
await h.startWorker();
const storage = { root: pathToFileURL(join(h.tmp, 'store')).href };
const out = join(projectRoot, 'test', 'fixtures', 'histories');
const index: Record<string, string> = {};
const save = async (name: string, runId: string) => {
  index[name] = runId; // replay needs the original workflow id
  const history = await h.client.workflow.getHandle(runId).fetchHistory();
  // Binary protobuf: @temporalio/common's JSON helpers trip over its own nested protobufjs copy (SDK 1.24).
  writeFileSync(join(out, `${name}.binpb`), proto.temporal.api.history.v1.History.encode(history).finish());
  console.log(`${name}: ${history.events?.length} events`);
};
try {
  const diamond = { name: 'diamond', params: { rowsB: 50 }, stages: {
    a: { uses: 'test-emit', with: { rows: 100, seed: 1 } },
    b: { uses: 'test-emit', with: { rows: '${params.rowsB}', seed: 2 } },
    sum: { uses: 'test-sum', needs: ['a', 'b'] },
  } };
  let id = await h.run({ pipeline: diamond, storage });
  await h.result(id);
  await save('diamond-fresh', id);
  id = await h.run({ pipeline: diamond, storage, force: ['b'] });
  await h.result(id);
  await save('diamond-cached-and-forced', id);

  const flaky = { name: 'flaky', params: { ok: false }, stages: {
    first: { uses: 'test-emit', with: { rows: 10 } },
    flaky: { uses: 'test-flaky', needs: ['first'], with: { succeed: '${params.ok}' }, retry: { maxAttempts: 1 } },
    after: { uses: 'test-sum', needs: ['flaky'] },
  } };
  id = await h.run({ pipeline: flaky, storage });
  await h.waitFor(id, (p) => p.status === 'held', 'hold');
  await h.client.workflow.getHandle(id).executeUpdate(NAMES.retryUpdate, { args: [{ params: { ok: true } }] });
  await h.result(id);
  await save('flaky-hold-retry', id);

  id = await h.run({ pipeline: { ...flaky, name: 'flaky2' }, storage });
  await h.waitFor(id, (p) => p.status === 'held', 'hold');
  await h.client.workflow.getHandle(id).executeUpdate(NAMES.abortUpdate, { args: [{ reason: 'recording' }] });
  await h.result(id).catch(() => undefined);
  await save('flaky-hold-abort', id);

  id = await h.run({ pipeline: { name: 'fan', stages: { fan: { uses: 'test-fanout', with: { shards: 5, window: 2 } }, after: { uses: 'noop', needs: ['fan'] } } }, storage });
  await h.result(id);
  await save('fanout-parent', id);
  await save('fanout-child', `${id}/fan/0`);

  id = await h.run({ pipeline: { name: 'pre', stages: { pre: { uses: 'test-prepass', with: { shards: 4 } } } }, storage });
  await h.result(id);
  await save('prepass-child', `${id}/pre/0`);
  writeFileSync(join(out, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
} finally {
  await h.stop();
}
