/**
 * Row groups decoded in one epoch and kept for the next ones, up to a budget
 * of bytes: every epoch of a run reads the same parts, and for an HLF-only
 * model (57 bytes a row decoded) decoding them costs more than all the rest
 * of the stream's work. The first groups decoded are kept until the budget is
 * spent, and then held for the life of this object (a training run's data);
 * nothing is evicted, so the memory is at most the budget. A part all of
 * whose groups are kept is not read from storage again.
 */
import type { ModelInputs } from '../hep/features/index.js';

/** 64 MiB: an HLF-only training set of about 1.1 million rows. */
export const KEPT_GROUPS_BYTES = 64 * 2 ** 20;

export interface KeptPart {
  rows: number;
  rowGroups: number;
  groups: Map<number, ModelInputs>;
}

export class KeptGroups {
  private readonly parts = new Map<string, KeptPart>();
  private used = 0;

  constructor(readonly budget = KEPT_GROUPS_BYTES) {}

  /** The part named `id` (its key, content hash and the columns decoded), if opened before. */
  get(id: string): KeptPart | undefined {
    return this.parts.get(id);
  }

  /** Records a part when it is first opened. */
  opened(id: string, rows: number, rowGroups: number): KeptPart {
    let part = this.parts.get(id);
    if (!part) this.parts.set(id, (part = { rows, rowGroups, groups: new Map() }));
    return part;
  }

  /** Keeps a decoded group if the budget has room for it (its arrays are shared, never to be written). */
  offer(part: KeptPart, group: number, cols: ModelInputs): void {
    const bytes = cols.hlf.byteLength + (cols.gru?.byteLength ?? 0) + cols.label.byteLength;
    if (part.groups.has(group) || this.used + bytes > this.budget) return;
    part.groups.set(group, cols);
    this.used += bytes;
  }

  /** Whether every row group of the part is kept. */
  static complete(part: KeptPart | undefined): part is KeptPart {
    return part !== undefined && part.groups.size === part.rowGroups;
  }
}
