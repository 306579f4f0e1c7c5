/** Where a worker finds the workflow code (apart from worker.ts, so that loading it loads no activities). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerOptions } from '@temporalio/worker';
import { projectRoot } from '../infra/tools.js';

export const workflowBundlePath = join(projectRoot, 'dist', 'workflow-bundle.js');
const workflowsSource = join(projectRoot, 'dist', 'workflows', 'index.js');

/** The prebuilt bundle, else the compiled sources (bundled at start, slower). */
export const workflowCode = (): Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> =>
  existsSync(workflowBundlePath) ? { workflowBundle: { codePath: workflowBundlePath } } : { workflowsPath: workflowsSource };
