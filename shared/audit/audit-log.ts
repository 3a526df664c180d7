import type { FieldChange } from '../sync/model.js';

/**
 * The audit trail: one record per action the sync took (or refused), per run. Records have
 * deterministic keys, so a redelivered job writes the same record again instead of a second one.
 * Never a secret or password in here.
 */
export type AuditAction =
  | 'created'
  | 'updated'
  | 'disabled'
  | 're-enabled'
  | 'blocked'
  | 'activated'
  | 'skipped'
  | 'conflict'
  | 'adopted'
  | 'local-account-created'
  | 'local-account-disabled'
  | 'local-account-enabled'
  | 'local-account-deleted'
  | 'password-set'
  | 'group-created'
  | 'group-deleted'
  | 'manager-unresolved'
  | 'manager-cycle'
  | 'run-started'
  | 'run-succeeded'
  | 'run-failed'
  | 'run-needs-confirmation'
  | 'run-confirmed'
  | 'run-superseded'
  | 'run-cancelled'
  /** The directory throttled the listing: every chain waits (once per throttle, not per page). */
  | 'listing-throttled'
  | 'connection-saved'
  | 'connection-deleted';

export interface AuditRecord {
  runId: string;
  connection: string;
  action: AuditAction;
  /**
   * Who did it: `timer` (a scheduled run), `cli:<os user>`, `user:<UPN>` (Easy Auth)… A run's records
   * name who started it; an admin operation's, the caller; what a confirm applied, who confirmed.
   */
  actor: string;
  /** The user's source key, or the run id for run-level records. */
  subject: string;
  username?: string;
  /** Where in the source (e.g. "row 17"). */
  ref?: string;
  changedFields?: string[];
  /** The changed fields old → new (updates, re-enables, disables, activations; see field-changes.ts). */
  changes?: FieldChange[];
  /** Set on what a confirmed run applied after the confirm: when the admin (the actor) confirmed it. */
  confirmedAt?: string;
  /** Stable code (e.g. `missing-email`). */
  reason?: string;
  /** A sentence an admin can act on. */
  detail?: string;
  at: string;
}

/** What the records one step writes share: who, when, and for a confirmed run's last steps, when it was confirmed. */
export type AuditStamp = Pick<AuditRecord, 'actor' | 'at' | 'confirmedAt'>;

/** Newest first (by `at`); `since` and `until` (ISO instants) bound `at`, both included. */
export interface AuditQuery {
  runId?: string;
  connection?: string;
  subject?: string;
  action?: AuditAction;
  since?: string;
  until?: string;
  limit: number;
  continuationToken?: string;
}

export interface AuditPage {
  records: AuditRecord[];
  continuationToken?: string;
}

/** An actor as a sentence names them ("Cancelled by …"). */
export function actorName(actor: string): string {
  if (actor.startsWith('cli:')) return `${actor.slice('cli:'.length)} (usersync CLI)`;
  if (actor.startsWith('user:')) return actor.slice('user:'.length);
  if (actor === 'api') return 'an admin through the API';
  if (actor === 'timer') return 'the scheduler';
  return actor;
}

export interface AuditLog {
  write(records: readonly AuditRecord[]): Promise<void>;
  query(query: AuditQuery): Promise<AuditPage>;
}
