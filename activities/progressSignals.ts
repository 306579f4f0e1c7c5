/**
 * Which of an activity attempt's progress reports also go to the pipeline run
 * as a signal. Every report goes into the activity's heartbeat details (live,
 * no history events); a signal is a history event in the run, so an attempt
 * sends a bounded number of them whatever its duration or report rate: its
 * start (the CLI's "queued → running"), then only milestones (a report that
 * reaches a new tenth of its total, or starts counting a new unit), at least
 * `minIntervalMs` apart and at most MAX_MILESTONE_SIGNALS in all.
 */
import type { StageProgressSignal } from '../protocol/protocol.js';

/** Tenths 0…10 of one counted phase, with a margin for a second phase (e.g. parts verified, then steps). */
export const MAX_MILESTONE_SIGNALS = 16;

export class ProgressSignals {
  private sent = 0;
  private lastAt = -Infinity;
  private lastTenth = -1;
  private lastUnit: string | undefined;

  constructor(
    private readonly send: (p: StageProgressSignal) => void,
    private readonly minIntervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A worker took the stage: always signalled. */
  started(p: StageProgressSignal): void {
    this.lastAt = this.now();
    this.send(p);
  }

  /** A progress report: signalled only when it is a milestone and the budget allows. */
  report(p: StageProgressSignal): void {
    if (p.total === undefined || p.total <= 0 || this.sent >= MAX_MILESTONE_SIGNALS) return;
    const tenth = Math.min(10, Math.floor((10 * p.done) / p.total));
    const newPhase = p.unit !== this.lastUnit;
    if (!newPhase && tenth <= this.lastTenth) return;
    const at = this.now();
    if (at - this.lastAt < this.minIntervalMs) return; // a later report of this tenth can still make it
    this.lastAt = at;
    this.lastTenth = tenth;
    this.lastUnit = p.unit;
    this.sent++;
    this.send(p);
  }
}
