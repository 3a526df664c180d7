import { describe, expect, it } from 'vitest';
import type { GroupSettings } from '../../shared/connections/profile.js';
import { combineEntries } from '../../shared/sync/rules/entries.js';
import type { SourceEntry } from '../../shared/sync/model.js';

const all: GroupSettings = { mode: 'all', keepLocalGroups: false };
const off: GroupSettings = { mode: 'off', keepLocalGroups: false };
const user = (ref: string, extra: object = {}): SourceEntry => ({ kind: 'user', key: 'k1', ref, user: { username: 'u', active: true, attributes: {}, ...extra } });
const membership = (group: string): SourceEntry => ({ kind: 'membership', key: 'k1', ref: 'page 3', group });

describe('combineEntries', () => {
  it('folds memberships and the manager into the user, through the group filter', () => {
    const combined = combineEntries([membership('B'), user('page 0'), membership('a'), { kind: 'manager', key: 'k1', ref: 'page 9', manager: 'boss-id' }], true, all);
    expect(combined).toEqual([{ kind: 'user', key: 'k1', ref: 'page 0', user: { username: 'u', active: true, attributes: {}, groups: ['a', 'B'], manager: 'boss-id' } }]);
  });

  it('gives no groups at all when group sync is off', () => {
    expect(combineEntries([user('page 0'), membership('A')], true, off)).toEqual([user('page 0')]);
  });

  it('a user listed several times is one user, as last read, when the source repeats users', () => {
    expect(combineEntries([user('page 0'), user('page 2')], true, off)).toEqual([user('page 2')]);
  });

  it('keeps every copy (a duplicate) when the source does not repeat users', () => {
    expect(combineEntries([user('row 2'), user('row 9')], false, off)).toHaveLength(2);
  });

  it('memberships or a manager of a user out of scope are nothing', () => {
    expect(combineEntries([membership('A'), { kind: 'manager', key: 'k1', ref: 'page 9', manager: 'x' }], true, all)).toEqual([]);
  });
});
