/** Stage-1 physics: event selection, isolation, the particle matrix and the high-level features. */
export { DEFAULT_INGEST, validateIngestConfig, type IngestConfig, type IngestMode } from './config.js';
export { COL, HLF } from './layout.js';
export { INGEST_COLUMNS, INGEST_SCHEMA, IngestParquetWriter, writerProperties, type IngestColumnName, type IngestRow } from './parquet.js';
export { readIngestParquet, readIngestRowGroups, type IngestColumns, type IngestReadOptions } from './parquetReader.js';
export { IngestProcessor, type IngestResult } from './processor.js';
export type { RejectReason } from './selection.js';
