/** A committed stage manifest of a finished run, read from its storage (engine tests). */
import type { RunResult } from '../../protocol/protocol.js';
import type { StorageSpec } from '../../storage/spec.js';
import { openStorage } from '../../storage/index.js';

export interface TestManifest {
  key: string;
  outputs: Array<{ name: string; key: string; sha256: string }>;
  contentHash: string;
  counts: Record<string, number>;
  summary?: Record<string, unknown>;
  report?: string;
}

export async function manifestOf(result: RunResult, stage: string, storage: StorageSpec): Promise<TestManifest> {
  const key = result.stages[stage]!.manifestUri!.slice(storage.root.length + 1);
  return JSON.parse(Buffer.from(await openStorage(storage).get(key)).toString('utf8')) as TestManifest;
}

/** The SHA-256 of one of the manifest's outputs, by name. */
export const outputSha = (m: TestManifest, name: string) => m.outputs.find((o) => o.name === name)!.sha256;
