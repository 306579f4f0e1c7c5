/** The run's live markdown (Temporal UI "current details"): a stage table. Pure. */
import type { RunProgress, StageState } from '../protocol/protocol.js';
import { progressText, shownStatus, STATUS_ICON } from '../protocol/stageDisplay.js';

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
  const shown = shownStatus(s);
  return `${STATUS_ICON[shown]} ${shown}`;
}

function timeCell(s: StageState, now: number): string {
  const secs = s.seconds ?? (s.startedAt !== undefined && s.status === 'running' ? (now - s.startedAt) / 1000 : undefined);
  return secs === undefined ? '' : `${secs.toFixed(1)} s`;
}

function noteOf(s: StageState): string {
  if (s.status === 'held' || s.status === 'failed') return s.error ?? '';
  if (shownStatus(s) === 'queued') return 'waiting for a worker';
  if (s.status === 'running' && s.progress) {
    const { done, total, message } = s.progress;
    const { counted, text } = progressText(s.progress);
    const pct = total ? ` (${((100 * done) / total).toFixed(0)} %)` : '';
    return counted ? `${text}${pct}${message ? ` — ${message}` : ''}` : text;
  }
  return s.reason ?? '';
}

const escapeCell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
