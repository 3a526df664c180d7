import type { GroupSettings } from '../../connections/profile.js';
import { selectGroups } from './groups.js';
import type { SourceEntry } from '../model.js';

/**
 * Everything a run listed for one key, made into what decide() takes: the user entry (or entries,
 * when copies are duplicates) with its memberships, manager and the profile's group filter applied.
 * Memberships or a manager without a user entry are users out of scope: nothing.
 */
export function combineEntries(entries: readonly SourceEntry[], repeatsUsers: boolean, groupSettings: GroupSettings): SourceEntry[] {
  const memberships: string[] = [];
  let manager: string | undefined;
  const records: SourceEntry[] = [];
  for (const entry of entries) {
    if (entry.kind === 'membership') memberships.push(entry.group);
    else if (entry.kind === 'manager') manager = entry.manager;
    else records.push(entry);
  }
  // A source that lists a user several times (once per selected group; in both deltas) means one user:
  // the last reading stands. Elsewhere (CSV) copies are duplicates for decide() to report.
  const users = repeatsUsers ? records.slice(-1) : records;
  return users.map((entry) => {
    // A partial (incremental) user's groups and manager are not known: the stored ones stand.
    if (entry.kind !== 'user' || entry.user.partial) return entry;
    const user = { ...entry.user };
    const groups = selectGroups(groupSettings, [...(user.groups ?? []), ...memberships]);
    if (groups) user.groups = groups;
    else delete user.groups;
    if (manager !== undefined) user.manager = manager;
    return { ...entry, user };
  });
}
