import { describe, expect, it } from 'vitest';
import { parseProfile, type OktaProfile } from '../../../shared/connections/profile.js';
import { mapOktaUser } from '../../../shared/providers/okta/map-okta-user.js';

function okta(overrides: Record<string, unknown> = {}): OktaProfile {
  const profile = parseProfile({
    name: 'Okta',
    type: 'okta',
    orgUrl: 'https://example.okta.com',
    credential: { kind: 'token', tokenSecret: 'OKTA_TOKEN' },
    selectedGroups: ['00g1'],
    attributeMap: { department: 'department', title: 'jobTitle', employeeNumber: 'employeeId' },
    ...overrides,
  });
  if (profile.type !== 'okta') throw new Error('expected an Okta profile');
  return profile;
}

const user = (status: string, profile: Record<string, unknown> = {}) => ({
  id: '00u1',
  status,
  profile: { login: 'ada@example.com', email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', department: 'R&D', title: 'Analyst', employeeNumber: 42, managerId: '00u9', ...profile },
});

describe('mapOktaUser', () => {
  it('maps login, names, email, mapped attributes and the manager id, keyed by the Okta id', () => {
    expect(mapOktaUser(okta(), user('ACTIVE'), 'page 0')).toEqual({
      kind: 'user',
      key: '00u1',
      ref: 'page 0',
      user: { username: 'ada@example.com', email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', active: true, attributes: { department: 'R&D', jobTitle: 'Analyst', employeeId: '42' }, manager: '00u9' },
    });
  });

  it.each([
    ['ACTIVE', true],
    ['PASSWORD_EXPIRED', true],
    ['RECOVERY', true],
    ['LOCKED_OUT', true],
    ['SUSPENDED', false],
    ['DEPROVISIONED', false],
    ['STAGED', false],
    ['PROVISIONED', false],
  ])('status %s → active %s', (status, active) => {
    expect(mapOktaUser(okta(), user(status), 'p')).toMatchObject({ user: { active } });
  });

  it('falls back to the manager login, and leaves managers out with the org chart off', () => {
    expect(mapOktaUser(okta(), user('ACTIVE', { managerId: undefined, manager: 'boss@example.com' }), 'p')).toMatchObject({ user: { manager: 'boss@example.com' } });
    expect(mapOktaUser(okta({ orgChart: false }), user('ACTIVE'), 'p')).not.toHaveProperty('user.manager');
  });

  it('takes the username from the chosen attribute', () => {
    expect(mapOktaUser(okta({ usernameAttribute: 'employeeNumber' }), user('ACTIVE'), 'p')).toMatchObject({ user: { username: '42' } });
  });
});
