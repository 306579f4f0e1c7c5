/**
 * A position in an epoch's batch stream that outlives one round. A worker's
 * slices of consecutive rounds are batches further along the same stream, so
 * the process keeps its last stream open and reads on from it; only a batch
 * that lies behind it (another epoch, or a part of a round re-run here)
 * reopens the stream, skipping to the batch. Each worker still draws the rows
 * before its batches (the stream is one seeded order), and the other workers'
 * batches between its own are assembled and dropped, which costs far less
 * than training on them.
 */

interface Open<T> {
  id: string;
  items: AsyncIterator<T>;
  /** Index of the next item `items` gives. */
  at: number;
}

export class StreamCursor<T> {
  private open: Open<T> | undefined;

  /** Item `index` of the stream named `id` (the same id must always give the same stream); `make(skip)` opens it at item `skip`. */
  async take(id: string, make: (skip: number) => AsyncIterable<T>, index: number): Promise<T> {
    if (!this.open || this.open.id !== id || this.open.at > index) {
      await this.close();
      this.open = { id, items: make(index)[Symbol.asyncIterator](), at: index };
    }
    const o = this.open;
    for (;;) {
      const next = await o.items.next();
      if (next.done) throw new Error(`the training stream ended at batch ${o.at}, before batch ${index + 1} (does the manifest's row count match the parts?)`);
      if (o.at++ === index) return next.value;
    }
  }

  async close(): Promise<void> {
    const o = this.open;
    this.open = undefined;
    await o?.items.return?.();
  }
}
