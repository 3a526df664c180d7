import { describe, expect, it } from 'vitest';
import type { StoredUser } from '../../shared/sync/model.js';
import { decideEntries, type DecisionContext } from '../../shared/sync/rules/decide.js';
import { compareUsers, MAX_CHANGE_VALUE_LENGTH, MAX_CHANGES } from '../../shared/sync/rules/field-changes.js';
import { grantSeats } from '../../shared/sync/rules/licences.js';

/** What an update records of each changed field: old → new, readable, never a secret. */

function user(overrides: Partial<StoredUser> = {}): StoredUser {
  return {
    directoryKey: 'dk0123456789ab',
    key: 'ann',
    connection: 'HR',
    username: 'ann',
    email: 'ann@example.org',
    firstName: 'Ann',
    lastName: 'Lee',
    status: 'active',
    attributes: { department: 'Sales', office: 'Leeds' },
    manager: 'bob',
    directoryControlled: ['username', 'email', 'firstName', 'lastName', 'manager', 'department', 'office'],
    sourceHash: 'h1',
    passwordHash: 'scrypt$old-salt$old-hash',
    sourceRef: 'row 2',
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    groups: ['Intranet-All', 'Intranet-Sales'],
    ...overrides,
  };
}

describe('compareUsers', () => {
  it('records each changed field old → new; a value absent on one side has no value there', () => {
    const target = user({
      email: 'ann.lee@example.org',
      manager: undefined,
      attributes: { department: 'Legal', building: 'B2' },
      groups: ['Intranet-All', 'Intranet-Legal'],
    });
    expect(compareUsers(user(), target)).toEqual({
      changedFields: ['email', 'manager', 'groups', 'building', 'department', 'office'],
      changes: [
        { field: 'email', from: 'ann@example.org', to: 'ann.lee@example.org' },
        { field: 'manager', from: 'bob' },
        { field: 'groups', from: 'Intranet-All; Intranet-Sales', to: 'Intranet-All; Intranet-Legal' },
        { field: 'building', to: 'B2' },
        { field: 'department', from: 'Sales', to: 'Legal' },
        { field: 'office', from: 'Leeds' },
      ],
    });
  });

  it('never compares or records a password hash, and withholds the values of a field named like a secret', () => {
    const target = user({
      passwordHash: 'scrypt$new-salt$new-hash',
      attributes: { department: 'Sales', office: 'Leeds', 'Badge PIN': '4711', recoveryPassword: 'Hunter2!', apiToken: 'tok-123', spinOff: 'yes' },
    });
    const { changedFields, changes } = compareUsers(user(), target);
    expect(changedFields).toEqual(['Badge PIN', 'apiToken', 'recoveryPassword', 'spinOff']);
    expect(changes).toEqual([
      { field: 'Badge PIN', withheld: true },
      { field: 'apiToken', withheld: true },
      { field: 'recoveryPassword', withheld: true },
      { field: 'spinOff', to: 'yes' },
    ]);
    expect(JSON.stringify(changes)).not.toMatch(/hash|Hunter2|tok-123|4711/);
  });

  it('redacts what is shaped like a credential and clips long values, whole characters only', () => {
    const long = `${'é'.repeat(MAX_CHANGE_VALUE_LENGTH - 2)}😀😀😀`;
    const target = user({ attributes: { department: 'Sales', office: 'Leeds', homepage: 'https://ann:s3cret-pass@intranet.example/ann', notes: long } });
    const { changes } = compareUsers(user(), target);
    expect(changes).toEqual([
      { field: 'homepage', to: 'https://[redacted]@intranet.example/ann' },
      { field: 'notes', to: `${'é'.repeat(MAX_CHANGE_VALUE_LENGTH - 2)}😀…` },
    ]);
  });

  it(`names every changed field but gives values for the first ${MAX_CHANGES}: a record must fit a table row`, () => {
    const attributes = Object.fromEntries(Array.from({ length: MAX_CHANGES + 10 }, (_, i) => [`a${String(i).padStart(3, '0')}`, 'x'.repeat(1000)]));
    const { changedFields, changes } = compareUsers(user({ attributes: {} }), user({ attributes }));
    expect(changedFields).toHaveLength(MAX_CHANGES + 10);
    expect(changes).toHaveLength(MAX_CHANGES);
    expect(changes.every((change) => change.to?.length === MAX_CHANGE_VALUE_LENGTH)).toBe(true);
  });
});

describe('status changes', () => {
  const context: DecisionContext = { directoryKey: 'dk0123456789ab', connection: 'HR', now: '2026-02-01T00:00:00.000Z', requiresPassword: true, hasDefaultPassword: true, keepLocalGroups: false };
  const entry = { kind: 'user' as const, key: 'ann', ref: 'row 2', user: { username: 'ann', email: 'ann@example.org', firstName: 'Ann', lastName: 'Lee', active: true, attributes: { department: 'Sales', office: 'Leeds' }, manager: 'bob', groups: ['Intranet-All', 'Intranet-Sales'] } };

  it('a re-enable records disabled → active first; without a licence, disabled → blocked', () => {
    const [reEnabled] = decideEntries('ann', [entry], user({ status: 'disabled', lastName: 'Li' }), context);
    expect(reEnabled).toMatchObject({ action: 're-enable', changes: [{ field: 'status', from: 'disabled', to: 'active' }, { field: 'lastName', from: 'Li', to: 'Lee' }] });
    const [blocked] = grantSeats([reEnabled!], 0);
    expect(blocked).toMatchObject({ reason: 'licence-limit', user: { status: 'blocked' }, changes: [{ field: 'status', from: 'disabled', to: 'blocked' }, { field: 'lastName', from: 'Li', to: 'Lee' }] });
  });

  it('a create records no values: the new row holds them', () => {
    const [created] = decideEntries('ann', [entry], undefined, context);
    expect(created).toMatchObject({ action: 'create', changedFields: expect.arrayContaining(['email']) });
    expect(created).not.toHaveProperty('changes');
  });
});
