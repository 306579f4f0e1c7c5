/** RootTree on a jsroot TTree: branch look-up and entry-by-entry reads through a TSelector. */
import { errorMessage } from '../../common/errors.js';
import { RootReadError } from './errors.js';
import { TSelector, treeProcess, type JsrootBranch, type JsrootTree } from './patchedJsroot.js';
import type { BranchValues, EntryRange, RootTree } from './types.js';

/**
 * Entries per jsroot pass. On a file in memory jsroot never leaves the
 * microtask queue, so read() yields to the event loop between passes: timers
 * (activity heartbeats), I/O, cancellation and background work such as Parquet
 * encoding get their turn.
 */
const SLICE_ENTRIES = 2000;
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class JsrootTreeReader implements RootTree {
  readonly entries: number;
  /** Readable branches (those without sub-branches) by name. */
  private readonly branches = new Map<string, JsrootBranch>();
  /** Names of the branches with one array per entry. */
  private readonly jagged = new Set<string>();

  constructor(
    private readonly fileName: string,
    private readonly treeName: string,
    private readonly tree: JsrootTree,
  ) {
    this.entries = tree.fEntries;
    const walk = (list: JsrootBranch[]): void => {
      for (const branch of list) {
        if (branch.fBranches.arr.length > 0) walk(branch.fBranches.arr);
        else {
          this.branches.set(branch.fName, branch);
          if (isJagged(branch)) this.jagged.add(branch.fName);
        }
      }
    };
    walk(tree.fBranches.arr);
  }

  branchNames(): string[] {
    return [...this.branches.keys()];
  }

  hasBranch(name: string): boolean {
    return this.branches.has(name);
  }

  async read(branches: string[], onEntry: (entry: number, values: BranchValues) => void, range: EntryRange = {}): Promise<void> {
    const names = [...new Set(branches)];
    const missing = names.filter((name) => !this.branches.has(name));
    if (missing.length > 0) {
      throw new RootReadError(this.fileName, 'missing-branch', `TTree "${this.treeName}" lacks ${missing.length} requested branch(es): ${missing.join(', ')}`);
    }
    const { first, count } = entrySlice(range, this.entries);
    if (names.length === 0) return;
    const selected = this.selected(names);
    for (let start = first; start < first + count; start += SLICE_ENTRIES) {
      if (start > first) await yieldToEventLoop();
      await this.readSlice(selected, onEntry, start, Math.min(SLICE_ENTRIES, first + count - start));
    }
  }

  private async readSlice(
    selected: [string, JsrootBranch][],
    onEntry: (entry: number, values: BranchValues) => void,
    first: number,
    count: number,
  ): Promise<void> {
    const selector = new EntrySelector(
      selected.map(([name]) => name),
      onEntry,
    );
    const last = first + count - 1;
    try {
      for (const [name, branch] of selected) selector.addBranch(branch, name);
      await treeProcess(this.tree, selector, { firstentry: first, numentries: count });
    } catch (err) {
      if (selector.callbackError) throw selector.callbackError.error;
      throw new RootReadError(this.fileName, 'corrupt', `TTree "${this.treeName}" entries ${first}-${last}: ${errorMessage(err)}`, { cause: err });
    }
    // jsroot reports basket read or decompression failures only through Terminate(false).
    if (!selector.ok || selector.processed !== count) {
      throw new RootReadError(
        this.fileName,
        'corrupt',
        `TTree "${this.treeName}" entries ${first}-${last}: basket data could not be read or decompressed (got ${selector.processed} of ${count} entries)`,
      );
    }
  }

  /**
   * Branch objects by name, counters and scalars first: jsroot adds a jagged
   * branch's counter itself and refuses it if it is requested afterwards.
   */
  private selected(names: string[]): [string, JsrootBranch][] {
    return names
      .flatMap((name) => {
        const branch = this.branches.get(name);
        return branch ? [[name, branch] as [string, JsrootBranch]] : [];
      })
      .sort(([a], [b]) => Number(this.jagged.has(a)) - Number(this.jagged.has(b)));
  }
}

/** Copies each entry's values out of jsroot's target object and hands them to the callback. */
class EntrySelector extends TSelector {
  processed = 0;
  ok = true;
  /** What onEntry threw, so that read() rethrows it unchanged. */
  callbackError: { error: unknown } | undefined;
  private readonly values: BranchValues = {};

  constructor(
    private readonly names: string[],
    private readonly onEntry: (entry: number, values: BranchValues) => void,
  ) {
    super();
  }

  override Process(entry: number): void {
    const target = this.tgtobj;
    for (const name of this.names) {
      const value = target[name];
      this.values[name] = typeof value === 'boolean' ? Number(value) : (value as number | ArrayLike<number>);
    }
    try {
      this.onEntry(entry, this.values);
    } catch (error) {
      this.callbackError = { error };
      throw error;
    }
    this.processed++;
  }

  override Terminate(ok: boolean): void {
    this.ok &&= ok;
  }
}

/** A counted leaf's title names its counter: `Jet_Px[NJet]`, `PT[Jet_]` (not a fixed size like `x[3]`). */
function isJagged(branch: JsrootBranch): boolean {
  return branch.fLeaves.arr.some((leaf) => /\[[A-Za-z_]/.test(leaf.fTitle));
}

function entrySlice(range: EntryRange, entries: number): { first: number; count: number } {
  const { first = 0, count = entries } = range;
  if (!Number.isSafeInteger(first) || first < 0 || !Number.isSafeInteger(count) || count < 0) {
    throw new RangeError(`entry range: first and count must be non-negative integers, got first=${first} count=${count}`);
  }
  const start = Math.min(first, entries);
  return { first: start, count: Math.min(count, entries - start) };
}
