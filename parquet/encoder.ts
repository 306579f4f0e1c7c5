/**
 * Streams Arrow record batches through parquet-wasm's Parquet writer (Rust
 * parquet in WebAssembly; native ZSTD). Batches are encoded in the background
 * whenever the event loop turns; the encoded bytes wait in a queue until read.
 */
import { tableToIPC, Table as ArrowTable, type RecordBatch } from 'apache-arrow';
import * as wasm from 'parquet-wasm';

export class ParquetStreamEncoder {
  private input!: ReadableStreamDefaultController<wasm.RecordBatch>;
  private readonly encoded: Uint8Array[] = [];
  private failure: { error: unknown } | undefined;
  private ended = false;
  private produced = 0;
  private wake: (() => void) | undefined;

  constructor(properties: wasm.WriterProperties) {
    const batches = new ReadableStream<wasm.RecordBatch>({
      start: (controller) => {
        this.input = controller;
      },
    });
    // The transform resolves only once the first batch has arrived (it needs the schema).
    this.collect(wasm.transformParquetStream(batches, properties) as Promise<ReadableStream<Uint8Array>>)
      .catch((error: unknown) => {
        this.failure = { error };
      })
      .finally(() => {
        this.ended = true;
        this.wake?.();
      });
  }

  /** Bytes encoded so far. */
  get encodedBytes(): number {
    return this.produced;
  }

  /** Copies the batch into WebAssembly memory: the caller may reuse its buffers at once. */
  push(batch: RecordBatch): void {
    const table = wasm.Table.fromIPCStream(tableToIPC(new ArrowTable([batch]), 'stream'));
    for (const wasmBatch of table.recordBatches()) this.input.enqueue(wasmBatch);
    table.free();
  }

  /** No more batches: the footer follows. */
  close(): void {
    this.input.close();
  }

  /** The file's bytes in order, until the encoder has finished (after close()). */
  async *bytes(): AsyncGenerator<Uint8Array> {
    for (;;) {
      const chunk = this.encoded.shift();
      if (chunk) {
        yield chunk;
        continue;
      }
      if (this.failure) throw this.failure.error;
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }

  private async collect(output: Promise<ReadableStream<Uint8Array>>): Promise<void> {
    for await (const chunk of await output) {
      this.encoded.push(chunk);
      this.produced += chunk.byteLength;
      this.wake?.();
    }
  }
}
