import { AppError } from '../errors/app-error.js';
import type { StoredConnection } from '../sync/ports.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import { invalidProfile } from './profile.js';

/**
 * A connection to act on (sync, test, list its groups): it exists, and its stored profile keeps the
 * rules of today, not only those of the day it was saved.
 */
export async function usableConnection(deps: Pick<SyncDependencies, 'connections'>, name: string): Promise<StoredConnection> {
  const connection = await deps.connections.get(name);
  if (!connection) throw new AppError('connection-not-found', `There is no connection profile named "${name}".`);
  if (connection.problems) {
    throw invalidProfile(`The connection profile "${connection.profile.name}" must be saved again, corrected, before it is used`, connection.problems);
  }
  return connection;
}
