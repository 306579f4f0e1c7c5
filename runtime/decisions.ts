/**
 * "Why did this stage run?" Each stage remembers the key components of its
 * last run (runs/<pipeline>/<stage>.json); a new key is explained by diffing
 * against them: which param or input changed, or a new code version.
 */
import type { Storage } from '../storage/index.js';
import { StorageNotFoundError } from '../storage/index.js';
import type { StageRequest } from '../protocol/protocol.js';
import type { SourceRecord } from '../protocol/manifest.js';
import { canonicalJson } from '../common/hash.js';
import { lastRunKey, sourcesKey } from './cacheLayout.js';
import { sourcesChange } from './sources.js';
import { readJson } from './storedJson.js';

interface LastRun {
  key: string;
  /** Absent in records written before it was added. */
  kind?: string;
  kindVersion: string;
  with: Record<string, unknown>;
  inputs: Record<string, string>;
  at: string;
}

export async function recordLastRun(storage: Storage, req: StageRequest, key: string): Promise<void> {
  const last: LastRun = {
    key,
    kind: req.stage.uses,
    kindVersion: req.stage.kindVersion,
    with: req.stage.with,
    inputs: Object.fromEntries(Object.entries(req.inputs).map(([id, ref]) => [id, ref.contentHash])),
    at: new Date().toISOString(),
  };
  await storage.put(lastRunKey(req.pipeline, req.stage.id), JSON.stringify(last));
}

/** `sources`: the external files this run resolved (kinds with resolveSources), diffed against the last run's. */
export async function explainRun(storage: Storage, req: StageRequest, key: string, sources?: SourceRecord[]): Promise<string> {
  if (req.force) return 'forced (--force)';
  let last: LastRun;
  try {
    last = JSON.parse(Buffer.from(await storage.get(lastRunKey(req.pipeline, req.stage.id))).toString('utf8')) as LastRun;
  } catch (err) {
    if (err instanceof StorageNotFoundError) return 'first run of this stage';
    throw err;
  }
  if (last.key === key) return 'previous attempt did not commit (interrupted, failed or deleted output)';
  const changes: string[] = [];
  // Another kind has other parameters (and defaults): diffing them would list every one.
  if (last.kind !== undefined && last.kind !== req.stage.uses) changes.push(`kind ${last.kind} → ${req.stage.uses}`);
  else {
    if (last.kindVersion !== req.stage.kindVersion) changes.push(`kind ${req.stage.uses} version ${last.kindVersion} → ${req.stage.kindVersion}`);
    changes.push(...diffParams(last.with, req.stage.with));
  }
  for (const [id, ref] of Object.entries(req.inputs)) {
    if (last.inputs[id] !== ref.contentHash) changes.push(`input "${id}" changed`);
  }
  for (const id of Object.keys(last.inputs)) if (!(id in req.inputs)) changes.push(`input "${id}" removed`);
  if (sources) {
    const before = await readJson<SourceRecord[]>(storage, sourcesKey(req.stage.uses, last.key));
    const change = before ? sourcesChange(before, sources) : changes.length ? null : 'the source files changed';
    if (change) changes.push(`sources: ${change}`);
  }
  return changes.length ? `new key: ${changes.join('; ')}` : 'new key';
}

function diffParams(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const k of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
    const a = canonicalJson(before[k] ?? null);
    const b = canonicalJson(after[k] ?? null);
    if (a !== b) out.push(`with.${k}: ${short(a)} → ${short(b)}`);
  }
  return out;
}

const short = (s: string) => (s.length > 40 ? `${s.slice(0, 37)}...` : s);
