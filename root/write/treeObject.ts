/**
 * The TTree object (class version 20) with its TBranches (13) and TLeaves
 * (TLeaf 2, TLeaf<T> 1), serialized member by member in the order of the
 * StreamerInfo descriptions in streamers.ts.
 *
 * Every branch holds one leaf; a jagged leaf's fLeafCount is a reference
 * (object tag) to its counter leaf, which is written earlier in the same
 * buffer. TTree::fLeaves repeats all leaves as references.
 */
import type { BranchBuffer } from './branch.js';
import { DEFAULT_ENTRY_OFFSET_LEN } from './branch.js';
import { ObjectWriter, kMustCleanup, kObjectBits } from './objects.js';
import { classChecksum } from './streamers.js';

/** TBranch's kDoNotUseBufferMap bit, set by ROOT on branches of plain leaves. */
const kDoNotUseBufferMap = 0x00400000;

export interface TreeMeta {
  name: string;
  title: string;
  entries: number;
  /** fCompress of the branches: 100 * algorithm + level. */
  compress: number;
  basketSize: number;
}

/** ROOT::TIOFeatures (an unversioned class): byte count, version 0 + class checksum, fIOBits. */
function ioFeatures(w: ObjectWriter): void {
  const start = w.pos;
  w.u32(0);
  w.u16(0);
  w.u32(classChecksum('ROOT::TIOFeatures'));
  w.u8(0);
  w.end(start);
}

function writeLeaf(w: ObjectWriter, b: BranchBuffer, leafTags: Map<BranchBuffer, number>): void {
  const t = b.type;
  const obj = w.beginObject(t.leafClass);
  leafTags.set(b, obj.tag);
  const sub = w.begin(1); // TLeaf<T>
  const leaf = w.begin(2); // TLeaf
  w.tnamed(b.name, b.leafTitle);
  w.i32(1); // fLen: one value per entry (or per counted element)
  w.i32(t.size); // fLenType
  w.i32(0); // fOffset
  w.u8(b.kind === 'counter' ? 1 : 0); // fIsRange
  w.u8(t.unsigned ? 1 : 0); // fIsUnsigned
  if (b.counter) {
    const tag = leafTags.get(b.counter);
    if (tag === undefined) throw new Error(`internal error: counter ${b.counter.name} written after ${b.name}`);
    w.objectRef(tag);
  } else {
    w.nullPointer();
  }
  w.end(leaf);
  // fMinimum, fMaximum in the leaf's own type; counters carry the largest count
  const max = b.kind === 'counter' ? b.maximum : 0;
  switch (t.leafClass) {
    case 'TLeafI':
      w.i32(0).u32(max);
      break;
    case 'TLeafF':
      w.f32(0).f32(0);
      break;
    case 'TLeafD':
      w.f64(0).f64(0);
      break;
    case 'TLeafL':
      w.i64(0).i64(0);
      break;
    case 'TLeafS':
      w.i16(0).i16(0);
      break;
    case 'TLeafB':
    case 'TLeafO':
      w.u8(0).u8(0);
      break;
    default:
      throw new Error(`internal error: no fMinimum/fMaximum layout for ${t.leafClass}`);
  }
  w.end(sub);
  w.end(obj.start);
}

