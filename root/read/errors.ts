/**
 * Why a ROOT file could not be read:
 * - `not-root`: the bytes do not start with ROOT's `root` magic;
 * - `truncated`: the file is shorter than its header says (a cut-off copy or download);
 * - `corrupt`: the header is fine but the directory, a TTree or basket data cannot be
 *   decoded (bad checksums, impossible sizes); rereading will not help;
 * - `no-tree`: the requested TTree is not in the file;
 * - `missing-branch`: requested branches are not in the TTree;
 * - `io`: the file could not be read from disk (may be transient).
 */
export type RootReadReason = 'not-root' | 'truncated' | 'corrupt' | 'no-tree' | 'missing-branch' | 'io';

export class RootReadError extends Error {
  override readonly name = 'RootReadError';

  constructor(
    /** The file's name as given to openRootFile. */
    readonly file: string,
    readonly reason: RootReadReason,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${detail}`, options);
  }
}
