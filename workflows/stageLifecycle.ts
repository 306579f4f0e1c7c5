/**
 * A stage's life inside a run: attempts, the hold after a failure, the
 * operator's answer (retry, possibly with new params, or skip/abort), until it
 * ends. Stages run in the run's cancellation scope; each end calls `ended`,
 * which wakes the run's scheduling loop.
 */
import * as wf from '@temporalio/workflow';
import { innermostMessage } from '../protocol/errors.js';
import type { PreparedRun } from '../protocol/protocol.js';
import type { RunState } from './runState.js';
import { attemptStage } from './stageAttempt.js';

export class StageLifecycles {
  /** Stages being run, and how many of them wait at their hold (nothing in flight for those). */
  private running = 0;
  private atHold = 0;

  constructor(
    private readonly run: RunState,
    private readonly scope: wf.CancellationScope,
    private readonly prepare: () => Promise<PreparedRun>,
    private readonly ended: () => void,
  ) {}

  get anyRunning(): boolean {
    return this.running > 0;
  }

  /** True when every active stage waits for an operator: nothing is in flight. */
  get allHeld(): boolean {
    return this.running === this.atHold;
  }

  /** Runs a stage from its start, or (`held`) from its hold in a continued run. */
  launch(id: string, held: boolean): void {
    this.running++;
    void this.scope.run(() => this.lifecycle(id, held)).finally(() => {
      this.running--;
      this.ended();
    });
  }

  private async lifecycle(id: string, held: boolean): Promise<void> {
    if (!held) this.run.stageStarted(id, Date.now());
    else if (!(await this.afterHold(id))) return;
    while (await this.attempt(id)) {
      if (!(await this.afterHold(id))) return;
    }
  }

  /** One attempt; true when it failed and the stage now holds. */
  private async attempt(id: string): Promise<boolean> {
    try {
      const n = this.run.attemptOf(id);
      const outcome = await attemptStage(this.run.stageRequest(id, n), n);
      this.run.stageFinished(id, outcome, Date.now());
      return false;
    } catch (err) {
      if (this.run.aborted || wf.isCancellation(err)) {
        this.run.stageCancelled(id, Date.now());
        return false;
      }
      this.run.stageHeld(id, innermostMessage(err));
      return true;
    }
  }

  /** Waits for the operator; true when the stage is to run again. */
  private async afterHold(id: string): Promise<boolean> {
    this.atHold++;
    // Not cancellable: an abort ends the hold through the run's state, and the stage records it.
    await wf.CancellationScope.nonCancellable(() => wf.condition(() => this.run.holdEnded(id)));
    this.atHold--;
    if (this.run.takeAction(id, Date.now()) !== 'retry') return false;
    if (this.run.hasParamOverrides) this.run.replan(await this.prepare());
    this.run.stageRetrying(id);
    return true;
  }
}
