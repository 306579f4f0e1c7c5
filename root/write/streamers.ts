/**
 * Declarative descriptions of the ROOT classes this writer serializes, and the
 * StreamerInfo record (a TList of TStreamerInfo) generated from them.
 *
 * Each class is a list of members in streaming order, as ROOT's dictionary
 * describes it (class versions of ROOT 6: TTree 20, TBranch 13, TLeaf 2,
 * TLeaf<T> 1, ...). From that list this module derives the TStreamerElement
 * objects and the class checksum (TStreamerInfo::GetCheckSum with the latest
 * algorithm: names, base checksums, type names and array-counter names hashed
 * with id = id * 3 + c in 32-bit arithmetic), so ROOT finds the on-file
 * StreamerInfo identical to its own.
 */
import { ObjectWriter, kObjectBits } from './objects.js';

/** TVirtualStreamerInfo::EReadWrite codes used here. */
export const kBase = 0;
export const kChar = 1;
export const kShort = 2;
export const kInt = 3;
export const kLong = 4;
export const kFloat = 5;
export const kCounter = 6;
export const kDouble = 8;
export const kUChar = 11;
export const kUShort = 12;
export const kUInt = 13;
export const kULong = 14;
export const kBits = 15;
export const kLong64 = 16;
export const kULong64 = 17;
export const kBool = 18;
export const kOffsetP = 40;
export const kObject = 61;
export const kAny = 62;
export const kObjectP = 64;
export const kTString = 65;
export const kTObject = 66;
export const kTNamed = 67;

/** C++ basic type name -> [type code, size in bytes]. */
const BASIC: Record<string, readonly [number, number]> = {
  char: [kChar, 1],
  short: [kShort, 2],
  int: [kInt, 4],
  long: [kLong, 8],
  float: [kFloat, 4],
  double: [kDouble, 8],
  'unsigned char': [kUChar, 1],
  'unsigned short': [kUShort, 2],
  'unsigned int': [kUInt, 4],
  'unsigned long': [kULong, 8],
  'long long': [kLong64, 8],
  'unsigned long long': [kULong64, 8],
  bool: [kBool, 1],
};

export type ElementSpec =
  /** A base class (TStreamerBase). */
  | { kind: 'base'; name: string; title: string; version: number }
  /** A basic-type member (TStreamerBasicType); `code` overrides the type code (kCounter, kBits). */
  | { kind: 'basic'; name: string; title: string; typeName: string; code?: number }
  /** A pointer to a basic-type array sized by another member (TStreamerBasicPointer). */
  | { kind: 'basicPointer'; name: string; title: string; typeName: string; countName: string; countClass: string; countVersion: number }
  /** An embedded TObject-derived member (TStreamerObject). */
  | { kind: 'object'; name: string; title: string; typeName: string; size: number }
  /** An embedded non-TObject member (TStreamerObjectAny). */
  | { kind: 'objectAny'; name: string; title: string; typeName: string; size: number }
  /** A pointer to a TObject-derived object (TStreamerObjectPointer). */
  | { kind: 'objectPointer'; name: string; title: string; typeName: string }
  /** A TString member (TStreamerString). */
  | { kind: 'string'; name: string; title: string };

export interface ClassSpec {
  name: string;
  version: number;
  elements: ElementSpec[];
  /**
   * Data members of the dictionary that are not streamed (classes of version
   * 0 have no elements) but still enter the class checksum.
   */
  checksumOnly?: { name: string; typeName: string }[];
}

// ---- member-list helpers ---------------------------------------------------

const base = (name: string, version: number, title: string): ElementSpec => ({ kind: 'base', name, title, version });
const basic = (name: string, typeName: string, title: string, code?: number): ElementSpec =>
  code === undefined ? { kind: 'basic', name, title, typeName } : { kind: 'basic', name, title, typeName, code };
const str = (name: string, title: string): ElementSpec => ({ kind: 'string', name, title });
const objarray = (name: string, title: string): ElementSpec => ({ kind: 'object', name, title, typeName: 'TObjArray', size: 64 });
const ptr = (name: string, typeName: string, title: string): ElementSpec => ({ kind: 'objectPointer', name, title, typeName });
const ioFeatures = (title: string): ElementSpec => ({ kind: 'objectAny', name: 'fIOFeatures', title, typeName: 'ROOT::TIOFeatures', size: 1 });

