/**
 * What a run shows outside itself: search attributes (for filtering runs) and
 * the Web UI's current details (the stage table of details.ts).
 */
import * as wf from '@temporalio/workflow';
import { defineSearchAttributeKey } from '@temporalio/common';
import type { RunKind } from '../config/spec.js';
import { SA_CURRENT_STAGE, SA_PIPELINE_NAME, SA_RUN_KIND, type RunProgress } from '../protocol/protocol.js';
import { renderDetails } from './details.js';
import type { RunState } from './runState.js';

/** Temporal sets it on runs that a schedule starts. */
const SCHEDULED_START = defineSearchAttributeKey('TemporalScheduledStartTime', 'DATETIME');

/** The input's run kind, else what started the run. */
export const runKindOf = (given: RunKind | undefined): RunKind =>
  given ?? (wf.workflowInfo().typedSearchAttributes.get(SCHEDULED_START) ? 'scheduled' : 'manual');

export function upsertRunAttributes(p: RunProgress): void {
  wf.upsertSearchAttributes([
    { key: SA_PIPELINE_NAME, value: p.pipeline },
    { key: SA_RUN_KIND, value: p.runKind },
  ]);
}

/** A continued run's attributes: the ones a run sets at its start, and its current stages. */
export function publishRunAttributes(run: RunState): void {
  upsertRunAttributes(run.progress);
  publishStageChange(run);
}

export const showDetails = (p: RunProgress): void => wf.setCurrentDetails(renderDetails(p, Date.now()));

/** After every stage change: CurrentStage lists the running and held stages, and the details redraw. */
export function publishStageChange(run: RunState): void {
  wf.upsertSearchAttributes([{ key: SA_CURRENT_STAGE, value: run.activeStages().join(',') }]);
  showDetails(run.progress);
}
