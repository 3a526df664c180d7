import type { RunView } from '../../shared/admin/views.js';

/**
 * The words the screens show for the API's codes and values. The API answers stable codes (what scripts and
 * the CLI use); an admin reads these.
 */

/** Who acted, as a person reads it: `cli:ann` → "ann (usersync CLI)" (the same words as the CLI's, audit-log.ts actorName). */
export function actorLabel(actor: string): string {
  if (actor.startsWith('cli:')) return `${actor.slice('cli:'.length)} (usersync CLI)`;
  if (actor.startsWith('user:')) return actor.slice('user:'.length);
  if (actor.startsWith('app:')) return `an app (${actor.slice('app:'.length)})`;
  if (actor === 'api') return 'an admin through the API';
  if (actor === 'timer') return 'the scheduler';
  return actor;
}

/** The directory key and connection name local accounts and groups are kept under. */
export const LOCAL = 'local';

/** A user's or a record's connection: local accounts have none of their own. */
export function connectionLabel(connection: string): string {
  return connection === LOCAL ? 'Local accounts' : connection;
}

const REASONS: Record<string, string> = {
  'missing-from-source': 'not in the last complete listing of its directory',
  'inactive-in-source': 'marked inactive in its directory',
  'removed-from-directory': 'removed from its directory',
  'left-scope': 'no longer in the selected groups',
  'connection-deleted': 'its connection was deleted',
  'disabled-by-admin': 'disabled by an admin',
  'licence-limit': 'no licence was free',
};

/** Why a user was disabled or blocked, in words, with the code it is recorded under. */
export function reasonLabel(reason: string): string {
  const words = REASONS[reason];
  return words ? `${words} (${reason})` : reason;
}

/** An ISO instant as this browser's local date and time. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}


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
