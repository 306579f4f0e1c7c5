/**
 * Random access to an object's bytes (storage range reads), so that a Parquet
 * reader fetches the footer and the column chunks it decodes instead of the
 * whole file: a trainer keeps many parts open without holding their bytes.
 */
export interface ByteSource {
  readonly size: number;
  /** `length` bytes from `offset`. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/**
 * The part of the Blob interface that parquet-wasm's `ParquetFile.fromFile`
 * uses (`size`, `slice`, `arrayBuffer`; duck-typed, no instanceof check),
 * served by `source.read` when bytes are asked for.
 */
export function lazyBlob(source: ByteSource, start = 0, end = source.size): Blob {
  const size = end - start;
  // Blob.slice semantics: negative positions count from the end; clamped to the blob.
  const at = (p: number | undefined, fallback: number) => {
    const v = p === undefined ? fallback : p < 0 ? size + p : p;
    return Math.min(size, Math.max(0, v));
  };
  const blob = {
    size,
    slice: (from?: number, to?: number) => {
      const a = at(from, 0);
      return lazyBlob(source, start + a, start + Math.max(a, at(to, size)));
    },
    arrayBuffer: async (): Promise<ArrayBuffer> => {
      const bytes = await source.read(start, size);
      if (bytes.length !== size) throw new Error(`short read: ${bytes.length} of ${size} bytes at offset ${start}`);
      // Its own buffer, exactly the slice: a read may return a view into a larger
      // one (and Buffer#slice is a view too, so copy through the constructor).
      return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : new Uint8Array(bytes).buffer;
    },
  };
  return blob as unknown as Blob;
}
