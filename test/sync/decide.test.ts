import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decideEntries,
  decideInvalid,
  decideMissing,
  sourceHash,
  type DecisionContext,
  type PlannedDecision,
} from '../../shared/sync/rules/decide.js';
import type { SkipReason, SourceEntry, SourceUser, StoredUser } from '../../shared/sync/model.js';

const NOW = '2026-11-21T10:00:00.000Z';
const EARLIER = '2026-01-05T08:30:00.000Z';
const KEY = 'alice';

const context: DecisionContext = {
  directoryKey: 'dk0123456789ab',
  connection: 'hr-csv',
  now: NOW,
  requiresPassword: true,
  hasDefaultPassword: false,
  keepLocalGroups: false,
};

function sourceUser(overrides: Partial<SourceUser> = {}): SourceUser {
  return {
    username: 'alice',
    email: 'alice@example.com',
    firstName: 'Alice',
    lastName: 'Smith',
    active: true,
    attributes: { jobTitle: 'Analyst', department: 'Finance' },
    manager: 'bob',
    ...overrides,
  };
}

function userEntry(user: SourceUser, ref = 'row 2', key = KEY): SourceEntry {
  return { kind: 'user', key, ref, user };
}

/** A stored user as an earlier run would have written it from `sourceUser()`. */
function storedUser(overrides: Partial<StoredUser> = {}): StoredUser {
  return {
    directoryKey: 'dk0123456789ab',
    key: KEY,
    connection: 'hr-csv',
    username: 'alice',
    email: 'alice@example.com',
    firstName: 'Alice',
    lastName: 'Smith',
    status: 'active',
    attributes: { department: 'Finance', jobTitle: 'Analyst' },
    manager: 'bob',
    directoryControlled: ['username', 'email', 'firstName', 'lastName', 'manager', 'department', 'jobTitle'],
    sourceHash: sourceHash(sourceUser()),
    passwordHash: 'scrypt$salt$hash',
    sourceRef: 'row 7',
    createdAt: EARLIER,
    updatedAt: EARLIER,
    ...overrides,
  };
}

function decideOne(
  user: SourceUser,
  stored: StoredUser | undefined,
  ctx: DecisionContext = context,
  ref = 'row 2',
): PlannedDecision {
  const decisions = decideEntries(KEY, [userEntry(user, ref)], stored, ctx);
  expect(decisions).toHaveLength(1);
  return decisions[0]!;
}

