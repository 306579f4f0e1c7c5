/**
 * The stage kinds, loaded on demand: they pull in the domain code (Parquet,
 * ROOT, physics; about 0.4 s), which commands that only read a run's state
 * (`status`, `list`) never need.
 */
import type { KindRegistry } from '../stages/registry.js';

export async function stageKinds(): Promise<KindRegistry> {
  const { loadRegistry } = await import('../stages/index.js');
  return loadRegistry();
}
