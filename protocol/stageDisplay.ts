/** How a stage's state reads to people (CLI lines, the Web UI's details). Pure (workflow-safe). */
import type { StageState } from './protocol.js';

/**
 * `queued`: the workflow has scheduled the stage but no worker has picked it
 * up yet (every activity signals once when it starts), e.g. a training stage
 * waiting for a free `train` worker.
 */
export type ShownStatus = StageState['status'] | 'queued';

export const shownStatus = (s: StageState): ShownStatus => (s.status === 'running' && !s.progress ? 'queued' : s.status);

export const STATUS_ICON: Record<ShownStatus, string> = { pending: '·', queued: '…', running: '▶', held: '⏸', completed: '✔', cached: '⟳', skipped: '⤼', failed: '✖' };

/** What a running stage reports: a bar-less "done/total unit rate", or just its message when it counts nothing. */
export function progressText(p: NonNullable<StageState['progress']>): { counted: boolean; text: string } {
  const { done, total, unit, rate } = p;
  if (total === undefined && unit === undefined) return { counted: false, text: p.message ?? '' };
  return { counted: true, text: `${done}${total !== undefined ? `/${total}` : ''} ${unit ?? ''}${rate !== undefined ? ` ${rate.toFixed(1)}/s` : ''}` };
}

/** Time left at the current rate, e.g. "ETA 3m20s"; '' when it cannot be told. */
export function etaText(p: NonNullable<StageState['progress']>): string {
  const { done, total, rate } = p;
  if (total === undefined || rate === undefined || rate <= 0 || done >= total) return '';
  const secs = Math.round((total - done) / rate);
  return `ETA ${secs >= 3600 ? `${Math.floor(secs / 3600)}h${String(Math.floor((secs % 3600) / 60)).padStart(2, '0')}m` : secs >= 60 ? `${Math.floor(secs / 60)}m${String(secs % 60).padStart(2, '0')}s` : `${secs}s`}`;
}