describe('sourceHash', () => {
  it('is pinned for a known record (stored hashes must survive upgrades)', () => {
    expect(sourceHash(sourceUser())).toBe('XyTd1i9oAyoAaipleXT01El6r4NIvCdX');
    expect(sourceHash({ active: true, attributes: {} })).toBe('4-5lB6ew-pOOhl9C5275-RQQ5jMNmF5C');
  });

  it('is 32 base64url characters', () => {
    expect(sourceHash(sourceUser())).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('ignores attribute order', () => {
    const a = sourceUser({ attributes: { a: '1', b: '2', c: '3' } });
    const b = sourceUser({ attributes: { c: '3', a: '1', b: '2' } });
    expect(sourceHash(a)).toBe(sourceHash(b));
  });

  it('ignores the password', () => {
    expect(sourceHash(sourceUser({ password: 'one' }))).toBe(sourceHash(sourceUser()));
    expect(sourceHash(sourceUser({ password: 'two' }))).toBe(sourceHash(sourceUser({ password: 'one' })));
  });

  const base = sourceHash(sourceUser());
  it.each<[string, Partial<SourceUser>]>([
    ['username', { username: 'alice2' }],
    ['email', { email: 'alice2@example.com' }],
    ['firstName', { firstName: 'Alicia' }],
    ['lastName', { lastName: 'Jones' }],
    ['active', { active: false }],
    ['manager', { manager: 'carol' }],
    ['manager removed', { manager: undefined }],
    ['attribute value', { attributes: { jobTitle: 'Lead', department: 'Finance' } }],
    ['attribute added', { attributes: { jobTitle: 'Analyst', department: 'Finance', office: 'Leeds' } }],
    ['attribute removed', { attributes: { department: 'Finance' } }],
    ['attribute renamed', { attributes: { jobTitle: 'Analyst', dept: 'Finance' } }],
  ])('changes when %s changes', (_name, overrides) => {
    expect(sourceHash(sourceUser(overrides))).not.toBe(base);
  });

  it('does not confuse values shifted between fields', () => {
    expect(sourceHash(sourceUser({ firstName: 'Ann', lastName: 'Lee' }))).not.toBe(
      sourceHash(sourceUser({ firstName: 'AnnLee', lastName: '' })),
    );
  });
});

describe('decideEntries: duplicates and empty input', () => {
  it('returns nothing for no entries', () => {
    expect(decideEntries(KEY, [], undefined, context)).toEqual([]);
    expect(decideEntries(KEY, [], storedUser(), context)).toEqual([]);
  });

  it.each([
    ['no stored user', undefined],
    ['a stored user', storedUser()],
  ])('skips every copy of a duplicated key (%s), naming all refs', (_name, stored) => {
    const entries: SourceEntry[] = [
      userEntry(sourceUser(), 'row 2'),
      userEntry(sourceUser({ firstName: 'Alicia' }), 'row 5'),
      { kind: 'invalid', key: KEY, ref: 'row 9', reason: 'column-count', detail: 'row 9 has 3 columns; the header has 5' },
    ];
    const detail =
      'The match value "alice" appears 3 times (row 2, row 5, row 9); every copy is skipped until the source is fixed.';
    expect(decideEntries(KEY, entries, stored, context)).toEqual([
      { action: 'skip', key: KEY, ref: 'row 2', reason: 'duplicate-match-value', detail },
      { action: 'skip', key: KEY, ref: 'row 5', reason: 'duplicate-match-value', detail },
      { action: 'skip', key: KEY, ref: 'row 9', reason: 'duplicate-match-value', detail },
    ]);
  });

  it('skips both copies of an exact duplicate pair', () => {
    const decisions = decideEntries(KEY, [userEntry(sourceUser(), 'row 3'), userEntry(sourceUser(), 'row 4')], undefined, context);
    expect(decisions.map((d) => [d.action, 'ref' in d ? d.ref : undefined, 'reason' in d ? d.reason : undefined])).toEqual([
      ['skip', 'row 3', 'duplicate-match-value'],
      ['skip', 'row 4', 'duplicate-match-value'],
    ]);
    expect(decisions[0]).toMatchObject({ detail: expect.stringContaining('appears 2 times (row 3, row 4)') });
  });
});

describe('decideInvalid', () => {
  const withKey: Extract<SourceEntry, { kind: 'invalid' }> = {
    kind: 'invalid',
    key: 'bob',
    ref: 'row 4',
    reason: 'column-count',
    detail: 'row 4 has 2 columns; the header has 5',
  };
  const withoutKey: Extract<SourceEntry, { kind: 'invalid' }> = {
    kind: 'invalid',
    ref: 'row 6',
    reason: 'malformed-row',
    detail: 'Quote not closed',
  };

  it('keeps the key when the entry has one', () => {
    expect(decideInvalid(withKey)).toEqual({
      action: 'skip',
      key: 'bob',
      ref: 'row 4',
      reason: 'column-count',
      detail: 'row 4 has 2 columns; the header has 5',
    });
  });

  it('has no key property when the entry has none', () => {
    const decision = decideInvalid(withoutKey);
    expect(decision).toEqual({ action: 'skip', ref: 'row 6', reason: 'malformed-row', detail: 'Quote not closed' });
    expect(Object.keys(decision)).not.toContain('key');
  });

  it('is what decideEntries returns for a single invalid entry, ignoring the stored user', () => {
    expect(decideEntries('bob', [withKey], storedUser({ key: 'bob' }), context)).toEqual([decideInvalid(withKey)]);
    expect(decideEntries('', [withoutKey], undefined, context)).toEqual([decideInvalid(withoutKey)]);
  });
});

describe('decideEntries: inactive in source', () => {
  it('skips an inactive user never stored', () => {
    expect(decideOne(sourceUser({ active: false }), undefined)).toEqual({
      action: 'skip',
      key: KEY,
      ref: 'row 2',
      reason: 'inactive-in-source',
      detail: 'The directory marks this account inactive; it is not created.',
    });
  });

  it('skips an inactive user never stored even when its fields are invalid', () => {
    expect(decideOne({ active: false, attributes: {} }, undefined)).toMatchObject({ action: 'skip', reason: 'inactive-in-source' });
  });

  it('disables a stored active user, changing only status, reason, updatedAt and sourceRef', () => {
    const stored = storedUser();
    // The inactive record differs in other fields too: they are not copied.
    const source = sourceUser({ active: false, firstName: 'Alicia', email: 'new@example.com', attributes: { office: 'Leeds' } });
    expect(decideOne(source, stored, context, 'row 12')).toEqual({
      action: 'disable',
      key: KEY,
      ref: 'row 12',
      user: { ...stored, status: 'disabled', updatedAt: NOW, sourceRef: 'row 12', disabledReason: 'inactive-in-source' },
      changedFields: ['status'],
      changes: [{ field: 'status', from: 'active', to: 'disabled' }],
      reason: 'inactive-in-source',
      seat: -1,
    });
  });

  it('leaves a stored disabled user unchanged', () => {
    const stored = storedUser({ status: 'disabled', disabledReason: 'missing-from-source' });
    expect(decideOne(sourceUser({ active: false }), stored)).toEqual({ action: 'unchanged', key: KEY });
  });
});

describe('decideEntries: required fields', () => {
  const detail = {
    'missing-username': 'The username is empty.',
    'missing-first-name': 'The first name is empty.',
    'missing-last-name': 'The last name is empty.',
    'missing-email': 'The email address is empty; an account needs a valid email address.',
  } as const;

  it.each<[string, Partial<SourceUser>, SkipReason, string]>([
    ['username undefined', { username: undefined }, 'missing-username', detail['missing-username']],
    ['username empty', { username: '' }, 'missing-username', detail['missing-username']],
    ['first name undefined', { firstName: undefined }, 'missing-first-name', detail['missing-first-name']],
    ['first name empty', { firstName: '' }, 'missing-first-name', detail['missing-first-name']],
    ['last name undefined', { lastName: undefined }, 'missing-last-name', detail['missing-last-name']],
    ['last name empty', { lastName: '' }, 'missing-last-name', detail['missing-last-name']],
    ['email undefined', { email: undefined }, 'missing-email', detail['missing-email']],
    ['email empty', { email: '' }, 'missing-email', detail['missing-email']],
    // Order: the first missing field in username, first name, last name, email wins.
    ['everything missing', { username: '', firstName: '', lastName: '', email: '' }, 'missing-username', detail['missing-username']],
    ['all but username missing', { firstName: '', lastName: '', email: 'bad' }, 'missing-first-name', detail['missing-first-name']],
    ['last name and email missing', { lastName: '', email: '' }, 'missing-last-name', detail['missing-last-name']],
    ['email missing, names present', { email: undefined, manager: undefined }, 'missing-email', detail['missing-email']],
    ['email invalid and last name missing', { lastName: '', email: 'nope' }, 'missing-last-name', detail['missing-last-name']],
    ['email without @', { email: 'not-an-email' }, 'invalid-email', '"not-an-email" is not a valid email address.'],
    ['email without domain', { email: 'alice@' }, 'invalid-email', '"alice@" is not a valid email address.'],
    ['email without local part', { email: '@example.com' }, 'invalid-email', '"@example.com" is not a valid email address.'],
    ['email with a space', { email: 'alice smith@example.com' }, 'invalid-email', '"alice smith@example.com" is not a valid email address.'],
    ['email with two @', { email: 'alice@@example.com' }, 'invalid-email', '"alice@@example.com" is not a valid email address.'],
    ['email without TLD', { email: 'alice@example' }, 'invalid-email', '"alice@example" is not a valid email address.'],
    // Longer than a Table row can hold: checked first, as the details above quote the value.
    ['an email of 70,000 characters', { email: 'e'.repeat(70_000) }, 'value-too-long', 'The email is 70000 characters long; at most 256 are kept.'],
    ['a last name of 257 characters', { lastName: 'L'.repeat(257) }, 'value-too-long', 'The lastName is 257 characters long; at most 256 are kept.'],
    ['a group name of 300 characters', { groups: ['g'.repeat(300)] }, 'value-too-long', 'A group name is 300 characters long; at most 256 are kept.'],
    ['attributes of 40,000 characters', { attributes: { note: 'n'.repeat(40_000) } }, 'value-too-long', 'The attributes take more than 30000 characters together.'],
  ])('skips a record with %s', (_name, overrides, reason, expectedDetail) => {
    const expected = { action: 'skip', key: KEY, ref: 'row 2', reason, detail: expectedDetail };
    expect(decideOne(sourceUser(overrides), undefined)).toEqual(expected);
    // A stored user is left as it is: not updated, not disabled.
    expect(decideOne(sourceUser(overrides), storedUser())).toEqual(expected);
    expect(decideOne(sourceUser(overrides), storedUser({ status: 'disabled' }))).toEqual(expected);
  });

  it('skips every entry of a key too long to be a row key, without the key (the audit record is keyed by the ref)', () => {
    const key = 'k'.repeat(257);
    expect(decideEntries(key, [userEntry(sourceUser(), 'row 4', key)], undefined, context)).toEqual([
      { action: 'skip', ref: 'row 4', reason: 'value-too-long', detail: 'The match value is 257 characters long; at most 256 can identify a user.' },
    ]);
    expect(decideEntries('k'.repeat(256), [userEntry(sourceUser({ password: 'pw' }), 'row 4', 'k'.repeat(256))], undefined, context)[0]?.action).toBe('create');
  });

  it.each(['a.b+c@sub.example.co.uk', 'ALICE@EXAMPLE.COM'])('accepts the valid email %s', (email) => {
    expect(decideOne(sourceUser({ email, password: 'pw' }), undefined)).toMatchObject({ action: 'create', user: { email } });
  });
});

describe('decideEntries: control characters and usernames', () => {
  const control = (what: string, code: string) =>
    `${what} contains the control character ${code}; a value with control characters or bidi overrides is not synced, as it would be stored and printed raw. Fix it in the source.`;
  const RULE = "A username is 1–128 letters, digits and . _ - @ ' + # ! ^ ~ (no spaces, / \\ % or ?), with at least one letter or digit.";

  it.each<[string, Partial<SourceUser>, SkipReason, string]>([
    ['a NUL in the first name', { firstName: 'Al\u0000ice' }, 'control-characters', control('The firstName', 'U+0000')],
    ['an ANSI escape sequence in the last name', { lastName: '\u001b[2J\u001b[HSmith' }, 'control-characters', control('The lastName', 'U+001B')],
    ['DEL in the email', { email: 'alice\u007f@example.com' }, 'control-characters', control('The email', 'U+007F')],
    ['a C1 control in the username', { username: 'ali\u009bce' }, 'control-characters', control('The username', 'U+009B')],
    ['a bidi override in the last name', { lastName: 'Smith\u202Egnp.exe' }, 'control-characters', control('The lastName', 'U+202E')],
    ['a bidi isolate in the manager', { manager: '\u2066bob' }, 'control-characters', control('The manager', 'U+2066')],
    ['a bidi isolate in a group name', { groups: ['Sales', 'Ops\u2069'] }, 'control-characters', control('A group name', 'U+2069')],
    ['a line break in the first name', { firstName: 'Ali\nce' }, 'control-characters', control('The firstName', 'U+000A')],
    ['a tab in the username', { username: 'ali\tce' }, 'control-characters', control('The username', 'U+0009')],
    ['an escape in an attribute value', { attributes: { jobTitle: 'Lead\u001b]8;;http://x\u0007' } }, 'control-characters', control('The attribute "jobTitle"', 'U+001B')],
    ['a bidi override in a multi-line attribute', { attributes: { address: '1 Main St\n\u202Eeciffo' } }, 'control-characters', control('The attribute "address"', 'U+202E')],
    ['a control character in an attribute name', { attributes: { 'job\u0000Title': 'Lead' } }, 'control-characters', control('An attribute name', 'U+0000')],
    ['a slash in the username', { username: 'a/b' }, 'username-invalid', `The username "a/b" contains "/". ${RULE}`],
    ['a backslash in the username', { username: 'corp\\alice' }, 'username-invalid', `The username "corp\\alice" contains "\\". ${RULE}`],
    ['a percent sign in the username', { username: 'alice%2F' }, 'username-invalid', `The username "alice%2F" contains "%". ${RULE}`],
    ['a question mark in the username', { username: 'alice?' }, 'username-invalid', `The username "alice?" contains "?". ${RULE}`],
    ['a space in the username', { username: 'alice smith' }, 'username-invalid', `The username "alice smith" contains U+0020. ${RULE}`],
    ['a no-break space in the username', { username: 'alice\u00a0smith' }, 'username-invalid', `The username "alice\u00a0smith" contains U+00A0. ${RULE}`],
    ['a username of two dots', { username: '..' }, 'username-invalid', `The username ".." has no letter or digit. ${RULE}`],
    ['a username of punctuation only', { username: "'-_" }, 'username-invalid', `The username "'-_" has no letter or digit. ${RULE}`],
    ['a username of 129 characters', { username: 'a'.repeat(129) }, 'username-invalid', `The username "${'a'.repeat(129)}" is 129 characters long. ${RULE}`],
  ])('skips a record with %s, keeping its key', (_name, overrides, reason, detail) => {
    const expected = { action: 'skip', key: KEY, ref: 'row 2', reason, detail };
    expect(decideOne(sourceUser(overrides), undefined)).toEqual(expected);
    // A stored user is left as it is: not updated with the value, not disabled.
    expect(decideOne(sourceUser(overrides), storedUser())).toEqual(expected);
  });

  it.each([
    ["an Entra UPN with an apostrophe", "o'neil@contoso.com"],
    ['an Entra guest UPN', 'jo_contoso.com#EXT#@tenant.onmicrosoft.com'],
    ['an Okta login with plus addressing', 'jo+intranet@example.com'],
    ['non-ASCII letters', 'josé.garcía'],
    ['another script', '山田.太郎'],
    ['combining accents', 'jose\u0301'],
    ['punctuation Entra allows', 'a.b-c_d!e^f~g'],
    ['128 characters', 'a'.repeat(128)],
  ])('accepts a username with %s', (_name, username) => {
    expect(decideOne(sourceUser({ username, password: 'pw' }), undefined)).toMatchObject({ action: 'create', user: { username } });
  });

  it('accepts tabs and line breaks in an attribute value (a multi-line street address)', () => {
    const attributes = { address: '1 Main Street\r\nLeeds\tLS1', note: 'two\nlines' };
    expect(decideOne(sourceUser({ attributes, password: 'pw' }), undefined)).toMatchObject({ action: 'create', user: { attributes } });
  });

  it('skips every entry of a match value with a control character, without the key (the audit record would print it)', () => {
    const key = 'alice\u001b[2j';
    expect(decideEntries(key, [userEntry(sourceUser(), 'row 4', key)], storedUser({ key }), context)).toEqual([
      { action: 'skip', ref: 'row 4', reason: 'control-characters', detail: control('The match value', 'U+001B') },
    ]);
  });
});

describe('decideEntries: create', () => {
  it('creates the full stored user from the source record', () => {
    const source = sourceUser({ password: 'S3cret!' });
    const decision = decideOne(source, undefined);
    const directoryControlled = ['username', 'email', 'firstName', 'lastName', 'manager', 'department', 'jobTitle'];
    expect(decision).toEqual({
      action: 'create',
      key: KEY,
      ref: 'row 2',
      user: {
        directoryKey: 'dk0123456789ab',
        key: KEY,
        connection: 'hr-csv',
        username: 'alice',
        email: 'alice@example.com',
        firstName: 'Alice',
        lastName: 'Smith',
        status: 'active',
        attributes: { department: 'Finance', jobTitle: 'Analyst' },
        manager: 'bob',
        directoryControlled,
        sourceHash: 'XyTd1i9oAyoAaipleXT01El6r4NIvCdX',
        sourceRef: 'row 2',
        createdAt: NOW,
        updatedAt: NOW,
      },
      changedFields: directoryControlled,
      seat: 1,
      initialPassword: 'row',
    });
  });

  it('stores attributes sorted by name and never stores the password', () => {
    const decision = decideOne(sourceUser({ attributes: { zeta: 'z', alpha: 'a', Mid: 'm' }, password: 'pw' }), undefined);
    if (decision.action !== 'create') throw new Error(`expected create, got ${decision.action}`);
    expect(Object.keys(decision.user.attributes)).toEqual(['Mid', 'alpha', 'zeta']);
    expect(decision.user.directoryControlled).toEqual(['username', 'email', 'firstName', 'lastName', 'manager', 'Mid', 'alpha', 'zeta']);
    expect(decision.changedFields).toEqual(decision.user.directoryControlled);
    expect(JSON.stringify(decision.user)).not.toContain('"pw"');
    expect(decision.user).not.toHaveProperty('passwordHash');
    expect(decision.user).not.toHaveProperty('disabledReason');
  });

  it('leaves manager out of the user and of directoryControlled when the source has none', () => {
    const decision = decideOne(sourceUser({ manager: undefined, attributes: {}, password: 'pw' }), undefined);
    if (decision.action !== 'create') throw new Error(`expected create, got ${decision.action}`);
    expect(decision.user).not.toHaveProperty('manager');
    expect(decision.user.directoryControlled).toEqual(['username', 'email', 'firstName', 'lastName']);
    expect(decision.changedFields).toEqual(['username', 'email', 'firstName', 'lastName']);
  });

  it.each<[string, string | undefined, Partial<DecisionContext>, 'row' | 'default' | undefined]>([
    ['row password, no default', 'S3cret!', { requiresPassword: true, hasDefaultPassword: false }, 'row'],
    ['row password wins over the default', 'S3cret!', { requiresPassword: true, hasDefaultPassword: true }, 'row'],
    ['default password when the row has none', undefined, { requiresPassword: true, hasDefaultPassword: true }, 'default'],
    ['default password when the row password is empty', '', { requiresPassword: true, hasDefaultPassword: true }, 'default'],
    ['no password, not required', undefined, { requiresPassword: false, hasDefaultPassword: false }, undefined],
    ['row password, not required', 'S3cret!', { requiresPassword: false, hasDefaultPassword: false }, 'row'],
  ])('creates with %s', (_name, password, ctx, initialPassword) => {
    const decision = decideOne(sourceUser({ password }), undefined, { ...context, ...ctx });
    expect(decision.action).toBe('create');
    if (initialPassword === undefined) expect(decision).not.toHaveProperty('initialPassword');
    else expect(decision).toHaveProperty('initialPassword', initialPassword);
  });

  it.each([undefined, ''])('skips with missing-password when required and there is none (password %j)', (password) => {
    expect(decideOne(sourceUser({ password }), undefined, { ...context, requiresPassword: true, hasDefaultPassword: false })).toEqual({
      action: 'skip',
      key: KEY,
      ref: 'row 2',
      reason: 'missing-password',
      detail: 'The row has no password and the profile names no default password, so the account cannot be created.',
    });
  });

  it('does not need a password to update an existing user', () => {
    const decision = decideOne(sourceUser({ firstName: 'Alicia' }), storedUser(), { ...context, requiresPassword: true, hasDefaultPassword: false });
    expect(decision).toMatchObject({ action: 'update', changedFields: ['firstName'] });
    expect(decision).not.toHaveProperty('initialPassword');
  });
});

describe('decideEntries: unchanged and update', () => {
  it('is unchanged when the hash matches and the user is active', () => {
    expect(decideOne(sourceUser(), storedUser())).toEqual({ action: 'unchanged', key: KEY });
  });

  it('is unchanged when only the password or attribute order differs', () => {
    const source = sourceUser({ password: 'changed!', attributes: { department: 'Finance', jobTitle: 'Analyst' } });
    expect(decideOne(source, storedUser())).toEqual({ action: 'unchanged', key: KEY });
  });

  it('writes the whole target user on update, keeping createdAt and passwordHash', () => {
    const stored = storedUser();
    const source = sourceUser({ email: 'alice.smith@example.com', attributes: { jobTitle: 'Lead', department: 'Finance' } });
    expect(decideOne(source, stored, context, 'row 3')).toEqual({
      action: 'update',
      key: KEY,
      ref: 'row 3',
      user: {
        ...stored,
        email: 'alice.smith@example.com',
        attributes: { department: 'Finance', jobTitle: 'Lead' },
        sourceHash: sourceHash(source),
        sourceRef: 'row 3',
        updatedAt: NOW,
      },
      changedFields: ['email', 'jobTitle'],
      changes: [
        { field: 'email', from: 'alice@example.com', to: 'alice.smith@example.com' },
        { field: 'jobTitle', from: 'Analyst', to: 'Lead' },
      ],
    });
  });

  it.each<[string, Partial<SourceUser>, string[]]>([
    ['username', { username: 'asmith' }, ['username']],
    ['email', { email: 'a.smith@example.com' }, ['email']],
    ['firstName', { firstName: 'Alicia' }, ['firstName']],
    ['lastName', { lastName: 'Jones' }, ['lastName']],
    ['manager changed', { manager: 'carol' }, ['manager']],
    ['manager removed', { manager: undefined }, ['manager']],
    ['attribute changed', { attributes: { department: 'Finance', jobTitle: 'Lead' } }, ['jobTitle']],
    ['attribute added', { attributes: { department: 'Finance', jobTitle: 'Analyst', office: 'Leeds' } }, ['office']],
    ['attribute removed', { attributes: { jobTitle: 'Analyst' } }, ['department']],
    ['all attributes removed', { attributes: {} }, ['department', 'jobTitle']],
    [
      'attributes added, removed and changed (names sorted)',
      { attributes: { zone: 'EU', jobTitle: 'Lead', badge: '42' } },
      ['badge', 'department', 'jobTitle', 'zone'],
    ],
    [
      'standard fields before manager before attributes',
      { attributes: { department: 'Sales', jobTitle: 'Analyst' }, manager: 'carol', lastName: 'Jones', username: 'asmith' },
      ['username', 'lastName', 'manager', 'department'],
    ],
  ])('updates listing exactly the changed fields: %s', (_name, overrides, changedFields) => {
    const decision = decideOne(sourceUser(overrides), storedUser());
    expect(decision.action).toBe('update');
    expect(decision).toHaveProperty('changedFields', changedFields);
  });

  it('adds a manager the stored user did not have', () => {
    const stored = storedUser({
      manager: undefined,
      directoryControlled: ['username', 'email', 'firstName', 'lastName', 'department', 'jobTitle'],
      sourceHash: sourceHash(sourceUser({ manager: undefined })),
    });
    delete stored.manager;
    const decision = decideOne(sourceUser({ manager: 'dave' }), stored);
    expect(decision).toMatchObject({
      action: 'update',
      changedFields: ['manager'],
      user: {
        manager: 'dave',
        directoryControlled: ['username', 'email', 'firstName', 'lastName', 'manager', 'department', 'jobTitle'],
      },
    });
  });

  it('drops the manager from the user and directoryControlled when the source removes it', () => {
    const decision = decideOne(sourceUser({ manager: undefined }), storedUser());
    if (decision.action !== 'update') throw new Error(`expected update, got ${decision.action}`);
    expect(decision.user).not.toHaveProperty('manager');
    expect(decision.user.directoryControlled).toEqual(['username', 'email', 'firstName', 'lastName', 'department', 'jobTitle']);
  });

  it('updates when only the stored hash differs (e.g. an older hash), listing no fields', () => {
    const decision = decideOne(sourceUser(), storedUser({ sourceHash: 'stale' }));
    expect(decision).toMatchObject({ action: 'update', changedFields: [], user: { sourceHash: 'XyTd1i9oAyoAaipleXT01El6r4NIvCdX' } });
  });
});

describe('decideEntries: re-enable', () => {
  it('re-enables a disabled user with the same data: status is the only change', () => {
    const stored = storedUser({ status: 'disabled', disabledReason: 'missing-from-source', updatedAt: '2026-06-01T00:00:00.000Z' });
    const decision = decideOne(sourceUser(), stored, context, 'row 4');
    expect(decision).toEqual({
      action: 're-enable',
      key: KEY,
      ref: 'row 4',
      user: {
        directoryKey: 'dk0123456789ab',
        key: KEY,
        connection: 'hr-csv',
        username: 'alice',
        email: 'alice@example.com',
        firstName: 'Alice',
        lastName: 'Smith',
        status: 'active',
        attributes: { department: 'Finance', jobTitle: 'Analyst' },
        manager: 'bob',
        directoryControlled: ['username', 'email', 'firstName', 'lastName', 'manager', 'department', 'jobTitle'],
        sourceHash: 'XyTd1i9oAyoAaipleXT01El6r4NIvCdX',
        passwordHash: 'scrypt$salt$hash',
        sourceRef: 'row 4',
        createdAt: EARLIER,
        updatedAt: NOW,
      },
      changedFields: ['status'],
      changes: [{ field: 'status', from: 'disabled', to: 'active' }],
      seat: 1,
    });
  });

  it('re-enables with status first, then the changed fields', () => {
    const stored = storedUser({ status: 'disabled', disabledReason: 'inactive-in-source' });
    const decision = decideOne(sourceUser({ lastName: 'Jones', attributes: { department: 'Finance' } }), stored);
    if (decision.action !== 're-enable') throw new Error(`expected re-enable, got ${decision.action}`);
    expect(decision.changedFields).toEqual(['status', 'lastName', 'jobTitle']);
    expect(decision.user.status).toBe('active');
    expect(decision.user.createdAt).toBe(EARLIER);
    expect(decision.user.passwordHash).toBe('scrypt$salt$hash');
    expect(decision.user).not.toHaveProperty('disabledReason');
  });

  it('re-enables without a password even when the directory requires one', () => {
    const stored = storedUser({ status: 'disabled', passwordHash: undefined });
    delete stored.passwordHash;
    const decision = decideOne(sourceUser(), stored, { ...context, requiresPassword: true, hasDefaultPassword: false });
    expect(decision.action).toBe('re-enable');
    expect(decision).not.toHaveProperty('initialPassword');
    if (decision.action === 're-enable') expect(decision.user).not.toHaveProperty('passwordHash');
  });
});

describe('decideMissing', () => {
  it('disables an active user with missing-from-source, changing only status, reason and updatedAt', () => {
    const stored = storedUser();
    expect(decideMissing(stored, context)).toEqual({
      action: 'disable',
      key: KEY,
      ref: 'row 7',
      user: { ...stored, status: 'disabled', updatedAt: NOW, disabledReason: 'missing-from-source' },
      changedFields: ['status'],
      changes: [{ field: 'status', from: 'active', to: 'disabled' }],
      reason: 'missing-from-source',
      seat: -1,
    });
  });

  it('does not mutate the stored user', () => {
    const stored = storedUser();
    const copy = structuredClone(stored);
    decideMissing(stored, context);
    expect(stored).toEqual(copy);
  });

  it.each(['missing-from-source', 'inactive-in-source'])('leaves a user disabled for %s unchanged', (disabledReason) => {
    expect(decideMissing(storedUser({ status: 'disabled', disabledReason }), context)).toEqual({ action: 'unchanged', key: KEY });
  });
});

describe('idempotence', () => {
  const name = fc.stringMatching(/^[A-Za-z][A-Za-z' -]{0,11}$/);
  const validSource = fc.record({
    username: fc.stringMatching(/^[a-z][a-z0-9._]{0,11}$/),
    email: fc
      .tuple(fc.stringMatching(/^[a-z][a-z0-9]{0,5}(\.[a-z0-9]{1,4})?$/), fc.constantFrom('example.com', 'corp.example.org', 'x.io'))
      .map(([local, domain]) => `${local}@${domain}`),
    firstName: name,
    lastName: name,
    active: fc.boolean(),
    attributes: fc.dictionary(fc.stringMatching(/^[A-Za-z][A-Za-z0-9_]{0,7}$/), fc.string({ maxLength: 8 }), { maxKeys: 5 }),
    manager: fc.option(fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/), { nil: undefined }),
    password: fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined }),
  });
  /** Any source record, valid or not. */
  const anySource = fc.oneof(
    validSource,
    validSource.chain((user) =>
      fc
        .constantFrom<Partial<SourceUser>>({ username: '' }, { firstName: '' }, { lastName: undefined }, { email: '' }, { email: 'nope' })
        .map((broken) => ({ ...user, ...broken })),
    ),
  );
  const contexts = fc.record({ requiresPassword: fc.boolean(), hasDefaultPassword: fc.boolean() });

  /** A stored state: nothing yet, or what an earlier decision for some other record produced, possibly since disabled. */
  const storedState = fc.option(
    fc.tuple(validSource, fc.boolean(), fc.option(fc.constant('scrypt$s$h'), { nil: undefined })).map(([earlier, disabled, hash]) => {
      const created = decideEntries(KEY, [userEntry({ ...earlier, active: true, password: 'x' })], undefined, { ...context, now: EARLIER })[0];
      if (created?.action !== 'create') throw new Error(`setup: expected create, got ${JSON.stringify(created)}`);
      const user: StoredUser = { ...created.user };
      if (hash) user.passwordHash = hash;
      if (disabled) {
        user.status = 'disabled';
        user.disabledReason = 'missing-from-source';
      }
      return user;
    }),
    { nil: undefined },
  );

  it('deciding again from the state the first decision produced is unchanged (or the same skip)', () => {
    fc.assert(
      fc.property(anySource, storedState, contexts, (source, stored, flags) => {
        const first = { ...context, ...flags };
        const [decision] = decideEntries(KEY, [userEntry(source, 'row 2')], stored, first);
        expect(decision).toBeDefined();
        const state = decision && 'user' in decision ? decision.user : stored;
        const later = { ...first, now: '2026-11-22T10:00:00.000Z' };
        const [again] = decideEntries(KEY, [userEntry(source, 'row 3')], state, later);
        if (decision?.action === 'skip') {
          expect(again).toEqual({ ...decision, ref: 'row 3' });
        } else {
          expect(again).toEqual({ action: 'unchanged', key: KEY });
        }
      }),
      { numRuns: 500 },
    );
  });

  it('decideMissing is idempotent too', () => {
    fc.assert(
      fc.property(storedState, (stored) => {
        if (!stored) return;
        const first = decideMissing(stored, context);
        const state = 'user' in first ? first.user : stored;
        expect(decideMissing(state, { ...context, now: '2026-11-22T10:00:00.000Z' })).toEqual({ action: 'unchanged', key: KEY });
      }),
    );
  });
});