const TLEAF_TITLE = 'Leaf: description of a Branch data type';

/** A TLeaf<T> class: TLeaf base plus fMinimum/fMaximum of the leaf's C++ type. */
function leafClass(name: string, typeName: string): ClassSpec {
  return {
    name,
    version: 1,
    elements: [
      base('TLeaf', 2, TLEAF_TITLE),
      basic('fMinimum', typeName, 'Minimum value if leaf range is specified'),
      basic('fMaximum', typeName, 'Maximum value if leaf range is specified'),
    ],
  };
}

/** Every class this writer can describe, by name. */
export const CLASSES: Record<string, ClassSpec> = Object.fromEntries(
  (
    [
      {
        name: 'TObject',
        version: 1,
        elements: [
          basic('fUniqueID', 'unsigned int', 'object unique identifier'),
          basic('fBits', 'unsigned int', 'bit field status word', kBits),
        ],
      },
      {
        name: 'TNamed',
        version: 1,
        elements: [base('TObject', 1, 'Basic ROOT object'), str('fName', 'object identifier'), str('fTitle', 'object title')],
      },
      {
        name: 'TAttLine',
        version: 2,
        elements: [
          basic('fLineColor', 'short', 'Line color'),
          basic('fLineStyle', 'short', 'Line style'),
          basic('fLineWidth', 'short', 'Line width'),
        ],
      },
      {
        name: 'TAttFill',
        version: 2,
        elements: [basic('fFillColor', 'short', 'Fill area color'), basic('fFillStyle', 'short', 'Fill area style')],
      },
      {
        name: 'TAttMarker',
        version: 2,
        elements: [
          basic('fMarkerColor', 'short', 'Marker color'),
          basic('fMarkerStyle', 'short', 'Marker style'),
          basic('fMarkerSize', 'float', 'Marker size'),
        ],
      },
      {
        name: 'TCollection',
        version: 3,
        elements: [
          base('TObject', 1, 'Basic ROOT object'),
          str('fName', 'name of the collection'),
          basic('fSize', 'int', 'number of elements in collection'),
        ],
      },
      {
        name: 'TSeqCollection',
        version: 0,
        elements: [base('TCollection', 3, 'Collection abstract base class')],
        checksumOnly: [{ name: 'fSorted', typeName: 'bool' }],
      },
      {
        name: 'TObjArray',
        version: 3,
        elements: [
          base('TSeqCollection', 0, 'Sequenceable collection ABC'),
          basic('fLowerBound', 'int', 'Lower bound of the array'),
          basic('fLast', 'int', 'Last element in array containing an object'),
        ],
      },
      { name: 'TList', version: 5, elements: [base('TSeqCollection', 0, 'Sequenceable collection ABC')] },
      { name: 'ROOT::TIOFeatures', version: 1, elements: [basic('fIOBits', 'unsigned char', '')] },
      {
        name: 'TLeaf',
        version: 2,
        elements: [
          base('TNamed', 1, 'The basis for a named object (name, title)'),
          basic('fLen', 'int', "Number of fixed length elements in the leaf's data."),
          basic('fLenType', 'int', 'Number of bytes for this data type'),
          basic('fOffset', 'int', 'Offset in ClonesArray object (if one)'),
          basic(
            'fIsRange',
            'bool',
            "(=kTRUE if leaf has a range, kFALSE otherwise).  This is equivalent to being a 'leafcount'.  For a TLeafElement the range information is actually store in the TBranchElement.",
          ),
          basic('fIsUnsigned', 'bool', '(=kTRUE if unsigned, kFALSE otherwise)'),
          ptr('fLeafCount', 'TLeaf*', 'Pointer to Leaf count if variable length (we do not own the counter)'),
        ],
      },
      leafClass('TLeafB', 'char'),
      leafClass('TLeafS', 'short'),
      leafClass('TLeafI', 'int'),
      leafClass('TLeafL', 'long long'),
      leafClass('TLeafF', 'float'),
      leafClass('TLeafD', 'double'),
      leafClass('TLeafO', 'bool'),
      {
        name: 'TBranch',
        version: 13,
        elements: [
          base('TNamed', 1, 'The basis for a named object (name, title)'),
          base('TAttFill', 2, 'Fill area attributes'),
          basic('fCompress', 'int', 'Compression level and algorithm'),
          basic('fBasketSize', 'int', 'Initial Size of  Basket Buffer'),
          basic('fEntryOffsetLen', 'int', 'Initial Length of fEntryOffset table in the basket buffers'),
          basic('fWriteBasket', 'int', 'Last basket number written'),
          basic('fEntryNumber', 'long long', 'Current entry number (last one filled in this branch)'),
          ioFeatures('IO features for newly-created baskets.'),
          basic('fOffset', 'int', 'Offset of this branch'),
          basic('fMaxBaskets', 'int', 'Maximum number of Baskets so far', kCounter),
          basic('fSplitLevel', 'int', 'Branch split level'),
          basic('fEntries', 'long long', 'Number of entries'),
          basic('fFirstEntry', 'long long', 'Number of the first entry in this branch'),
          basic('fTotBytes', 'long long', 'Total number of bytes in all leaves before compression'),
          basic('fZipBytes', 'long long', 'Total number of bytes in all leaves after compression'),
          objarray('fBranches', '-> List of Branches of this branch'),
          objarray('fLeaves', '-> List of leaves of this branch'),
          objarray('fBaskets', '-> List of baskets of this branch'),
          {
            kind: 'basicPointer',
            name: 'fBasketBytes',
            title: '[fMaxBaskets] Length of baskets on file',
            typeName: 'int',
            countName: 'fMaxBaskets',
            countClass: 'TBranch',
            countVersion: 13,
          },
          {
            kind: 'basicPointer',
            name: 'fBasketEntry',
            title: '[fMaxBaskets] Table of first entry in each basket',
            typeName: 'long long',
            countName: 'fMaxBaskets',
            countClass: 'TBranch',
            countVersion: 13,
          },
          {
            kind: 'basicPointer',
            name: 'fBasketSeek',
            title: '[fMaxBaskets] Addresses of baskets on file',
            typeName: 'long long',
            countName: 'fMaxBaskets',
            countClass: 'TBranch',
            countVersion: 13,
          },
          str('fFileName', 'Name of file where buffers are stored ("" if in same file as Tree header)'),
        ],
      },
      {
        name: 'TTree',
        version: 20,
        elements: [
          base('TNamed', 1, 'The basis for a named object (name, title)'),
          base('TAttLine', 2, 'Line attributes'),
          base('TAttFill', 2, 'Fill area attributes'),
          base('TAttMarker', 2, 'Marker attributes'),
          basic('fEntries', 'long long', 'Number of entries'),
          basic('fTotBytes', 'long long', 'Total number of bytes in all branches before compression'),
          basic('fZipBytes', 'long long', 'Total number of bytes in all branches after compression'),
          basic('fSavedBytes', 'long long', 'Number of autosaved bytes'),
          basic('fFlushedBytes', 'long long', 'Number of auto-flushed bytes'),
          basic('fWeight', 'double', 'Tree weight (see TTree::SetWeight)'),
          basic('fTimerInterval', 'int', 'Timer interval in milliseconds'),
          basic('fScanField', 'int', 'Number of runs before prompting in Scan'),
          basic('fUpdate', 'int', 'Update frequency for EntryLoop'),
          basic('fDefaultEntryOffsetLen', 'int', 'Initial Length of fEntryOffset table in the basket buffers'),
          basic('fNClusterRange', 'int', "Number of Cluster range in addition to the one defined by 'AutoFlush'", kCounter),
          basic('fMaxEntries', 'long long', 'Maximum number of entries in case of circular buffers'),
          basic('fMaxEntryLoop', 'long long', 'Maximum number of entries to process'),
          basic('fMaxVirtualSize', 'long long', 'Maximum total size of buffers kept in memory'),
          basic('fAutoSave', 'long long', 'Autosave tree when fAutoSave entries written or -fAutoSave (compressed) bytes produced'),
          basic('fAutoFlush', 'long long', 'Auto-flush tree when fAutoFlush entries written or -fAutoFlush (compressed) bytes produced'),
          basic('fEstimate', 'long long', 'Number of entries to estimate histogram limits'),
          {
            kind: 'basicPointer',
            name: 'fClusterRangeEnd',
            title: '[fNClusterRange] Last entry of a cluster range.',
            typeName: 'long long',
            countName: 'fNClusterRange',
            countClass: 'TTree',
            countVersion: 20,
          },
          {
            kind: 'basicPointer',
            name: 'fClusterSize',
            title: '[fNClusterRange] Number of entries in each cluster for a given range.',
            typeName: 'long long',
            countName: 'fNClusterRange',
            countClass: 'TTree',
            countVersion: 20,
          },
          ioFeatures('IO features to define for newly-written baskets and branches.'),
          objarray('fBranches', 'List of Branches'),
          objarray('fLeaves', 'Direct pointers to individual branch leaves'),
          ptr('fAliases', 'TList*', 'List of aliases for expressions based on the tree branches.'),
          { kind: 'objectAny', name: 'fIndexValues', title: 'Sorted index values', typeName: 'TArrayD', size: 24 },
          { kind: 'objectAny', name: 'fIndex', title: 'Index of sorted values', typeName: 'TArrayI', size: 24 },
          ptr('fTreeIndex', 'TVirtualIndex*', 'Pointer to the tree Index (if any)'),
          ptr('fFriends', 'TList*', 'pointer to list of friend elements'),
          ptr('fUserInfo', 'TList*', 'pointer to a list of user objects associated to this Tree'),
          ptr('fBranchRef', 'TBranchRef*', 'Branch supporting the TRefTable (if any)'),
        ],
      },
    ] satisfies ClassSpec[]
  ).map((c) => [c.name, c]),
);

