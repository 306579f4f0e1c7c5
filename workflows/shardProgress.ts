/**
 * A fan-out stage's coarse progress for its pipeline run: the child workflow
 * signals the run at each tenth of the shards done, so the run's progress
 * query and Web UI details show how far the stage is while its shards'
 * fine progress stays in their activities' heartbeats. At most ten signals
 * per stage attempt, however many shards.
 */
import * as wf from '@temporalio/workflow';
import { NAMES, type ShardOutcome, type StageProgressSignal, type StageRequest } from '../protocol/protocol.js';

/** Histories recorded before the child reported shard counts replay without these signals. */
const PATCH = 'fanout-shard-progress';
/** Histories recorded before rounds were throttled replay with a signal at every tenth. */
const ROUNDS_PATCH = 'fanout-round-progress-interval';
/**
 * A kind with rounds (training rounds, halving rungs) grows its shard count
 * every round, so nearly every round crosses a tenth: its signals are spaced
 * by this much instead, which bounds what a long stage adds to the run's
 * history (the run cannot continue as new while the stage runs).
 */
const ROUND_SIGNAL_INTERVAL_MS = 10_000;

type Note = NonNullable<ShardOutcome['note']>;

/** When the stage's child last signalled the run: kept across its rounds (one shardProgress per round). */
export interface RoundPace {
  lastSignal: number;
}

/** Whether `a` beats `b` (scored notes only). */
const beats = (a: Note, b: Note | undefined) => a.score !== undefined && !Number.isNaN(a.score) && (b?.score === undefined || (a.higherIsBetter === false ? a.score < b.score : a.score > b.score));

/**
 * Returns what to call when a shard completes; `alreadyDone` shards were done
 * before this execution. Shards whose kind scores them (a sweep's trials) make
 * the message say the best so far; unscored notes, the latest one.
 */
export function shardProgress(req: StageRequest, shardCount: number, alreadyDone: number, running: () => number = () => 0, round?: number, pace: RoundPace = { lastSignal: -Infinity }): (outcome?: ShardOutcome) => void {
  const tenthOf = (n: number) => Math.floor((10 * n) / shardCount);
  let done = alreadyDone;
  let reported = tenthOf(done);
  let best: Note | undefined;
  let latest: Note | undefined;
  return (outcome) => {
    done++;
    if (outcome?.note && beats(outcome.note, best)) best = outcome.note;
    // Unscored notes (a training round's parts) say where the stage is: the latest one.
    if (outcome?.note && outcome.note.score === undefined) latest = outcome.note;
    if (tenthOf(done) <= reported || !wf.patched(PATCH)) return;
    if (round !== undefined && Date.now() - pace.lastSignal < ROUND_SIGNAL_INTERVAL_MS && wf.patched(ROUNDS_PATCH)) return;
    reported = tenthOf(done);
    pace.lastSignal = Date.now();
    const words = [...(round !== undefined && !latest ? [`round ${round + 1}`] : []), ...(running() > 0 ? [`${running()} running`] : []), ...(best ? [`best so far: ${best.text}`] : []), ...(latest ? [latest.text] : [])];
    const p: StageProgressSignal = { stageId: req.stage.id, done, total: shardCount, unit: 'shards', ...(words.length ? { message: words.join(' · ') } : {}) };
    // Best effort: the run may already be closing (an abort cancels this child too).
    wf.getExternalWorkflowHandle(req.runId).signal(NAMES.progressSignal, p).catch(() => undefined);
  };
}
