import { AppError, isAppError } from '../errors/app-error.js';
import type { AvailableGroup } from '../sync/directory-source.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import { secretNamesOf } from './profile.js';

/** What "test connection" found: `ok: false` carries the error code and sentence of what is wrong. */
export interface ConnectionTestResult {
  ok: boolean;
  code?: string;
  detail: string;
  /** Things that work but will not do what an admin expects (e.g. new users cannot be created). */
  warnings: string[];
}

/**
 * "Test connection" for a saved profile. A directory or file that refuses (wrong secret, bad header,
 * unreachable…) is the answer, `ok: false`; only an unknown profile is an error of the request.
 */
export async function testConnection(deps: SyncDependencies, name: string): Promise<ConnectionTestResult> {
  const connection = await deps.connections.get(name);
  if (!connection) throw new AppError('connection-not-found', `There is no connection profile named "${name}".`);
  try {
    for (const secret of secretNamesOf(connection.profile)) deps.secrets.resolve(secret);
    const { detail, warnings } = await deps.sources(connection.profile).testConnection(connection.profile);
    return { ok: true, detail, warnings };
  } catch (error) {
    if (!isAppError(error)) throw error;
    return { ok: false, code: error.code, detail: error.message, warnings: [] };
  }
}

/** The groups an admin can select for a profile. */
export async function availableGroups(deps: SyncDependencies, name: string): Promise<AvailableGroup[]> {
  const connection = await deps.connections.get(name);
  if (!connection) throw new AppError('connection-not-found', `There is no connection profile named "${name}".`);
  const source = deps.sources(connection.profile);
  if (!source.availableGroups) throw new AppError('profile-invalid', `"${connection.profile.name}" is a ${connection.profile.type} profile: it has no groups to select.`);
  for (const secret of secretNamesOf(connection.profile)) deps.secrets.resolve(secret);
  return source.availableGroups(connection.profile);
}
