/** Prebuilds the workflow bundle (production workers load it instead of webpacking at start). */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { projectRoot } from '../infra/tools.js';
import { workflowBundlePath } from './worker.js';

const started = Date.now();
const { code } = await bundleWorkflowCode({
  workflowsPath: join(projectRoot, 'dist', 'workflows', 'index.js'),
  logger: { info() {}, warn: console.warn, error: console.error, debug() {}, trace() {}, log() {} },
});
await writeFile(workflowBundlePath, code);
console.log(`workflow bundle: ${workflowBundlePath} (${(code.length / 1024).toFixed(0)} KiB, ${Date.now() - started} ms)`);
