import type { RunView } from '../../../shared/admin/views.js';

/** How the console words what the API answers, the same on every screen. */

/** A run's counts as words, leaving out what did not happen: "6 created · 1 skipped". */
export function countsText(counts: RunView['counts']): string {
  const done = Object.entries(counts).filter(([action, count]) => count > 0 && action !== 'unchanged');
  const unchanged = counts.unchanged ? [`${counts.unchanged} unchanged`] : [];
  return [...done.map(([action, count]) => `${count} ${action}`), ...unchanged].join(' · ') || 'no changes';
}

/** A run's state as an admin reads it. */
export const RUN_STATES: Record<RunView['state'], string> = {
  listing: 'Reading the directory',
  reconciling: 'Applying changes',
  finalising: 'Finishing',
  succeeded: 'Succeeded',
  failed: 'Failed',
  skipped: 'Skipped',
  'needs-confirmation': 'Waiting for confirmation',
  superseded: 'Superseded',
  cancelled: 'Cancelled',
};

export function isActive(state: RunView['state']): boolean {
  return state === 'listing' || state === 'reconciling' || state === 'finalising';
}
