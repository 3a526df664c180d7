import { AppError } from '../errors/app-error.js';
import type { AvailableGroup } from '../sync/directory-source.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import { secretNamesOf } from './profile.js';
import { usableConnection } from './usable-connection.js';

/** "Test connection" for a saved profile: a sentence on success; an AppError naming the problem otherwise. */
export async function testConnection(deps: SyncDependencies, name: string): Promise<string> {
  const connection = await usableConnection(deps, name);
  for (const secret of secretNamesOf(connection.profile)) deps.secrets.resolve(secret);
  return deps.sources(connection.profile).testConnection(connection.profile);
}

/** The groups an admin can select for a profile. */
export async function availableGroups(deps: SyncDependencies, name: string): Promise<AvailableGroup[]> {
  const connection = await usableConnection(deps, name);
  const source = deps.sources(connection.profile);
  if (!source.availableGroups) throw new AppError('profile-invalid', `"${connection.profile.name}" is a ${connection.profile.type} profile: it has no groups to select.`);
  for (const secret of secretNamesOf(connection.profile)) deps.secrets.resolve(secret);
  return source.availableGroups(connection.profile);
}
