/** Reading ROOT TTrees (jsroot, patched; whole files in memory). */
export { openRootFile, type RootSource } from './file.js';
export { RootReadError, type RootReadReason } from './errors.js';
export type { BranchValues, EntryRange, RootFile, RootTree } from './types.js';
