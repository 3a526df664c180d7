import { actorName } from '../audit/audit-log.js';
import { AppError } from '../errors/app-error.js';
import { applyDecisions } from '../sync/pipeline/apply-decisions.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import type { Decision } from '../sync/model.js';
import { disableDecision } from '../sync/rules/decide.js';
import { isTerminal } from '../sync/run-model.js';
import { adminOperation } from './audit.js';

/**
 * Deletes a profile. Refused while one of its runs is active. Its users are disabled, never deleted
 * (they keep their usernames, history and permissions), and every step is audited as `actor`'s.
 */
export async function deleteConnection(deps: SyncDependencies, name: string, actor: string): Promise<{ disabled: number }> {
  const connection = await deps.connections.get(name);
  if (!connection) throw new AppError('connection-not-found', `There is no connection profile named "${name}".`);
  const active = connection.state.activeRunId ? await deps.runs.get(connection.state.activeRunId) : undefined;
  if (active && !isTerminal(active.state)) {
    throw new AppError('run-active', `A run of "${connection.profile.name}" is active (${active.runId}); delete the profile when it has finished.`, { details: { runId: active.runId } });
  }
  const { runId, subject, ...stamp } = adminOperation(deps.clock(), actor);
  const operation = { runId, connection: connection.profile.name, directoryKey: connection.directoryKey };
  const disables: Decision[] = [];
  for await (const user of deps.users.list(connection.directoryKey)) {
    if (user.status === 'disabled') continue;
    disables.push(disableDecision(user, { ref: user.sourceRef, reason: 'connection-deleted', at: stamp.at }));
  }
  await applyDecisions(deps, operation, disables, stamp);
  await deps.licences.release(`${runId}:deleted`, disables.filter((d) => 'seat' in d && d.seat === -1).length);
  await deps.audit.write([
    {
      runId,
      connection: operation.connection,
      action: 'connection-deleted',
      subject,
      detail: `Connection profile "${connection.profile.name}" deleted by ${actorName(actor)}; ${disables.length} user(s) disabled.`,
      ...stamp,
    },
  ]);
  await deps.connections.delete(connection.profile.name);
  return { disabled: disables.length };
}
