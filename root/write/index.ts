/**
 * A self-contained ROOT file + TTree writer (see README.md in this folder).
 *
 *   const w = new TreeWriter({ treeName: 'Delphes', collections: [...] });
 *   for (const ev of events) w.fill(ev);
 *   writeFileSync('out.root', w.finish());
 */
export { TreeWriter } from './tree.js';
export type { CollectionSpec, EventData, MemberSpec, ScalarSpec, TreeWriterOptions } from './tree.js';
export type { CoreLeafType, LeafType, LeafTypeInfo } from './types.js';
export { LEAF_TYPES } from './types.js';
export type { CompressionAlgorithm, CompressionSetting, ZlibStrategy } from './compression.js';
export { rootCompress, rootDecompress } from './compression.js';
export { CLASSES, classChecksum } from './streamers.js';
