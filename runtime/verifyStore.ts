/**
 * Re-hashes committed stages on demand (`topoflow verify`): every output of
 * every committed manifest (or of the chosen ones) is read back, streamed, and
 * compared with its recorded size and SHA-256. Cache hits check sizes only;
 * this is the thorough check, for after a disk or bucket incident.
 */
import type { Storage } from '../storage/index.js';
import { StorageNotFoundError } from '../storage/index.js';
import { verifyObject } from '../storage/verified.js';
import { BadInputError } from '../common/errors.js';
import { readCommittedManifest } from './stageRunner.js';

export interface EntryCheck {
  /** The manifest's storage key. */
  manifestKey: string;
  stageId: string;
  kind: string;
  key: string;
  outputs: number;
  bytes: number;
  /** One line per missing or damaged output; empty when intact. */
  problems: string[];
}

export interface VerifySelection {
  /** Only entries of this stage kind. */
  kind?: string;
  /** Only entries whose cache key starts with this. */
  keyPrefix?: string;
  /** Only these manifests (e.g. a run's stages). */
  manifestKeys?: string[];
}

const MANIFEST_RE = /^cache\/([^/]+)\/([0-9a-f]+)\/manifest\.json$/;

/** Committed manifests in the store matching the selection, by key. */
export async function committedManifestKeys(storage: Storage, select: VerifySelection = {}): Promise<string[]> {
  const keys = select.manifestKeys ?? (await storage.list('cache/')).map((o) => o.key).filter((k) => MANIFEST_RE.test(k));
  return keys.filter((k) => {
    const m = MANIFEST_RE.exec(k);
    if (!m) return false;
    return (select.kind === undefined || m[1] === select.kind) && (select.keyPrefix === undefined || m[2]!.startsWith(select.keyPrefix));
  });
}

/** Checks each selected entry; `onEntry` sees each result as it is made (progress). */
export async function verifyCommitted(storage: Storage, select: VerifySelection = {}, onEntry?: (check: EntryCheck) => void): Promise<EntryCheck[]> {
  const checks: EntryCheck[] = [];
  for (const manifestKey of await committedManifestKeys(storage, select)) {
    const manifest = await readCommittedManifest(storage, manifestKey);
    const [, kind = '?', key = '?'] = MANIFEST_RE.exec(manifestKey) ?? [];
    const check: EntryCheck = { manifestKey, stageId: manifest?.stageId ?? '?', kind, key, outputs: manifest?.outputs.length ?? 0, bytes: 0, problems: [] };
    if (!manifest) check.problems.push('the manifest is missing or unreadable');
    for (const out of manifest?.outputs ?? []) {
      check.bytes += out.bytes;
      try {
        await verifyObject(storage, out);
      } catch (err) {
        if (err instanceof StorageNotFoundError) check.problems.push(`${out.name}: missing (${storage.uri(out.key)})`);
        else if (err instanceof BadInputError) check.problems.push(`${out.name}: ${err.message}`);
        else throw err;
      }
    }
    checks.push(check);
    onEntry?.(check);
  }
  return checks;
}
