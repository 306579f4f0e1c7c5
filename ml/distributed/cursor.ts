/**
 * A position in an epoch's row stream that outlives one round. A worker's
 * slices of consecutive rounds lie further along the same stream, so the
 * process keeps its last stream open and reads on from it; only a slice that
 * lies behind it (another epoch, or a part of a round re-run here) reopens
 * the stream and skips to the slice. Each worker still decodes the rows
 * before its slices (the stream is one seeded order), which costs far less
 * than training on them.
 */
import type { Row } from '../data.js';

interface Open {
  id: string;
  rows: AsyncIterator<Row>;
  /** Rows already taken from `rows`. */
  at: number;
}

export class StreamCursor {
  private open: Open | undefined;

  /** Rows [start, end) of the stream named `id` (the same id must always give the same stream); `make` opens it from its start. */
  async take(id: string, make: () => AsyncIterable<Row>, start: number, end: number): Promise<Row[]> {
    if (!this.open || this.open.id !== id || this.open.at > start) {
      await this.close();
      this.open = { id, rows: make()[Symbol.asyncIterator](), at: 0 };
    }
    const o = this.open;
    const out: Row[] = [];
    while (o.at < end) {
      const next = await o.rows.next();
      if (next.done) throw new Error(`the training stream ended at row ${o.at}, before row ${end} (does the manifest's row count match the parts?)`);
      if (o.at >= start) out.push(next.value);
      o.at++;
    }
    return out;
  }

  async close(): Promise<void> {
    const o = this.open;
    this.open = undefined;
    await o?.rows.return?.();
  }
}
