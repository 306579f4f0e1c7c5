/** Failure chains (activity → child workflow → application error): the useful message is the innermost. Pure. */
export function innermostMessage(err: unknown): string {
  let msg = err instanceof Error ? err.message : String(err);
  for (let e: unknown = err; e instanceof Error; e = (e as { cause?: unknown }).cause) {
    if (e.message) msg = e.message;
  }
  return msg;
}
