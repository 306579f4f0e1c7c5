/**
 * Checks a ROOT file's fixed header before jsroot parses it, so a non-ROOT or
 * cut-off file gets a precise reason instead of whatever jsroot trips over.
 */
import { RootReadError } from './errors.js';

/** TFile::fVersion from which seek pointers, and so fEND, are 8 bytes. */
const LARGE_FILE_VERSION = 1_000_000;
/** 'root', fVersion, fBEGIN, then fEND (4 or 8 bytes). */
const SMALL_HEADER_BYTES = 16;
const LARGE_HEADER_BYTES = 20;

/** Throws `not-root` or `truncated` (shorter than the file length, fEND, its header declares). */
export function checkRootHeader(bytes: Uint8Array, name: string): void {
  const isRoot = bytes.length >= 4 && bytes[0] === 0x72 && bytes[1] === 0x6f && bytes[2] === 0x6f && bytes[3] === 0x74;
  if (!isRoot) throw new RootReadError(name, 'not-root', 'not a ROOT file (no "root" magic at the start)');

  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerBytes = bytes.length >= 8 && view.getInt32(4) >= LARGE_FILE_VERSION ? LARGE_HEADER_BYTES : SMALL_HEADER_BYTES;
  if (bytes.length < headerBytes) {
    throw new RootReadError(name, 'truncated', `truncated ROOT file: ${bytes.length} bytes, less than its ${headerBytes}-byte header`);
  }
  const end = headerBytes === LARGE_HEADER_BYTES ? Number(view.getBigInt64(12)) : view.getInt32(12);
  if (end > bytes.length) {
    throw new RootReadError(name, 'truncated', `truncated ROOT file: ${bytes.length} bytes, its header says ${end}`);
  }
}
