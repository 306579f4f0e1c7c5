/** Stage-1 physics: event selection, isolation, the particle matrix and the high-level features. */
export { DEFAULT_INGEST, validateIngestConfig, type IngestConfig, type IngestMode } from './config.js';
export { COL, HLF, HLF_WIDTH, ROW_WIDTH, particleRows } from './layout.js';
export { IngestProcessor, type IngestResult } from './processor.js';
export type { RejectReason } from './selection.js';
