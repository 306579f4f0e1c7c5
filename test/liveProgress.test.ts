/** The CLI's live progress (cli/liveProgress.ts) and end line, without a server. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { latestReports, withLiveProgress } from '../cli/liveProgress.js';
import { endLine } from '../cli/runs.js';
import { stageLine } from '../cli/follow.js';
import type { RunProgress, StageProgressSignal } from '../protocol/protocol.js';

const { PENDING_ACTIVITY_STATE_STARTED: STARTED, PENDING_ACTIVITY_STATE_SCHEDULED: SCHEDULED } = proto.temporal.api.enums.v1.PendingActivityState;

const pending = (details: unknown, heartbeatAt: number, state = STARTED): proto.temporal.api.workflow.v1.IPendingActivityInfo => ({
  state,
  heartbeatDetails: details === undefined ? null : { payloads: [defaultPayloadConverter.toPayload(details)] },
  lastHeartbeatTime: proto.google.protobuf.Timestamp.fromObject({ seconds: Math.floor(heartbeatAt / 1000), nanos: (heartbeatAt % 1000) * 1e6 }),
});

test('the latest heartbeat report per stage, from started activities with well-formed details only', () => {
  const live = latestReports([
    pending({ stageId: 'fan', done: 10, unit: 'events', message: 'shard 1' }, 1_000),
    pending({ stageId: 'fan', done: 20, unit: 'events', message: 'shard 2' }, 2_500),
    pending({ stageId: 'fan', done: 30, unit: 'events', message: 'shard 3' }, 2_000),
    pending({ stageId: 'train', done: 5, total: 50, unit: 'steps' }, 3_000, SCHEDULED), // waiting for a retry: stale
    pending({ stageId: 'odd', done: 'lots' }, 3_000),
    pending('not a report', 3_000),
    pending(undefined, 3_000),
  ]);
  assert.deepEqual([...live.keys()], ['fan']);
  assert.equal(live.get('fan')!.message, 'shard 2');
});

test('live reports replace the run\'s coarse progress of running stages only', () => {
  const progress: RunProgress = {
    runId: 'r', pipeline: 'p', runKind: 'manual', status: 'running', order: ['a', 'b', 'c'], params: {}, startedAt: 0,
    stages: {
      a: { status: 'running', uses: 'train', needs: [], startedAt: 0, progress: { stageId: 'a', done: 10, total: 100, unit: 'steps' } },
      b: { status: 'completed', uses: 'noop', needs: [] },
      c: { status: 'running', uses: 'train', needs: [], startedAt: 0 },
    },
  };
  const live = new Map<string, StageProgressSignal>([
    ['a', { stageId: 'a', done: 47, total: 100, unit: 'steps' }],
    ['b', { stageId: 'b', done: 1 }],
  ]);
  const merged = withLiveProgress(progress, live);
  assert.equal(merged.stages.a!.progress!.done, 47);
  assert.match(stageLine('a', merged.stages.a!, 5, 1000), /a +running .*\[#########-+\] 47\/100 steps/);
  assert.equal(merged.stages.b!.progress, undefined, 'a finished stage keeps its state');
  assert.equal(merged.stages.c!.progress, undefined);
  assert.equal(progress.stages.a!.progress!.done, 10, 'the run\'s own progress is left as it was');
});

test('an aborted run\'s end line gives the reason once', () => {
  assert.equal(endLine('r1', { kind: 'closed', status: 'aborted', progress: null, error: 'run aborted: testing' }), 'run r1 aborted: testing');
  assert.equal(endLine('r1', { kind: 'closed', status: 'failed', progress: null, error: 'boom' }), 'run r1 failed: boom');
  assert.equal(endLine('r1', { kind: 'closed', status: 'completed', progress: null }), 'run r1 completed');
});
