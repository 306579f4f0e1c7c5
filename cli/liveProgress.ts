/**
 * Live progress of a run's running stages, read from Temporal rather than from
 * the run: the heartbeat details of the run's pending activities, and of the
 * pending activities of its fan-out children (the run's describe lists them;
 * their ids are `<runId>/<stage>/<attempt>`). The run itself only hears of
 * coarse progress (activities/progressSignals.ts), which keeps its history
 * bounded; the CLI merges the live reports into the stage table.
 */
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { NAMES, StageProgressSignal, type RunProgress } from '../protocol/protocol.js';

type PendingActivity = proto.temporal.api.workflow.v1.IPendingActivityInfo;
type Timestamp = proto.google.protobuf.ITimestamp;

const STARTED = proto.temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

/** Latest report per stage id, from the run's and its fan-out children's pending activities. */
export async function liveProgress(client: Client, run: WorkflowExecutionDescription): Promise<Map<string, StageProgressSignal>> {
  const children = (run.raw.pendingChildren ?? []).filter((c) => c.workflowTypeName === NAMES.fanoutWorkflow && c.workflowId);
  const childActivities = await Promise.all(children.map(async (c) => {
    try {
      return (await client.workflow.getHandle(c.workflowId!).describe()).raw.pendingActivities ?? [];
    } catch {
      return []; // closed in the meantime
    }
  }));
  return latestReports([...(run.raw.pendingActivities ?? []), ...childActivities.flat()]);
}

/**
 * The most recent heartbeat report per stage among activities a worker is
 * running (one waiting for a retry still shows its previous attempt's details).
 */
export function latestReports(pending: readonly PendingActivity[]): Map<string, StageProgressSignal> {
  const latest = new Map<string, { at: number; report: StageProgressSignal }>();
  for (const a of pending) {
    const payload = a.heartbeatDetails?.payloads?.[0];
    if (a.state !== STARTED || !payload) continue;
    const parsed = StageProgressSignal.safeParse(decode(payload));
    if (!parsed.success) continue;
    const at = millis(a.lastHeartbeatTime);
    const seen = latest.get(parsed.data.stageId);
    if (!seen || at >= seen.at) latest.set(parsed.data.stageId, { at, report: parsed.data });
  }
  return new Map([...latest].map(([id, { report }]) => [id, report]));
}

/** The run's progress with each running stage's live report in place of the run's coarse one. */
export function withLiveProgress(p: RunProgress, live: ReadonlyMap<string, StageProgressSignal>): RunProgress {
  const stages = Object.fromEntries(Object.entries(p.stages).map(([id, s]) => {
    const report = live.get(id);
    return [id, s.status === 'running' && report ? { ...s, progress: report } : s];
  }));
  return { ...p, stages };
}

function decode(payload: proto.temporal.api.common.v1.IPayload): unknown {
  try {
    return defaultPayloadConverter.fromPayload(payload);
  } catch {
    return undefined;
  }
}

const millis = (t: Timestamp | null | undefined): number => (t ? Number(t.seconds ?? 0) * 1000 + (t.nanos ?? 0) / 1e6 : 0);
