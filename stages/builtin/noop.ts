/** `noop`: does nothing and writes nothing. Used to measure orchestration overhead. */
import { z } from 'zod';
import type { SimpleStageKind } from '../kind.js';

const With = z.strictObject({
  /** Free text; changing it changes the cache key (handy to force a re-run). */
  note: z.string().optional(),
});

export const noop: SimpleStageKind<z.infer<typeof With>> = {
  type: 'simple',
  name: 'noop',
  version: '1',
  description: 'Does nothing; for measuring orchestration overhead and wiring DAGs.',
  withSchema: With,
  run: async () => ({}),
};
