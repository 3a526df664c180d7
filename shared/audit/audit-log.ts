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
  | 'connection-saved'
  | 'connection-deleted';

export interface AuditRecord {
  runId: string;
  connection: string;
  action: AuditAction;
  /** The user's source key, or the run id for run-level records. */
  subject: string;
  username?: string;
  /** Where in the source (e.g. "row 17"). */
  ref?: string;
  changedFields?: string[];
  /** Stable code (e.g. `missing-email`). */
  reason?: string;
  /** A sentence an admin can act on. */
  detail?: string;
  at: string;
}

export interface AuditQuery {
  runId?: string;
  connection?: string;
  subject?: string;
  action?: AuditAction;
  limit: number;
  continuationToken?: string;
}

export interface AuditPage {
  records: AuditRecord[];
  continuationToken?: string;
}

export interface AuditLog {
  write(records: readonly AuditRecord[]): Promise<void>;
  query(query: AuditQuery): Promise<AuditPage>;
}
