/** openRootFile: a whole ROOT file read into memory and opened with jsroot. */
import { readFile } from 'node:fs/promises';
import { errorMessage } from '../../common/errors.js';
import { RootReadError } from './errors.js';
import { checkRootHeader } from './header.js';
import { checkJsrootPatched, openJsrootFile, type JsrootFile, type JsrootTree } from './patchedJsroot.js';
import { JsrootTreeReader } from './tree.js';
import type { RootFile, RootTree } from './types.js';

const TREE_CLASSES = new Set(['TTree', 'TNtuple', 'TNtupleD']);

export type RootSource = { path: string } | { bytes: Uint8Array; name: string };

/**
 * Opens a ROOT file from disk or from bytes already in memory (e.g. an object
 * store download). Throws RootReadError: `io`, `not-root`, `truncated`, `corrupt`.
 */
export async function openRootFile(source: RootSource): Promise<RootFile> {
  const name = 'path' in source ? source.path : source.name;
  const bytes = 'path' in source ? await readWhole(source.path) : source.bytes;
  checkRootHeader(bytes, name);
  checkJsrootPatched();
  let file: JsrootFile;
  try {
    file = await openJsrootFile(bytes);
  } catch (err) {
    throw new RootReadError(name, 'corrupt', `cannot open ROOT file: ${errorMessage(err)}`, { cause: err });
  }
  return new JsrootRootFile(name, file);
}

class JsrootRootFile implements RootFile {
  constructor(
    readonly name: string,
    private readonly file: JsrootFile,
  ) {}

  treeNames(): string[] {
    return [...new Set(this.file.fKeys.filter((key) => TREE_CLASSES.has(key.fClassName)).map((key) => key.fName))];
  }

  async tree(treeName: string): Promise<RootTree> {
    const present = this.treeNames();
    if (!present.includes(treeName)) {
      const listing = present.length > 0 ? `trees present: ${present.join(', ')}` : 'the file has no TTree';
      throw new RootReadError(this.name, 'no-tree', `no TTree "${treeName}" (${listing})`);
    }
    try {
      const tree = await this.file.readObject(treeName);
      if (!isTree(tree)) throw new Error('jsroot returned no TTree');
      // A damaged TTree object can lack members: indexing its branches then fails here, as corrupt.
      return new JsrootTreeReader(this.name, treeName, tree);
    } catch (err) {
      throw new RootReadError(this.name, 'corrupt', `cannot read TTree "${treeName}": ${errorMessage(err)}`, { cause: err });
    }
  }
}

async function readWhole(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (err) {
    throw new RootReadError(path, 'io', `cannot read file: ${errorMessage(err)}`, { cause: err });
  }
}

function isTree(object: unknown): object is JsrootTree {
  return typeof object === 'object' && object !== null && 'fBranches' in object && typeof (object as JsrootTree).fEntries === 'number';
}
