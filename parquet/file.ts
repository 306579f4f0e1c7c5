/** Opening Parquet files with parquet-wasm and reading row groups into Arrow tables. */
import { tableFromIPC, type Table } from 'apache-arrow';
import * as wasm from 'parquet-wasm';
import { lazyBlob, type ByteSource } from './byteSource.js';

export type ParquetFile = wasm.ParquetFile;

/** From the whole file, or from a byte source (then only the footer and the column chunks read are fetched). */
export async function openParquet(data: Uint8Array | ByteSource): Promise<ParquetFile> {
  return wasm.ParquetFile.fromFile(data instanceof Uint8Array ? new Blob([data]) : lazyBlob(data));
}

/** A key-value metadata entry of the file's footer, if present. */
export function metadataValue(file: ParquetFile, key: string): string | undefined {
  return (file.metadata().fileMetadata().keyValueMetadata() as Map<string, string>).get(key);
}

/** Row groups and columns (default: all) as one Arrow table. */
export async function readTable(file: ParquetFile, opts: { rowGroups?: number[]; columns?: string[] } = {}): Promise<Table> {
  return tableFromIPC((await file.read(opts)).intoIPCStream());
}

/** ZSTD, dictionary encoding only on the named columns, chunk statistics, and the given key-value metadata. */
export function zstdWriterProperties(rowGroupSize: number, opts: { dictionaryColumns: string[]; metadata: Record<string, string> }): wasm.WriterProperties {
  let builder = new wasm.WriterPropertiesBuilder()
    .setCompression(wasm.Compression.ZSTD)
    .setMaxRowGroupSize(rowGroupSize)
    // Dictionaries help repeated strings (file names); on floats they bloat the file.
    .setDictionaryEnabled(false);
  for (const column of opts.dictionaryColumns) builder = builder.setColumnDictionaryEnabled(column, true);
  return builder.setStatisticsEnabled(wasm.EnabledStatistics.Chunk).setKeyValueMetadata(new Map(Object.entries(opts.metadata))).build();
}

/** Concatenates a finished writer's output (tests, small files). */
export async function collectBytes(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}