function classSpec(name: string): ClassSpec {
  const c = CLASSES[name];
  if (!c) throw new Error(`no streamer description for class ${name}`);
  return c;
}

// ---- derived element attributes --------------------------------------------

interface ElementInfo {
  streamerClass: string;
  version: number;
  type: number;
  size: number;
  typeName: string;
}

function basicType(typeName: string): readonly [number, number] {
  const t = BASIC[typeName];
  if (!t) throw new Error(`unknown basic type ${typeName}`);
  return t;
}

function elementInfo(e: ElementSpec): ElementInfo {
  switch (e.kind) {
    case 'base': {
      const type = e.name === 'TObject' ? kTObject : e.name === 'TNamed' ? kTNamed : kBase;
      return { streamerClass: 'TStreamerBase', version: 3, type, size: 0, typeName: 'BASE' };
    }
    case 'basic': {
      const [code, size] = basicType(e.typeName);
      return { streamerClass: 'TStreamerBasicType', version: 2, type: e.code ?? code, size, typeName: e.typeName };
    }
    case 'basicPointer': {
      const [code, size] = basicType(e.typeName);
      return { streamerClass: 'TStreamerBasicPointer', version: 2, type: kOffsetP + code, size, typeName: `${e.typeName}*` };
    }
    case 'object':
      return { streamerClass: 'TStreamerObject', version: 2, type: kObject, size: e.size, typeName: e.typeName };
    case 'objectAny':
      return { streamerClass: 'TStreamerObjectAny', version: 2, type: kAny, size: e.size, typeName: e.typeName };
    case 'objectPointer':
      return { streamerClass: 'TStreamerObjectPointer', version: 2, type: kObjectP, size: 8, typeName: e.typeName };
    case 'string':
      return { streamerClass: 'TStreamerString', version: 2, type: kTString, size: 24, typeName: 'TString' };
  }
}

