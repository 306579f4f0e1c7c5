/** Workflow entry points registered by the worker (bundled for Temporal's sandbox). */
export { pipelineRun } from './pipelineRun.js';
export { stageFanout } from './fanout.js';
