/**
 * What a finished run found new, in one line, from its stages' reasons (pure):
 * "nothing new (every stage cached)", or e.g. "ingest: 1 new (ttbar_001.root);
 * 4 unchanged; 1 shard run, 4 reused; ran: features". For `topoflow list`,
 * which shows it per scheduled run.
 */
import type { RunResult } from './protocol.js';

export function runNews(result: RunResult): string {
  const stages = Object.entries(result.stages);
  const ran = stages.filter(([, s]) => s.status === 'completed');
  if (result.status === 'completed' && !ran.length) return 'nothing new (every stage cached)';
  const parts: string[] = [];
  const plain: string[] = [];
  for (const [id, s] of ran) {
    const at = s.reason?.indexOf('sources: ') ?? -1;
    if (at >= 0) parts.push(`${id}: ${s.reason!.slice(at + 'sources: '.length).replace(' from the content cache', '')}`);
    else plain.push(id);
  }
  if (plain.length) parts.push(`ran: ${plain.join(', ')}`);
  return parts.join('; ');
}
