/** Which Temporal service the CLI and workers talk to. */
import type { TLSConfig } from '@temporalio/client';
import { connectionOptionsFromEnv } from './temporal.js';

export interface TemporalTarget {
  connection: { address: string; tls?: TLSConfig; apiKey?: string };
  namespace: string;
}

/** A configured cluster (TEMPORAL_ADDRESS, namespace, TLS/API key), or null for the embedded stack. */
export function clusterFromEnv(env: NodeJS.ProcessEnv = process.env): TemporalTarget | null {
  const opts = connectionOptionsFromEnv(env);
  if (!opts) return null;
  const { namespace, ...connection } = opts;
  return { connection, namespace };
}
