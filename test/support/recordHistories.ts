/**
 * Records workflow histories for the replay test (determinism gate):
 *   node dist/test/support/recordHistories.js [--only scenario,...]
 * Re-record only when a workflow change is meant to be incompatible (and then
 * old runs must be drained first); otherwise guard changes with `patched()`.
 * `--only` records just the named scenarios (e.g. new ones) and keeps the
 * other histories as they are.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import proto from '@temporalio/proto';
import { projectRoot } from '../../infra/tools.js';
import { NAMES } from '../../protocol/protocol.js';
import { Harness } from './harness.js';

const out = join(projectRoot, 'test', 'fixtures', 'histories');
const indexFile = join(out, 'index.json');
const onlyAt = process.argv.indexOf('--only');
const only = onlyAt >= 0 ? new Set(process.argv[onlyAt + 1]?.split(',')) : undefined;
const index: Record<string, string> = only ? (JSON.parse(readFileSync(indexFile, 'utf8')) as Record<string, string>) : {};

/** A server where Temporal suggests continue-as-new early, so runs show it in a few stages. */
const CONTINUE_EARLY = ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=40'];

interface Scenario {
  serverArgs?: string[];
  record(h: Harness, storage: { root: string }, save: Save): Promise<void>;
}
/** Saves the history of `workflowId` (its latest execution, or `runId`'s) as `<name>.binpb`. */
type Save = (name: string, workflowId: string, runId?: string) => Promise<void>;

const diamond = { name: 'diamond', params: { rowsB: 50 }, stages: {
  a: { uses: 'test-emit', with: { rows: 100, seed: 1 } },
  b: { uses: 'test-emit', with: { rows: '${params.rowsB}', seed: 2 } },
  sum: { uses: 'test-sum', needs: ['a', 'b'] },
} };
const flaky = { name: 'flaky', params: { ok: false }, stages: {
  first: { uses: 'test-emit', with: { rows: 10 } },
  flaky: { uses: 'test-flaky', needs: ['first'], with: { succeed: '${params.ok}' }, retry: { maxAttempts: 1 } },
  after: { uses: 'test-sum', needs: ['flaky'] },
} };

