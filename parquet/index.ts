/** Stage-1 Parquet files: ZSTD, row groups, written with parquet-wasm and read back into typed arrays. */
export { IngestParquetWriter, collectBytes } from './writer.js';
export type { IngestRow } from './rowGroup.js';
export { readIngestParquet, readIngestRowGroups, type IngestColumns, type IngestReadOptions } from './reader.js';
export { HFEATURES, PARTICLE_FEATURES, PARTICLES_METADATA_KEY, INGEST_COLUMNS, INGEST_SCHEMA, type IngestColumnName } from './schema.js';
export { FEATURES_SCHEMA, FeaturesFile, FeaturesParquetWriter, mergeByShuffleKey, readFeaturesParquet, readFeaturesRowGroups, type FeaturesRow, type FeaturesColumns, type ModelInputs } from './stage2.js';
export type { ByteSource } from './byteSource.js';
