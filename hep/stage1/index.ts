/** Stage-1 physics: event selection, isolation, the particle matrix and the high-level features. */
export { DEFAULT_STAGE1, validateStage1Config, type Stage1Config, type Stage1Mode } from './config.js';
export { COL, HLF, HLF_WIDTH, ROW_WIDTH, particleRows } from './layout.js';
export { Stage1Processor, type Stage1Result } from './processor.js';
export type { RejectReason } from './selection.js';
