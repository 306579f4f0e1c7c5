/** Options every command shares, and the error type for bad command lines. */
import { resolve } from 'node:path';

export interface Globals {
  /** pipelines.yaml */
  file: string;
  /** Data folder: local storage, Temporal's SQLite file, logs. */
  dataDir: string;
  /** Progress and notes (stderr, so stdout stays clean for --json). */
  log: (line: string) => void;
}

/** Bad command-line input: printed without a stack trace, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function globalsFrom(opts: { file?: string; data?: string }, quiet = false): Globals {
  return {
    file: resolve(opts.file ?? process.env.TOPOFLOW_PIPELINES ?? 'pipelines.yaml'),
    dataDir: resolve(opts.data ?? process.env.TOPOFLOW_DATA ?? 'data'),
    log: quiet ? () => {} : (line) => process.stderr.write(`${line}\n`),
  };
}