function writeBranch(w: ObjectWriter, b: BranchBuffer, meta: TreeMeta, leafTags: Map<BranchBuffer, number>): void {
  const obj = w.beginObject('TBranch');
  const s = w.begin(13);
  w.tnamed(b.name, b.title, kObjectBits | kDoNotUseBufferMap);
  const fill = w.begin(2); // TAttFill
  w.i16(0).i16(1001);
  w.end(fill);
  const nb = b.basketCount;
  // ROOT writes fMaxBaskets = max(10, fWriteBasket + 1); fBasketEntry[fWriteBasket] = fEntries.
  const maxBaskets = Math.max(10, nb + 1);
  w.i32(meta.compress); // fCompress
  w.i32(meta.basketSize); // fBasketSize
  w.i32(b.entryOffsetLen); // fEntryOffsetLen
  w.i32(nb); // fWriteBasket
  w.i64(b.entries); // fEntryNumber
  ioFeatures(w);
  w.i32(0); // fOffset
  w.i32(maxBaskets); // fMaxBaskets
  w.i32(0); // fSplitLevel
  w.i64(b.entries); // fEntries
  w.i64(0); // fFirstEntry
  w.i64(b.totBytes);
  w.i64(b.zipBytes);
  w.tobjarray(0, () => undefined); // fBranches
  w.tobjarray(1, () => writeLeaf(w, b, leafTags)); // fLeaves
  w.tobjarray(0, () => undefined); // fBaskets (none kept in memory)
  w.u8(1); // fBasketBytes present
  for (let i = 0; i < maxBaskets; i++) w.i32(b.basketBytes[i] ?? 0);
  w.u8(1); // fBasketEntry
  for (let i = 0; i < maxBaskets; i++) w.i64(i < nb ? (b.basketEntry[i] ?? 0) : i === nb ? b.entries : 0);
  w.u8(1); // fBasketSeek
  for (let i = 0; i < maxBaskets; i++) w.i64(b.basketSeek[i] ?? 0);
  w.tstring(''); // fFileName
  w.end(s);
  w.end(obj.start);
}

/**
 * Serializes the TTree object.
 * @param origin the TTree key's length (object tags count from the key start)
 */
export function serializeTree(meta: TreeMeta, branches: readonly BranchBuffer[], origin: number): Uint8Array {
  const w = new ObjectWriter(origin, 4096 + branches.length * 512);
  const leafTags = new Map<BranchBuffer, number>();
  let totBytes = 0;
  let zipBytes = 0;
  for (const b of branches) {
    totBytes += b.totBytes;
    zipBytes += b.zipBytes;
  }
  const s = w.begin(20);
  w.tnamed(meta.name, meta.title, kObjectBits | kMustCleanup);
  const line = w.begin(2); // TAttLine
  w.i16(602).i16(1).i16(1);
  w.end(line);
  const fill = w.begin(2); // TAttFill
  w.i16(0).i16(1001);
  w.end(fill);
  const marker = w.begin(2); // TAttMarker
  w.i16(1).i16(1).f32(1);
  w.end(marker);
  w.i64(meta.entries); // fEntries
  w.i64(totBytes); // fTotBytes
  w.i64(zipBytes); // fZipBytes
  w.i64(zipBytes); // fSavedBytes
  w.i64(zipBytes); // fFlushedBytes
  w.f64(1); // fWeight
  w.i32(0); // fTimerInterval
  w.i32(25); // fScanField
  w.i32(0); // fUpdate
  w.i32(DEFAULT_ENTRY_OFFSET_LEN); // fDefaultEntryOffsetLen
  w.i32(0); // fNClusterRange
  w.i64(1000000000000); // fMaxEntries
  w.i64(1000000000000); // fMaxEntryLoop
  w.i64(0); // fMaxVirtualSize
  w.i64(-300000000); // fAutoSave
  w.i64(-30000000); // fAutoFlush
  w.i64(1000000); // fEstimate
  w.u8(0); // fClusterRangeEnd: no array
  w.u8(0); // fClusterSize: no array
  ioFeatures(w);
  w.tobjarray(branches.length, (i) => writeBranch(w, branches[i]!, meta, leafTags));
  w.tobjarray(branches.length, (i) => {
    const tag = leafTags.get(branches[i]!);
    if (tag === undefined) throw new Error('internal error: leaf not written');
    w.objectRef(tag);
  });
  w.nullPointer(); // fAliases
  w.i32(0); // fIndexValues (TArrayD, empty)
  w.i32(0); // fIndex (TArrayI, empty)
  w.nullPointer(); // fTreeIndex
  w.nullPointer(); // fFriends
  w.nullPointer(); // fUserInfo
  w.nullPointer(); // fBranchRef
  w.end(s);
  return w.toBytes();
}
