/** The run's live markdown (Temporal UI "current details"): a stage table. Pure. */
import type { RunProgress, StageState } from '../engine/protocol.js';

export function renderDetails(p: RunProgress, now: number): string {
  const lines = [
    `### ${p.pipeline} — ${p.status}${p.message ? `: ${escapeCell(p.message)}` : ''}`,
    '',
    '| stage | kind | status | time | progress / reason |',
    '|---|---|---|---|---|',
  ];
  for (const id of p.order) {
    const s = p.stages[id];
    if (s) lines.push(`| ${id} | ${s.uses} | ${statusCell(s)} | ${timeCell(s, now)} | ${escapeCell(noteOf(s))} |`);
  }
  const held = p.order.filter((id) => p.stages[id]?.status === 'held');
  if (held.length) {
    lines.push('', `**Held**: ${held.join(', ')}. Send the \`retry\` update (optionally \`{"params": {...}}\`), \`skip\` or \`abort\`; or run \`topoflow retry ${p.runId}\`.`);
  }
  return lines.join('\n');
}

function statusCell(s: StageState): string {
  const icon = { pending: '·', running: '▶', held: '⏸', completed: '✔', cached: '⟳', skipped: '⤼', failed: '✖' }[s.status];
  return `${icon} ${s.status}`;
}

function timeCell(s: StageState, now: number): string {
  const secs = s.seconds ?? (s.startedAt !== undefined && s.status === 'running' ? (now - s.startedAt) / 1000 : undefined);
  return secs === undefined ? '' : `${secs.toFixed(1)} s`;
}

function noteOf(s: StageState): string {
  if (s.status === 'held' || s.status === 'failed') return s.error ?? '';
  if (s.status === 'running' && s.progress) {
    const { done, total, unit, rate, message } = s.progress;
    const pct = total ? ` (${((100 * done) / total).toFixed(0)} %)` : '';
    const r = rate !== undefined ? `, ${rate.toFixed(1)} ${unit ?? 'units'}/s` : '';
    return `${done}${total !== undefined ? `/${total}` : ''} ${unit ?? ''}${pct}${r}${message ? ` — ${message}` : ''}`;
  }
  return s.reason ?? '';
}

const escapeCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
