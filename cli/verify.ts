/**
 * `topoflow verify [target]`: re-hashes committed stage outputs against their
 * manifests. target: a stage kind, a cache-key prefix, or a run id (its
 * stages, through the stack); none: everything in the pipelines file's store.
 * Exit 0 when everything is intact, 1 when something is missing or damaged.
 */
import { loadPipelinesFile } from '../config/load.js';
import { openStorage, type Storage } from '../storage/index.js';
import { configVocabulary } from '../stages/configVocabulary.js';
import { stageKinds } from './kinds.js';
import { committedManifestKeys, verifyCommitted, type EntryCheck, type VerifySelection } from '../runtime/verifyStore.js';
import { type Globals, UsageError } from './globals.js';
import { runStageManifests } from './runs.js';

export async function verifyCommand(g: Globals, target: string | undefined, json: boolean): Promise<number> {
  const file = loadPipelinesFile(g.file, configVocabulary(await stageKinds()));
  const storage = openStorage(file.storage);
  const select = await selectionFor(g, storage, target);
  const checks = await verifyCommitted(storage, select, (c) => {
    if (!json) process.stdout.write(`${line(c)}\n`);
  });
  const damaged = checks.filter((c) => c.problems.length > 0);
  if (json) process.stdout.write(`${JSON.stringify({ root: storage.rootUri, entries: checks, damaged: damaged.length })}\n`);
  else process.stdout.write(`${checks.length} committed stage(s) checked under ${storage.rootUri}: ${damaged.length ? `${damaged.length} damaged (re-run them with --force, or run again: a cache hit with a missing or resized output recomputes)` : 'all intact'}\n`);
  return damaged.length ? 1 : 0;
}

async function selectionFor(g: Globals, storage: Storage, target: string | undefined): Promise<VerifySelection> {
  if (target === undefined) return {};
  // The store is listed once: a kind or key-prefix target selects from this listing.
  const all = await committedManifestKeys(storage);
  const ofKind = all.filter((k) => k.startsWith(`cache/${target}/`));
  if (ofKind.length) return { manifestKeys: ofKind };
  const ofKey = /^[0-9a-f]{6,64}$/.test(target) ? all.filter((k) => k.split('/')[2]?.startsWith(target)) : [];
  if (ofKey.length) return { manifestKeys: ofKey };
  const manifestKeys = await runStageManifests(g, target, storage);
  if (!manifestKeys) throw new UsageError(`verify: "${target}" is not a stage kind or cache-key prefix in ${storage.rootUri}, nor a known run id`);
  return { manifestKeys };
}

function line(c: EntryCheck): string {
  const what = `${c.kind.padEnd(10)} ${c.key.slice(0, 12)}  ${c.stageId.padEnd(18)} ${String(c.outputs).padStart(4)} outputs ${mib(c.bytes).padStart(9)}`;
  return c.problems.length ? `DAMAGED ${what}\n${c.problems.map((p) => `        ${p}`).join('\n')}` : `ok      ${what}`;
}

const mib = (bytes: number) => `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
