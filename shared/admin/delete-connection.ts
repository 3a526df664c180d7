import { randomBytes } from 'node:crypto';
import { AppError } from '../errors/app-error.js';
import { applyDecisions } from '../sync/pipeline/apply-decisions.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import type { Decision } from '../sync/model.js';
import { isTerminal, newRunId } from '../sync/run-model.js';

/**
 * Deletes a profile. Refused while one of its runs is active. Its users are disabled, never deleted
 * (they keep their usernames, history and permissions), and every step is audited.
 */
export async function deleteConnection(deps: SyncDependencies, name: string): Promise<{ disabled: number }> {
  const connection = await deps.connections.get(name);
  if (!connection) throw new AppError('connection-not-found', `There is no connection profile named "${name}".`);
  const active = connection.state.activeRunId ? await deps.runs.get(connection.state.activeRunId) : undefined;
  if (active && !isTerminal(active.state)) {
    throw new AppError('run-active', `A run of "${connection.profile.name}" is active (${active.runId}); delete the profile when it has finished.`, { details: { runId: active.runId } });
  }
  const now = deps.clock();
  const at = now.toISOString();
  // The audit records of this operation go under an id of the run-id form, like a run's.
  const operation = { runId: newRunId(now, randomBytes(3).toString('hex')), connection: connection.profile.name };
  const disables: Decision[] = [];
  for await (const user of deps.users.list(connection.directoryKey)) {
    if (user.status === 'disabled') continue;
    disables.push({
      action: 'disable',
      key: user.key,
      ref: user.sourceRef,
      user: { ...user, status: 'disabled', updatedAt: at, disabledReason: 'connection-deleted' },
      changedFields: ['status'],
      reason: 'connection-deleted',
      ...(user.status === 'active' ? { seat: -1 as const } : {}),
    });
  }
  await applyDecisions(deps, { ...operation, directoryKey: connection.directoryKey, startedAt: at }, disables);
  await deps.licences.release(`${operation.runId}:deleted`, disables.filter((d) => 'seat' in d && d.seat === -1).length);
  await deps.audit.write([
    { ...operation, action: 'connection-deleted', subject: operation.runId, detail: `Connection profile "${connection.profile.name}" deleted; ${disables.length} user(s) disabled.`, at },
  ]);
  await deps.connections.delete(connection.profile.name);
  return { disabled: disables.length };
}