const scenarios: Record<string, Scenario> = {
  diamond: { async record(h, storage, save) {
    let id = await h.run({ pipeline: diamond, storage });
    await h.result(id);
    await save('diamond-fresh', id);
    id = await h.run({ pipeline: diamond, storage, force: ['b'] });
    await h.result(id);
    await save('diamond-cached-and-forced', id);
  } },
  flaky: { async record(h, storage, save) {
    let id = await h.run({ pipeline: flaky, storage });
    await h.waitFor(id, (p) => p.status === 'held', 'hold');
    await h.client.workflow.getHandle(id).executeUpdate(NAMES.retryUpdate, { args: [{ params: { ok: true } }] });
    await h.result(id);
    await save('flaky-hold-retry', id);

    id = await h.run({ pipeline: { ...flaky, name: 'flaky2' }, storage });
    await h.waitFor(id, (p) => p.status === 'held', 'hold');
    await h.client.workflow.getHandle(id).executeUpdate(NAMES.abortUpdate, { args: [{ reason: 'recording' }] });
    await h.result(id).catch(() => undefined);
    await save('flaky-hold-abort', id);
  } },
  fanout: { async record(h, storage, save) {
    const id = await h.run({ pipeline: { name: 'fan', stages: { fan: { uses: 'test-fanout', with: { shards: 5, window: 2 } }, after: { uses: 'noop', needs: ['fan'] } } }, storage });
    await h.result(id);
    await save('fanout-parent', id);
    await save('fanout-child', `${id}/fan/0`);
  } },
  prepass: { async record(h, storage, save) {
    const id = await h.run({ pipeline: { name: 'pre', stages: { pre: { uses: 'test-prepass', with: { shards: 4 } } } }, storage });
    await h.result(id);
    await save('prepass-child', `${id}/pre/0`);
  } },
  // A fan-out child that reports its shard counts to the run (patched 'fanout-shard-progress').
  'fanout-progress': { async record(h, storage, save) {
    const id = await h.run({ pipeline: { name: 'fanp', stages: { fan: { uses: 'test-fanout', with: { shards: 12, window: 3 } } } }, storage });
    await h.result(id);
    await save('fanout-progress-parent', id);
    await save('fanout-progress-child', `${id}/fan/0`);
  } },
  // Continue-as-new between stages, and while a stage is held (then retried in the new execution).
  continued: { serverArgs: CONTINUE_EARLY, async record(h, storage, save) {
    const chain = { name: 'chain', stages: {
      a: { uses: 'test-emit', with: { rows: 10 } }, b: { uses: 'test-emit', needs: ['a'], with: { rows: 10, seed: 2 } },
      c: { uses: 'test-emit', needs: ['b'], with: { rows: 10, seed: 3 } }, d: { uses: 'test-sum', needs: ['c'] },
    } };
    let id = await h.run({ pipeline: chain, storage });
    await h.result(id);
    let runs = await executions(h, id);
    if (runs.length < 2) throw new Error(`chain did not continue as new (${runs.length} execution)`);
    await save('continued-between-stages-first', id, runs[0]);
    await save('continued-between-stages-next', id, runs[1]);

    const heldWhileBusy = { name: 'heldbusy', params: { ok: false }, stages: {
      flaky: { uses: 'test-flaky', with: { succeed: '${params.ok}' }, retry: { maxAttempts: 1 } },
      busy: { uses: 'test-chatty', with: { reports: 600, ms: 6000 } },
      after: { uses: 'test-sum', needs: ['flaky', 'busy'] },
    } };
    id = await h.run({ pipeline: heldWhileBusy, storage });
    await h.waitFor(id, (p) => p.stages.flaky?.status === 'held' && p.stages.busy?.status === 'completed', 'hold, busy done');
    for (let tries = 0; (runs = await executions(h, id)).length < 2; tries++) {
      if (tries > 100) throw new Error('the held run did not continue as new');
      await new Promise((r) => setTimeout(r, 200));
    }
    await h.client.workflow.getHandle(id).executeUpdate(NAMES.retryUpdate, { args: [{ params: { ok: true } }] });
    await h.result(id);
    await save('continued-while-held-first', id, runs[0]);
    await save('continued-while-held-next', id, runs[1]);
  } },
};

/** Run ids of a workflow id's executions, oldest first. */
async function executions(h: Harness, workflowId: string): Promise<string[]> {
  const runs: Array<{ runId: string; start: number }> = [];
  for await (const ex of h.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ runId: ex.runId, start: ex.startTime.getTime() });
  return runs.sort((a, b) => a.start - b.start).map((r) => r.runId);
}

const unknown = [...(only ?? [])].filter((name) => !(name in scenarios));
if (unknown.length) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; scenarios: ${Object.keys(scenarios).join(', ')}`);
const wanted = Object.entries(scenarios).filter(([name]) => !only || only.has(name));
// One server per set of server arguments.
for (const args of new Set(wanted.map(([, s]) => (s.serverArgs ?? []).join(' ')))) {
  const h = new Harness();
  await h.start(undefined, args ? args.split(' ') : []);
  await h.startWorker();
  const storage = { root: pathToFileURL(join(h.tmp, 'store')).href };
  const save: Save = async (name, workflowId, runId) => {
    index[name] = workflowId; // replay needs the original workflow id
    const history = await h.client.workflow.getHandle(workflowId, runId).fetchHistory();
    // Binary protobuf: @temporalio/common's JSON helpers trip over its own nested protobufjs copy (SDK 1.24).
    writeFileSync(join(out, `${name}.binpb`), proto.temporal.api.history.v1.History.encode(history).finish());
    console.log(`${name}: ${history.events?.length} events`);
  };
  try {
    for (const [, s] of wanted.filter(([, s]) => (s.serverArgs ?? []).join(' ') === args)) await s.record(h, storage, save);
  } finally {
    await h.stop();
  }
}
writeFileSync(indexFile, `${JSON.stringify(index, null, 2)}\n`);