// ---- checksum ----------------------------------------------------------------

function hashInto(id: number, s: string): number {
  for (let i = 0; i < s.length; i++) id = (Math.imul(id, 3) + s.charCodeAt(i)) >>> 0;
  return id;
}

/** "[fMaxBaskets] ..." -> "fMaxBaskets" (a counter only when the comment starts with '['). */
function counterName(title: string): string | undefined {
  for (let i = 0; i < title.length; i++) {
    const c = title[i] ?? '';
    if (c === '[') {
      const close = title.indexOf(']', i);
      return close < 0 ? undefined : title.slice(i + 1, close);
    }
    if (c !== '*' && !/\s/.test(c)) return undefined;
  }
  return undefined;
}

/** ROOT normalizes (unsigned) long long to its Long64_t / ULong64_t typedefs in checksums. */
function checksumTypeName(typeName: string): string {
  return typeName.replace(/^unsigned long long/, 'ULong64_t').replace(/^long long/, 'Long64_t');
}

const checksumCache = new Map<string, number>();

/** TStreamerInfo::GetCheckSum (latest algorithm) of a described class. */
export function classChecksum(name: string): number {
  const cached = checksumCache.get(name);
  if (cached !== undefined) return cached;
  const cls = classSpec(name);
  let id = hashInto(0, cls.name);
  for (const e of cls.elements) {
    if (e.kind !== 'base') continue;
    id = hashInto(id, e.name);
    id = (Math.imul(id, 3) + classChecksum(e.name)) >>> 0;
  }
  for (const e of cls.elements) {
    if (e.kind === 'base') continue;
    id = hashInto(id, e.name);
    id = hashInto(id, checksumTypeName(elementInfo(e).typeName));
    const counter = counterName(e.title);
    if (counter !== undefined) id = hashInto(id, counter);
  }
  for (const m of cls.checksumOnly ?? []) {
    id = hashInto(id, m.name);
    id = hashInto(id, checksumTypeName(m.typeName));
  }
  checksumCache.set(name, id);
  return id;
}

