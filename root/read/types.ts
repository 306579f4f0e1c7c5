/** What root/read offers: ROOT files, their TTrees and entry-by-entry branch values. */

/** A slice of a TTree's entries, as in Array.prototype.slice: clamped to the entries present. */
export interface EntryRange {
  /** First entry (default 0). */
  first?: number;
  /** Number of entries (default: to the end). */
  count?: number;
}

/**
 * One entry's values by branch name: a number for scalar and counter branches,
 * an array for jagged ones (typed by the leaf type; booleans as 0/1). The object
 * and its arrays are reused: valid only during the callback, copy what you keep.
 */
export type BranchValues = Record<string, number | ArrayLike<number>>;

export interface RootTree {
  /** Number of entries (events). */
  readonly entries: number;
  /** Readable branches: those without sub-branches, e.g. `Jet.PT`, `Jet_size`, `Jet_Px`. */
  branchNames(): string[];
  hasBranch(name: string): boolean;
  /**
   * Calls onEntry for each entry of the range, in order, with the requested
   * branches. Throws RootReadError: `missing-branch` (naming every missing
   * branch) before reading anything, `corrupt` when basket data cannot be
   * decoded. An error thrown by onEntry stops the read and is rethrown as is.
   * Yields to the event loop every 2,000 entries, so timers, I/O and background
   * work (Parquet encoding) run during long reads.
   */
  read(branches: string[], onEntry: (entry: number, values: BranchValues) => void, range?: EntryRange): Promise<void>;
}

export interface RootFile {
  /** The path or name given to openRootFile; every error message starts with it. */
  readonly name: string;
  /** Names of the TTrees at the top level of the file. */
  treeNames(): string[];
  /** Throws RootReadError `no-tree` (listing the trees present) or `corrupt`. */
  tree(name: string): Promise<RootTree>;
}
