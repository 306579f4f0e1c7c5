/**
 * Errors a stage raises when retrying cannot help (bad input file, bad
 * parameter). The activity layer turns them into non-retryable failures, so
 * the run holds at once with this message instead of burning its retries.
 */
export class BadInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadInputError';
  }
}

/** A readable one-line message for any thrown value (no stack traces). */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
