import type { StoredUser } from '../model.js';

/** What the org chart needs of a user. */
export type OrgNode = Pick<StoredUser, 'key' | 'username' | 'manager' | 'managerKey'>;

/**
 * The org chart of one directory: each user's `manager` (a username or a source key, as the directory
 * gives it) resolved to the manager's user. Pure. Finalise builds it (ManagerIndex) after all shards are
 * applied, so a manager created in the same run is found in the same run.
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
  const index = new ManagerIndex();
  for (const user of users) index.want(user);
  for (const user of users) index.see(user);
  const managerOf = new Map<string, string>();
  const unresolved: OrgChart['unresolved'] = [];
  for (const user of users) {
    if (!user.manager) continue;
    const managerKey = index.resolve(user);
    if (managerKey === undefined) unresolved.push({ key: user.key, username: user.username, manager: user.manager.trim() });
    else managerOf.set(user.key, managerKey);
  }
  return { managerOf, unresolved, cycles: index.cycles() };
}

/**
 * The org chart in passes over a directory too large to hold at once (finalise reads it shard by shard):
 * `want` every user's manager reference, then `see` every user, then `resolve` each user's manager and
 * find the `cycles`. It keeps only the users a reference may name (a directory's managers), not everyone.
 */
export class ManagerIndex {
  /** Every reference, as given (trimmed) and lower-cased: a key or a username. */
  private readonly wanted = new Set<string>();
  private readonly keys = new Set<string>();
  private readonly usernames = new Map<string, string>();
  /** The users a reference may name, by key: the only users a cycle can hold. */
  private readonly managers = new Map<string, OrgNode>();

  want(user: OrgNode): void {
    if (!user.manager) return;
    const reference = user.manager.trim();
    this.wanted.add(reference);
    this.wanted.add(reference.toLowerCase());
  }

  see(user: OrgNode): void {
    const username = user.username.toLowerCase();
    const byKey = this.wanted.has(user.key);
    const byUsername = this.wanted.has(username);
    if (byKey) this.keys.add(user.key);
    if (byUsername) this.usernames.set(username, user.key);
    if (byKey || byUsername) this.managers.set(user.key, user);
  }

  /** The key of the user's manager: the user whose key, or else username, the reference is; undefined when none (or the user itself). */
  resolve(user: OrgNode): string | undefined {
    if (!user.manager) return undefined;
    const reference = user.manager.trim();
    const lower = reference.toLowerCase();
    const managerKey = this.keys.has(reference) ? reference : this.keys.has(lower) ? lower : this.usernames.get(lower);
    return managerKey === user.key ? undefined : managerKey;
  }

  usernameOf(key: string): string | undefined {
    return this.managers.get(key)?.username;
  }

  cycles(): string[][] {
    const managerOf = new Map<string, string>();
    for (const manager of this.managers.values()) {
      const managerKey = this.resolve(manager);
      if (managerKey !== undefined) managerOf.set(manager.key, managerKey);
    }
    return findCycles(managerOf);
  }
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
