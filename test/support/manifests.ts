/** A committed stage manifest of a finished run, read from its storage (engine tests). */
import type { RunResult } from '../../protocol/protocol.js';
import type { StorageSpec } from '../../storage/spec.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStorage, type Storage } from '../../storage/index.js';

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

/** The key of the first training checkpoint's state.json under `checkpoints/train/` once one is written (fails after `timeoutMs`). */
export async function firstCheckpoint(store: Storage, timeoutMs = 180_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = (await store.list('checkpoints/train/')).map((o) => o.key).find((k) => k.endsWith('/state.json'));
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no training checkpoint was written within ${timeoutMs / 1000} s`);
    await sleep(25);
  }
}
