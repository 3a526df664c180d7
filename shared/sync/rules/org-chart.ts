import type { StoredUser } from '../model.js';

/** What the org chart needs of a user: a directory's worth fits in memory. */
export type OrgNode = Pick<StoredUser, 'key' | 'username' | 'manager' | 'managerKey'>;

/**
 * The org chart of one directory: each user's `manager` (a username or a source key, as the directory
 * gives it) resolved to the manager's user. Pure: finalise feeds it every user of the directory, after
 * all shards are applied, so a manager created in the same run is found in the same run.
 */
export interface OrgChart {
  /** The resolved manager key of every user that has one. */
  managerOf: Map<string, string>;
  /** Users whose manager is not among the directory's users. */
  unresolved: { key: string; username: string; manager: string }[];
  /** Each management cycle once, as user keys in chain order starting at the smallest key. */
  cycles: string[][];
}

export function resolveOrgChart(users: readonly OrgNode[]): OrgChart {
  const byKey = new Map(users.map((user) => [user.key, user]));
  const byUsername = new Map(users.map((user) => [user.username.toLowerCase(), user.key]));
  const managerOf = new Map<string, string>();
  const unresolved: OrgChart['unresolved'] = [];
  for (const user of users) {
    if (!user.manager) continue;
    const reference = user.manager.trim();
    const managerKey = byKey.has(reference) ? reference : byKey.has(reference.toLowerCase()) ? reference.toLowerCase() : byUsername.get(reference.toLowerCase());
    if (managerKey === undefined || managerKey === user.key) unresolved.push({ key: user.key, username: user.username, manager: reference });
    else managerOf.set(user.key, managerKey);
  }
  return { managerOf, unresolved, cycles: findCycles(managerOf) };
}

/** Walks each chain once (every key is settled the first time it is seen), so this is linear. */
function findCycles(managerOf: Map<string, string>): string[][] {
  const settled = new Set<string>();
  const cycles: string[][] = [];
  for (const start of managerOf.keys()) {
    const path: string[] = [];
    const onPath = new Map<string, number>();
    let current: string | undefined = start;
    while (current !== undefined && !settled.has(current)) {
      if (onPath.has(current)) {
        const cycle = path.slice(onPath.get(current));
        const first = cycle.indexOf([...cycle].sort()[0]!);
        cycles.push([...cycle.slice(first), ...cycle.slice(0, first)]);
        break;
      }
      onPath.set(current, path.length);
      path.push(current);
      current = managerOf.get(current);
    }
    for (const key of path) settled.add(key);
  }
  return cycles;
}
