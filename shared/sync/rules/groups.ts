import { groupPattern } from '../../connections/group-pattern.js';
import type { GroupSettings } from '../../connections/profile.js';

/**
 * The directory groups a profile syncs for one user: none at all (`undefined`: memberships are left
 * alone) when group sync is off, else the source's groups — every one, or those matching the pattern.
 * Names are trimmed and de-duplicated case-insensitively, in a stable order.
 */
export function selectGroups(settings: GroupSettings, groups: readonly string[] | undefined): string[] | undefined {
  if (settings.mode === 'off') return undefined;
  const byName = new Map<string, string>();
  for (const group of groups ?? []) {
    const name = group.trim();
    if (name && !byName.has(name.toLowerCase())) byName.set(name.toLowerCase(), name);
  }
  const names = [...byName.values()].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  if (settings.mode === 'all') return names;
  // RE2: linear in the name's length whatever the pattern, so a hostile name cannot hang a run.
  const pattern = groupPattern(settings.pattern ?? '');
  return names.filter((name) => pattern.test(name));
}

/** Two membership lists are the same set of names (absent = empty). */
export function sameGroups(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const left = [...(a ?? [])].map((name) => name.toLowerCase()).sort();
  const right = [...(b ?? [])].map((name) => name.toLowerCase()).sort();
  return left.length === right.length && left.every((name, index) => name === right[index]);
}
