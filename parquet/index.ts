/** Parquet files with parquet-wasm (ZSTD, row groups, range reads) and Arrow column helpers; no knowledge of what the columns hold. */
export { ParquetStreamEncoder } from './encoder.js';
export { collectBytes, metadataValue, openParquet, readTable, zstdWriterProperties, type ParquetFile } from './file.js';
export { firstListLength, fixedLists, flatList, listData, listOf, utf8Data } from './columns.js';
export { lazyBlob, type ByteSource } from './byteSource.js';