// ---- serialization -----------------------------------------------------------

/** TStreamerInfo's TNamed carries kIsCompiled (BIT 16) in files ROOT writes. */
const kStreamerInfoBits = kObjectBits | 0x00010000;

function writeElement(w: ObjectWriter, e: ElementSpec): void {
  const info = elementInfo(e);
  const obj = w.beginObject(info.streamerClass);
  const outer = w.begin(info.version);
  const el = w.begin(4); // TStreamerElement
  w.tnamed(e.name, e.title);
  w.i32(info.type);
  w.i32(info.size);
  w.i32(0); // fArrayLength
  w.i32(0); // fArrayDim
  // fMaxIndex[5]; for a base class ROOT keeps the base's checksum in slot 1.
  w.i32(0);
  w.u32(e.kind === 'base' ? classChecksum(e.name) : 0);
  w.i32(0);
  w.i32(0);
  w.i32(0);
  w.tstring(info.typeName);
  w.end(el);
  if (e.kind === 'base') {
    w.i32(e.version); // fBaseVersion
  } else if (e.kind === 'basicPointer') {
    w.i32(e.countVersion);
    w.tstring(e.countName);
    w.tstring(e.countClass);
  }
  w.end(outer);
  w.end(obj.start);
}

/** Writes one TStreamerInfo (as an object pointer) for a described class. */
export function writeStreamerInfo(w: ObjectWriter, name: string): void {
  const cls = classSpec(name);
  const obj = w.beginObject('TStreamerInfo');
  const s = w.begin(9);
  w.tnamed(cls.name, '', kStreamerInfoBits);
  w.u32(classChecksum(cls.name));
  w.i32(cls.version);
  const arr = w.beginObject('TObjArray');
  w.tobjarray(cls.elements.length, (i) => writeElement(w, cls.elements[i] as ElementSpec));
  w.end(arr.start);
  w.end(s);
  w.end(obj.start);
}

/** Base classes first, each class once. */
export function withDependencies(names: Iterable<string>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const visit = (n: string): void => {
    if (seen.has(n)) return;
    seen.add(n);
    for (const e of classSpec(n).elements) {
      if (e.kind === 'base') visit(e.name);
      else if (e.kind === 'object' || e.kind === 'objectAny') {
        if (CLASSES[e.typeName]) visit(e.typeName);
      }
    }
    out.push(n);
  };
  for (const n of names) visit(n);
  return out;
}

/**
 * The StreamerInfo record's object: a TList (version 5) of TStreamerInfo for
 * the given classes and everything they derive from or embed.
 * @param origin the StreamerInfo key's length (tags count from the key start)
 */
export function streamerInfoList(classNames: Iterable<string>, origin: number): Uint8Array {
  const names = withDependencies(classNames);
  const w = new ObjectWriter(origin, 16384);
  const s = w.begin(5);
  w.tobject();
  w.tstring('');
  w.i32(names.length);
  for (const n of names) {
    writeStreamerInfo(w, n);
    w.u8(0); // the TList entry's option string (empty)
  }
  w.end(s);
  return w.toBytes();
}
