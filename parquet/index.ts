/** Stage-1 Parquet files: ZSTD, row groups, written with parquet-wasm and read back into typed arrays. */
export { Stage1ParquetWriter, collectBytes } from './writer.js';
export type { Stage1Row } from './rowGroup.js';
export { readStage1Parquet, readStage1RowGroups, type Stage1Columns, type Stage1ReadOptions } from './reader.js';
export { HFEATURES, PARTICLE_FEATURES, PARTICLES_METADATA_KEY, STAGE1_COLUMNS, STAGE1_SCHEMA, type Stage1ColumnName } from './schema.js';
export { STAGE2_SCHEMA, Stage2File, Stage2ParquetWriter, mergeByShuffleKey, readStage2Parquet, readStage2RowGroups, type Stage2Row, type Stage2Columns, type ModelInputs } from './stage2.js';
export type { ByteSource } from './byteSource.js';
