import { AppError, isAppError } from '../errors/app-error.js';
import type { AvailableGroup } from '../sync/directory-source.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import { secretNamesOf } from '../connections/profile.js';
import { usableConnection } from '../connections/usable-connection.js';

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
  try {
    const connection = await usableConnection(deps, name);
    for (const secret of secretNamesOf(connection.profile)) deps.secrets.resolve(secret);
    const { detail, warnings } = await deps.sources(connection.profile).testConnection(connection.profile);
    return { ok: true, detail, warnings };
  } catch (error) {
    // A profile saved by an earlier version that breaks today's rules is an answer too (ok: false).
    if (!isAppError(error) || error.code === 'connection-not-found') throw error;
    return { ok: false, code: error.code, detail: error.message, warnings: [] };
  }
}

/** The groups an admin can select for a profile. */
export async function availableGroups(deps: SyncDependencies, name: string): Promise<AvailableGroup[]> {
  const connection = await usableConnection(deps, name);
  const source = deps.sources(connection.profile);
  if (!source.availableGroups) throw new AppError('profile-invalid', `"${connection.profile.name}" is a ${connection.profile.type} profile: it has no groups to select.`);
  for (const secret of secretNamesOf(connection.profile)) deps.secrets.resolve(secret);
  return source.availableGroups(connection.profile);
}
