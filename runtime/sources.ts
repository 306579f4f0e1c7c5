/**
 * External files as part of a stage's identity. A kind with `resolveSources`
 * lists the files it will read (patterns expanded, each with its size and
 * ETag or mtime) before the cache look-up; the list's hash joins the cache
 * key, so a new, changed or deleted file makes a new key while an unchanged
 * set keeps the stage cached. The list is kept with the stage
 * (`sources.json`) for the manifest and for saying what changed.
 */
import type { SourceRecord } from '../protocol/manifest.js';
import { canonicalJson } from '../common/hash.js';

/** "2 new (a.root, b.root), 1 changed (c.root), 1 removed (d.root); 100 unchanged", or null when equal. */
export function sourcesChange(before: SourceRecord[], after: SourceRecord[]): string | null {
  const old = new Map(before.map((s) => [s.uri, canonicalJson(s)]));
  const now = new Set(after.map((s) => s.uri));
  const added: string[] = [];
  const changed: string[] = [];
  let unchanged = 0;
  for (const s of after) {
    const was = old.get(s.uri);
    if (was === undefined) added.push(s.uri);
    else if (was !== canonicalJson(s)) changed.push(s.uri);
    else unchanged++;
  }
  const removed = before.filter((s) => !now.has(s.uri)).map((s) => s.uri);
  if (!added.length && !changed.length && !removed.length) return null;
  const part = (n: string[], what: string) => (n.length ? [`${n.length} ${what} (${names(n)})`] : []);
  return `${[...part(added, 'new'), ...part(changed, 'changed'), ...part(removed, 'removed')].join(', ')}; ${unchanged} unchanged`;
}

function names(uris: string[]): string {
  const shown = uris.slice(0, 3).map((u) => u.split('/').pop() ?? u);
  return `${shown.join(', ')}${uris.length > 3 ? `, …${uris.length - 3} more` : ''}`;
}
