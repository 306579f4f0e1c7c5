/**
 * Worker processes. The main queue (`topoflow`) runs workflows and CPU
 * activities; other queues (e.g. `train`) run activities only, so they can live
 * on bigger machines. Start any number of them, anywhere: they share the work.
 */
import { resolve } from 'node:path';
import { hostname } from 'node:os';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { createActivities } from '../activities/index.js';
import { DEFAULT_PROGRESS_INTERVAL_MS, DEFAULT_TASK_QUEUE, TRAIN_TASK_QUEUE } from '../protocol/protocol.js';
import { loadRegistry } from '../stages/index.js';
import { workflowCode } from './workflowCode.js';
import type { TemporalTarget } from '../infra/temporalTarget.js';

export interface WorkerProcessOptions {
  target: TemporalTarget;
  /** Task queues to poll; the default queue also hosts the workflows. */
  queues: string[];
  /** pipelines.yaml for runs started by pipeline name (e.g. from the Web UI). */
  specFile: string;
  /** Concurrent activities per queue (CPU-bound work: about one per core); default 2, and 1 on the train queue. */
  activitySlots?: number;
  /** How often a running activity's progress reaches Temporal (heartbeat details; the floor between its signals), ms. */
  progressIntervalMs?: number;
}

export { workflowBundlePath } from './workflowCode.js';

let runtimeInstalled = false;

export async function createWorkers(opts: WorkerProcessOptions): Promise<{ workers: Worker[]; close(): Promise<void> }> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger((process.env.TOPOFLOW_LOG_LEVEL as 'WARN' | undefined) ?? 'WARN') });
    runtimeInstalled = true;
  }
  const registry = await loadRegistry();
  const nativeConnection = await NativeConnection.connect(opts.target.connection);
  const clientConnection = await Connection.connect(opts.target.connection);
  const client = new Client({ connection: clientConnection, namespace: opts.target.namespace });
  const progressIntervalMs = opts.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS;
  const activities = createActivities({ registry, defaultSpecFile: resolve(opts.specFile), client, progressIntervalMs });
  const identity = `${process.pid}@${hostname()}`;

  const workers = await Promise.all(opts.queues.map((taskQueue) => {
    const options: WorkerOptions = {
      connection: nativeConnection,
      namespace: opts.target.namespace,
      taskQueue,
      identity,
      activities,
      // Two trainings in one process break TensorFlow.js's backend: one per train worker unless asked otherwise.
      maxConcurrentActivityTaskExecutions: opts.activitySlots ?? (taskQueue === TRAIN_TASK_QUEUE ? 1 : 2),
      // Heartbeat details are the live progress the CLI shows: flush them this often, not at 0.8 × heartbeatTimeout.
      maxHeartbeatThrottleInterval: progressIntervalMs,
      defaultHeartbeatThrottleInterval: progressIntervalMs,
    };
    return Worker.create(taskQueue === DEFAULT_TASK_QUEUE ? { ...options, ...workflowCode() } : options);
  }));
  return {
    workers,
    async close() {
      await clientConnection.close();
      await nativeConnection.close();
    },
  };
}

/** Runs until SIGINT/SIGTERM (the SDK's default shutdown signals), then drains. */
export async function runWorkerProcess(opts: WorkerProcessOptions): Promise<void> {
  const created = await createWorkers(opts);
  const { workers } = created;
  console.log(`topoflow worker ${process.pid}: polling ${opts.queues.join(', ')} on ${opts.target.connection.address} (namespace ${opts.target.namespace})`);
  try {
    await Promise.all(workers.map((w) => w.run()));
  } finally {
    await created.close();
  }
}
