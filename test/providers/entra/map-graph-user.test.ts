import { describe, expect, it } from 'vitest';
import { parseProfile, type EntraProfile } from '../../../shared/connections/profile.js';
import { graphEndpoints } from '../../../shared/providers/entra/graph-client.js';
import { mapGraphUser, userSelect } from '../../../shared/providers/entra/map-graph-user.js';

function entra(overrides: Record<string, unknown> = {}): EntraProfile {
  const profile = parseProfile({
    name: 'Contoso',
    type: 'entra',
    tenantId: '11111111-2222-3333-4444-555555555555',
    clientId: '66666666-7777-8888-9999-000000000000',
    credential: { kind: 'secret', secretName: 'CONTOSO_SECRET' },
    selectedGroups: ['g1'],
    attributeMap: { department: 'department', jobTitle: 'jobTitle', businessPhones: 'phone' },
    ...overrides,
  });
  if (profile.type !== 'entra') throw new Error('expected an Entra profile');
  return profile;
}

describe('mapGraphUser', () => {
  const graphUser = { id: 'id-1', userPrincipalName: 'ada@contoso.com', mail: 'ada@contoso.com', givenName: 'Ada', surname: 'Lovelace', accountEnabled: true, userType: 'Member', department: ' Research ', jobTitle: null, businessPhones: ['+44 1', '+44 2'] };

  it('maps the basics and the mapped properties, keyed by the object id', () => {
    expect(mapGraphUser(entra(), graphUser, 'page 0')).toEqual({
      kind: 'user',
      key: 'id-1',
      ref: 'page 0',
      user: { username: 'ada@contoso.com', email: 'ada@contoso.com', firstName: 'Ada', lastName: 'Lovelace', active: true, attributes: { department: 'Research', phone: '+44 1; +44 2' } },
    });
  });

  it('takes the username from the chosen attribute', () => {
    expect(mapGraphUser(entra({ usernameAttribute: 'mailNickname' }), { ...graphUser, mailNickname: 'ada' }, 'p')).toMatchObject({ user: { username: 'ada' } });
  });

  it('a disabled account is an inactive user; a user without mail keeps no email', () => {
    expect(mapGraphUser(entra(), { ...graphUser, accountEnabled: false }, 'p')).toMatchObject({ user: { active: false } });
    const noMail = mapGraphUser(entra(), { ...graphUser, mail: null }, 'p');
    expect(noMail).toMatchObject({ kind: 'user', user: { username: 'ada@contoso.com' } });
    expect(noMail).not.toHaveProperty('user.email');
  });

  it('leaves guests out unless the profile includes them', () => {
    const guest = { ...graphUser, userType: 'Guest' };
    expect(mapGraphUser(entra(), guest, 'p')).toBeUndefined();
    expect(mapGraphUser(entra({ guests: 'include' }), guest, 'p')).toMatchObject({ key: 'id-1' });
  });

  it('selects only what it maps', () => {
    expect(userSelect(entra({ usernameAttribute: 'employeeId' }))).toEqual(['id', 'userPrincipalName', 'mail', 'givenName', 'surname', 'accountEnabled', 'userType', 'employeeId', 'department', 'jobTitle', 'businessPhones']);
  });
});

describe('graphEndpoints', () => {
  it.each([
    ['global', 'https://graph.microsoft.com', 'https://login.microsoftonline.com'],
    ['usgov', 'https://graph.microsoft.us', 'https://login.microsoftonline.us'],
    ['china', 'https://microsoftgraph.chinacloudapi.cn', 'https://login.chinacloudapi.cn'],
  ])('%s cloud', (cloud, graph, authority) => {
    expect(graphEndpoints(entra({ cloud }))).toEqual({ graph, authority });
  });

  it('explicit endpoints win over the cloud', () => {
    expect(graphEndpoints(entra({ cloud: 'china', graphBaseUrl: 'https://graph.test:8443/', authorityHost: 'https://login.test' }))).toEqual({
      graph: 'https://graph.test:8443',
      authority: 'https://login.test',
    });
  });
});
