import type { AuditRecord, AuditStamp } from '../../audit/audit-log.js';
import type { PlannedDecision } from '../rules/decide.js';
import type { SyncDependencies } from '../dependencies.js';
import { countedAs, type Decision, type StoredUser } from '../model.js';
import type { Run } from '../run-model.js';

/** What the write path needs to know of the run (or admin operation) it writes for. */
export type RunRef = Pick<Run, 'runId' | 'connection' | 'directoryKey'>;

/**
 * The one write path of the sync, for every directory type: a plan's decisions become audit records,
 * new groups and user rows. Every write is an upsert of a deterministic row, so applying a plan twice
 * leaves what applying it once does. Audit records go first: if a user write then fails, the
 * redelivered job writes both again. `stamp` is who and when, the same on every delivery (the time
 * the plan was made, or finalise began), so a redelivery's records have the same keys.
 *
 * A pushed change (shared/sync/push/) has no plan to apply again: it gives `writeIfUnchanged`, which
 * writes its one user first, only if the row is still as it read it. When another write came first it
 * answers false and nothing else is written — no record of a change that did not happen; the request
 * decides again on the newer user.
 */
export async function applyDecisions(
  deps: SyncDependencies,
  run: RunRef,
  decisions: readonly PlannedDecision[],
  stamp: AuditStamp,
  writeIfUnchanged?: (users: StoredUser[]) => Promise<boolean>,
): Promise<boolean> {
  const users: StoredUser[] = [];
  for (const decision of decisions) if ('user' in decision) users.push(decision.user);
  if (writeIfUnchanged && !(await writeIfUnchanged(users))) return false;
  await deps.audit.write(decisions.map((decision) => auditRecordOf(run, decision, stamp)));
  await createGroups(deps, run, decisions, stamp);
  if (!writeIfUnchanged) await deps.users.write(users);
  // A renamed user's old name is free only once the new one is stored.
  for (const decision of decisions) {
    if ('previousUsername' in decision && decision.previousUsername) {
      await deps.usernames.release(decision.previousUsername, { directoryKey: run.directoryKey, key: decision.key, connection: run.connection });
    }
  }
  return true;
}

/**
 * Creates the directory groups the decisions put users in that do not exist yet. Sync creates groups
 * but never deletes one: permissions elsewhere hang on them even when they are empty.
 */
async function createGroups(deps: SyncDependencies, run: RunRef, decisions: readonly PlannedDecision[], stamp: AuditStamp): Promise<void> {
  const wanted = new Map<string, string>();
  for (const decision of decisions) {
    if (!('user' in decision)) continue;
    for (const name of decision.user.groups ?? []) wanted.set(name.toLowerCase(), name);
  }
  if (!wanted.size) return;
  const existing = new Set((await deps.groups.list()).map((group) => group.name.toLowerCase()));
  const missing = [...wanted].filter(([lower]) => !existing.has(lower)).map(([, name]) => name);
  // Audit first (deterministic key), so a crash between the two still leaves the record.
  await auditGroupsCreated(deps, run, missing, stamp);
  for (const name of missing) {
    await deps.groups.createIfAbsent({ name, origin: run.directoryKey, connection: run.connection, createdAt: stamp.at });
  }
}

/** The `group-created` records of groups a directory's sync (or push) creates. */
export async function auditGroupsCreated(deps: SyncDependencies, run: RunRef, names: readonly string[], stamp: AuditStamp): Promise<void> {
  await deps.audit.write(
    names.map((name) => ({
      runId: run.runId,
      connection: run.connection,
      action: 'group-created' as const,
      subject: `group:${name.toLowerCase()}`,
      detail: `Group "${name}" created by the sync of "${run.connection}".`,
      ...stamp,
    })),
  );
}

function auditRecordOf(run: RunRef, decision: Decision, stamp: AuditStamp): AuditRecord {
  const base = { runId: run.runId, connection: run.connection, action: countedAs(decision) as AuditRecord['action'], ...stamp };
  switch (decision.action) {
    case 'skip':
      return { ...base, subject: decision.key ?? decision.ref, ref: decision.ref, reason: decision.reason, detail: decision.detail };
    case 'unchanged':
      return { ...base, subject: decision.key };
    case 'conflict':
      return { ...base, subject: decision.key, username: decision.username, ref: decision.ref, reason: decision.reason, detail: decision.detail };
    default:
      return {
        ...base,
        subject: decision.key,
        username: decision.user.username,
        ref: decision.ref,
        changedFields: decision.changedFields,
        ...(decision.changes?.length ? { changes: decision.changes } : {}),
        ...(decision.reason ? { reason: decision.reason } : {}),
        ...(decision.reason === 'licence-limit'
          ? { detail: 'No licence is free, so the account is blocked; it becomes active when a licence frees up (oldest first).' }
          : {}),
      };
  }
}

