/**
 * The shard-level content cache on its own (local storage, no Temporal): a
 * content shard is computed once however many callers want it at once, a
 * record whose output was deleted or truncated is recomputed, `forced`
 * recomputes, and memo values are stored per content.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { LocalStorage } from '../storage/index.js';
import { contentHash, contentShard, memo, type ContentShardEnv } from '../runtime/contentCache.js';
import type { RecordingOutputWriter } from '../runtime/outputWriter.js';

const kind = { name: 'demo', version: '1' };
const storage = () => new LocalStorage(mkdtempSync(join(tmpdir(), 'topoflow-content-')));
const envOf = (s: LocalStorage, runId: string, forced = false): ContentShardEnv => ({
  storage: s, kind: kind.name, hash: contentHash(kind, { file: 'a.root', size: 10 }), forced,
  holder: { runId, stageId: 'ingest', worker: `w-${runId}` }, timing: { ttlMs: 5_000, pollMs: 20 },
});

test('one computation for concurrent callers; the others reuse its record', async () => {
  const s = storage();
  let runs = 0;
  const work = async (writer: RecordingOutputWriter) => {
    runs++;
    await sleep(200);
    await writer.write('part.parquet', 'rows');
    return { counts: { selected: 4 } };
  };
  const results = await Promise.all(['r1', 'r2', 'r3'].map((r) => contentShard(envOf(s, r), work)));
  assert.equal(runs, 1);
  assert.equal(results.filter((r) => !r.reused).length, 1);
  for (const r of results) assert.deepEqual(r.record.counts, { selected: 4 });
  assert.match(results[0]!.record.outputs[0]!.key, /^content\/demo-shards\/[0-9a-f]{64}\/data\/part\.parquet$/);
  // Later callers find the record without a lease.
  assert.equal((await contentShard(envOf(s, 'r4'), work)).reused, true);
  assert.equal(runs, 1);
});

test('a record whose output is missing or truncated is recomputed; forced recomputes', async () => {
  const s = storage();
  let runs = 0;
  const work = async (writer: RecordingOutputWriter) => {
    runs++;
    await writer.write('part.parquet', 'rows');
    return {};
  };
  const first = await contentShard(envOf(s, 'r1'), work);
  await s.put(first.record.outputs[0]!.key, 'ro');
  assert.equal((await contentShard(envOf(s, 'r2'), work)).reused, false, 'truncated: recomputed');
  await s.delete(first.record.outputs[0]!.key);
  assert.equal((await contentShard(envOf(s, 'r3'), work)).reused, false, 'deleted: recomputed');
  assert.equal((await contentShard(envOf(s, 'r4', true), work)).reused, false, 'forced');
  assert.equal(runs, 4);
  assert.equal((await contentShard(envOf(s, 'r5'), work)).reused, true);
});

test('memo: stored per content and kind version; forced recomputes', async () => {
  const s = storage();
  let n = 0;
  const compute = async () => ++n;
  assert.deepEqual(await memo(s, kind, 'entries', { file: 'a' }, false, compute), { value: 1, reused: false });
  assert.deepEqual(await memo(s, kind, 'entries', { file: 'a' }, false, compute), { value: 1, reused: true });
  assert.deepEqual(await memo(s, { ...kind, version: '2' }, 'entries', { file: 'a' }, false, compute), { value: 2, reused: false });
  assert.deepEqual(await memo(s, kind, 'entries', { file: 'a' }, true, compute), { value: 3, reused: false });
  assert.equal((await s.list('content/demo-entries/')).length, 2);
});
