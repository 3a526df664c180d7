import { AppError } from '../errors/app-error.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import type { StoredUser } from '../sync/model.js';

export interface OrgChartView {
  user: StoredUser;
  /** Managers from the user's own up to the top. */
  chain: StoredUser[];
  /** The chain came back to someone already in it: a management cycle in the directory. */
  loops: boolean;
  reports: StoredUser[];
}

/** A user's place in the org chart: the managers above (stopping at a cycle) and the direct reports. */
export async function orgChartOf(deps: SyncDependencies, username: string): Promise<OrgChartView> {
  const owner = await deps.usernames.find(username);
  const user = owner ? await deps.users.get(owner.directoryKey, owner.key) : undefined;
  if (!owner || !user) throw new AppError('user-not-found', `There is no user "${username}".`);
  const chain: StoredUser[] = [];
  const seen = new Set([user.key]);
  let loops = false;
  for (let key = user.managerKey; key !== undefined; ) {
    if (seen.has(key)) {
      loops = true;
      break;
    }
    seen.add(key);
    const manager = await deps.users.get(owner.directoryKey, key);
    if (!manager) break;
    chain.push(manager);
    key = manager.managerKey;
  }
  const reports: StoredUser[] = [];
  for await (const candidate of deps.users.list(owner.directoryKey)) if (candidate.managerKey === user.key) reports.push(candidate);
  reports.sort((a, b) => a.username.localeCompare(b.username));
  return { user, chain, loops, reports };
}

/** A user as the API and CLI show it: never the password hash. */
export function visibleUser(user: StoredUser): Omit<StoredUser, 'passwordHash'> {
  const { passwordHash: _hash, ...visible } = user;
  return visible;
}
