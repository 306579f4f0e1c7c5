/**
 * Leaf types: the C++ type names accepted by the API, their leaf-list type
 * letter, the TLeaf subclass ROOT uses for them and their size on disk.
 */

/** Types the Delphes generator needs. */
export type CoreLeafType = 'Int_t' | 'UInt_t' | 'Float_t' | 'Double_t' | 'Long64_t';
/** Every supported type (the core ones plus the rest of ROOT's fixed-size leaves). */
export type LeafType = CoreLeafType | 'ULong64_t' | 'Short_t' | 'UShort_t' | 'Char_t' | 'UChar_t' | 'Bool_t';

export interface LeafTypeInfo {
  type: LeafType;
  /** Leaf-list letter: I, i, F, D, L, l, S, s, B, b, O. */
  letter: string;
  /** TLeafI, TLeafF, ... (unsigned types share the signed class with fIsUnsigned). */
  leafClass: string;
  /** Bytes per value (TLeaf::fLenType). */
  size: number;
  unsigned: boolean;
}

const info = (type: LeafType, letter: string, leafClass: string, size: number, unsigned = false): LeafTypeInfo => ({
  type,
  letter,
  leafClass,
  size,
  unsigned,
});

export const LEAF_TYPES: Readonly<Record<LeafType, LeafTypeInfo>> = {
  Int_t: info('Int_t', 'I', 'TLeafI', 4),
  UInt_t: info('UInt_t', 'i', 'TLeafI', 4, true),
  Float_t: info('Float_t', 'F', 'TLeafF', 4),
  Double_t: info('Double_t', 'D', 'TLeafD', 8),
  Long64_t: info('Long64_t', 'L', 'TLeafL', 8),
  ULong64_t: info('ULong64_t', 'l', 'TLeafL', 8, true),
  Short_t: info('Short_t', 'S', 'TLeafS', 2),
  UShort_t: info('UShort_t', 's', 'TLeafS', 2, true),
  Char_t: info('Char_t', 'B', 'TLeafB', 1),
  UChar_t: info('UChar_t', 'b', 'TLeafB', 1, true),
  Bool_t: info('Bool_t', 'O', 'TLeafO', 1),
};

export function leafTypeInfo(type: string): LeafTypeInfo {
  const t = (LEAF_TYPES as Record<string, LeafTypeInfo | undefined>)[type];
  if (!t) throw new Error(`unsupported leaf type ${JSON.stringify(type)}; supported: ${Object.keys(LEAF_TYPES).join(', ')}`);
  return t;
}
