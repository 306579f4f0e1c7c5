/**
 * What an ML job (training a classifier, scoring trained ones) gets from its
 * caller and gives back. Jobs are plain functions: they read their inputs from
 * storage and return the files to keep; the caller (a stage kind) writes them.
 */

/** Live progress; the caller throttles and shows it. */
export interface JobProgress {
  done: number;
  total?: number;
  /** What `done` counts: "epochs", "models", "parts verified"... */
  unit?: string;
  message?: string;
}

export interface JobCallbacks {
  progress(p: JobProgress): void;
  log(message: string): void;
  /** Aborted when the job should stop (run aborted, stage timed out). */
  signal: AbortSignal;
}

/** One file a job produced, in the order it should be recorded. */
export interface JobFile {
  name: string;
  body: Uint8Array | string;
  rows?: number;
  /** Informational only (timings): left out of the content hash. */
  volatile?: boolean;
}

export interface JobResult<Summary> {
  files: JobFile[];
  counts: Record<string, number>;
  summary: Summary;
}
