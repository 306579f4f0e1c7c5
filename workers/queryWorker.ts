/**
 * A workflow-only worker inside the calling process, for read-only commands on
 * a stack without workers: a run's `progress` query is answered by replaying
 * its history, which needs the workflow code but no activities. Much cheaper
 * than the worker processes (no stage kinds, no TensorFlow.js).
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { DEFAULT_TASK_QUEUE } from '../protocol/protocol.js';
import type { TemporalTarget } from '../infra/temporalTarget.js';
import { workflowCode } from './workflowCode.js';

let runtimeInstalled = false;

/** Runs `ask` (e.g. a query) while a workflow worker polls the workflow queue of `target`; stops it afterwards. */
export async function withWorkflowWorker<T>(target: TemporalTarget, ask: () => Promise<T>): Promise<T> {
  if (!runtimeInstalled) {
    // Errors only: "no activities registered" is this worker's point, not news.
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const connection = await NativeConnection.connect(target.connection);
  try {
    const worker = await Worker.create({ connection, namespace: target.namespace, taskQueue: DEFAULT_TASK_QUEUE, ...workflowCode() });
    return await worker.runUntil(ask());
  } finally {
    await connection.close();
  }
}
