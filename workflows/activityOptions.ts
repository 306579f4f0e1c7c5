/** Activity proxies configured from a stage's retry/timeout/queue settings. */
import * as wf from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { durationMs } from '../config/spec.js';
import type { ResolvedStage } from '../protocol/protocol.js';

export function stageActivities(stage: ResolvedStage) {
  const { retry } = stage;
  return wf.proxyActivities<Activities>({
    taskQueue: stage.queue,
    startToCloseTimeout: durationMs(stage.timeout),
    heartbeatTimeout: durationMs(stage.heartbeatTimeout),
    retry: {
      maximumAttempts: retry.maxAttempts,
      initialInterval: durationMs(retry.initialInterval),
      backoffCoefficient: retry.backoffCoefficient,
      ...(retry.maximumInterval !== undefined ? { maximumInterval: durationMs(retry.maximumInterval) } : {}),
      nonRetryableErrorTypes: ['InvalidSpec', 'BadInput', ...(retry.nonRetryableErrors ?? [])],
    },
  });
}

/** Cache look-ups: local activities, no task-queue round trip. */
export const cacheActivities = () =>
  wf.proxyLocalActivities<Activities>({
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 3, initialInterval: '500ms', nonRetryableErrorTypes: ['InvalidSpec', 'BadInput'] },
  });

/** Planning runs on the workflow's own queue: short, cheap, retried a few times. */
export const controlActivities = () =>
  wf.proxyActivities<Activities>({
    startToCloseTimeout: '2 minutes',
    retry: { maximumAttempts: 5, initialInterval: '1s', nonRetryableErrorTypes: ['InvalidSpec', 'BadInput'] },
  });
