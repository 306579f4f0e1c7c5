/**
 * Is a committed stage still what its manifest says? A cache hit is only as
 * good as the objects behind it: one deleted or truncated since the commit
 * would otherwise surface only when something downstream reads it. The check
 * is one listing of the stage's folder (sizes), cheap enough for every hit,
 * plus one per content-cache folder its outputs live in (runtime/contentCache.ts);
 * `topoflow verify` re-hashes on demand.
 */
import type { Storage } from '../storage/index.js';
import type { StageManifest } from '../protocol/manifest.js';
import { asPrefix, stageFolder } from './cacheLayout.js';

/** What is wrong with the manifest's outputs (missing, or another size), or null when all are there. */
export async function damageOf(storage: Storage, manifest: StageManifest): Promise<string | null> {
  // Outputs live under the stage's folder or a content shard's (runtime/cacheLayout.ts): one listing per folder.
  const folders = new Set(manifest.outputs.map((o) => (o.key.startsWith('content/') ? o.key.split('/').slice(0, 3).join('/') : stageFolder(manifest.kind, manifest.key))));
  const sizes = new Map<string, number>();
  for (const folder of folders) for (const o of await storage.list(asPrefix(folder))) sizes.set(o.key, o.size);
  const problems: string[] = [];
  for (const out of manifest.outputs) {
    const size = sizes.get(out.key);
    if (size === undefined) problems.push(`${out.name} is missing`);
    else if (size !== out.bytes) problems.push(`${out.name} has ${size} bytes, ${out.bytes} recorded`);
  }
  if (!problems.length) return null;
  return `${problems.slice(0, 3).join(', ')}${problems.length > 3 ? ` and ${problems.length - 3} more` : ''}`;
}
