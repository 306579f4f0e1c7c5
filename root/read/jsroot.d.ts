/**
 * The part of jsroot 7.11.2 that root/read uses. jsroot ships only empty type
 * stubs; these declarations describe the objects as jsroot builds them (ROOT's
 * own member names, e.g. `fEntries`).
 */

declare module 'jsroot/io' {
  export interface JsrootList<T> {
    arr: T[];
  }

  export interface JsrootLeaf {
    _typename: string;
    fName: string;
    /** Leaf-list title, e.g. `Jet_Px[NJet]`. */
    fTitle: string;
  }

  export interface JsrootBranch {
    _typename: string;
    fName: string;
    fEntries: number;
    fBranches: JsrootList<JsrootBranch>;
    fLeaves: JsrootList<JsrootLeaf>;
  }

  export interface JsrootTree {
    fEntries: number;
    fBranches: JsrootList<JsrootBranch>;
  }

  export interface JsrootKey {
    fName: string;
    fClassName: string;
    fCycle: number;
  }

  export interface JsrootFile {
    fKeys: JsrootKey[];
    /** Resolves the object stored under `name` (highest cycle). */
    readObject(name: string): Promise<unknown>;
  }

  /** An ArrayBuffer is read in place (no file reader, no HTTP). */
  export function openFile(source: ArrayBuffer): Promise<JsrootFile>;
}

declare module 'jsroot/tree' {
  import type { JsrootBranch, JsrootTree } from 'jsroot/io';

  export class TSelector {
    /** Values of the current entry, by the names given to addBranch; reused between entries. */
    tgtobj: Record<string, unknown>;
    addBranch(branch: JsrootBranch, name: string): number;
    /** Called once per entry after tgtobj is filled. */
    Process(entry: number): void;
    /** Called once at the end; `ok` is false when reading failed. */
    Terminate(ok: boolean): void;
  }

  /** Resolves with the selector, also when reading failed: check what Terminate received. */
  export function treeProcess(
    tree: JsrootTree,
    selector: TSelector,
    args?: { firstentry?: number; numentries?: number },
  ): Promise<TSelector>;
}

declare module 'jsroot/core' {
  /** jsroot's shared mutable state; `nativeZlib` is set by patches/jsroot+7.11.2.patch. */
  export const internals: { nativeZlib?: boolean };
}
