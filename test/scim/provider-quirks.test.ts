import { describe, expect, it } from 'vitest';
import { ENTERPRISE, entraUser, scimEndpoint } from './scim-support.js';

/*
 * What Entra's provisioning service and Okta send, from their published behaviour: Microsoft's "Tutorial: Develop
 * and plan provisioning for a SCIM endpoint" and "Known issues and resolutions with SCIM 2.0 protocol compliance",
 * Okta's "SCIM 2.0 protocol" guide.
 */
describe('Entra ID provisioning, as it sends its requests', () => {
  it('asks for a user by userName before creating it: an empty ListResponse (200), never a 404', async () => {
    const { send } = scimEndpoint();
    const answer = await send('GET', `Users?filter=${encodeURIComponent('userName eq "new@example.org"')}`);
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:ListResponse'], totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });
  });

  it('PATCH with op capitalised (Replace, Add, Remove), a filtered path, active as the string "False"', async () => {
    const { send, patch, directory } = scimEndpoint();
    await send('POST', 'Users', entraUser('e-1', 'ann@example.org', { title: 'Engineer' }));
    const answer = await patch(
      'Users/e-1',
      { op: 'Replace', path: 'emails[type eq "work"].value', value: 'ann.b@example.org' },
      { op: 'Add', path: 'name.familyName', value: 'Bexample' },
      { op: 'Remove', path: 'title' },
      { op: 'Replace', path: 'active', value: 'False' },
    );
    expect(answer.status).toBe(200);
    expect(directory.users.get('e-1')!).toMatchObject({ active: false, user: { email: 'ann.b@example.org', lastName: 'Bexample', attributes: {} } });
    expect(answer.body).toMatchObject({ active: false, emails: [{ value: 'ann.b@example.org', type: 'work', primary: true }] });
    await patch('Users/e-1', { op: 'Replace', path: 'active', value: 'True' });
    expect(directory.users.get('e-1')!.active).toBe(true);
  });

  it('PATCH without a path: the value object\'s keys are attributes or paths (name.givenName, the enterprise URN-prefixed ones)', async () => {
    const { send, patch, directory } = scimEndpoint();
    await send('POST', 'Users', entraUser('e-1', 'ann@example.org'));
    const answer = await patch('Users/e-1', {
      op: 'Replace',
      value: {
        'name.givenName': 'Annie',
        title: 'Lead',
        [`${ENTERPRISE}:department`]: 'Sales',
        [`${ENTERPRISE}:employeeNumber`]: '7',
        active: 'False',
      },
    });
    expect(answer.status).toBe(200);
    expect(directory.users.get('e-1')!).toMatchObject({ active: false, user: { firstName: 'Annie', lastName: 'Example', attributes: { jobTitle: 'Lead', department: 'Sales', employeeNumber: '7' } } });
  });

  it('the enterprise manager as a bare id, as { value }, and removed', async () => {
    const { send, patch, directory } = scimEndpoint();
    await send('POST', 'Users', entraUser('boss', 'boss@example.org'));
    await send('POST', 'Users', entraUser('e-1', 'ann@example.org'));
    await patch('Users/e-1', { op: 'Add', path: `${ENTERPRISE}:manager`, value: 'boss' });
    expect(directory.users.get('e-1')!.user.manager).toBe('boss');
    expect((await send('GET', 'Users/e-1')).body[ENTERPRISE]).toEqual({ manager: { value: 'boss' } });
    await patch('Users/e-1', { op: 'Replace', path: `${ENTERPRISE}:manager`, value: { value: 'e-0' } });
    expect(directory.users.get('e-1')!.user.manager).toBe('e-0');
    await patch('Users/e-1', { op: 'Remove', path: `${ENTERPRISE}:manager` });
    expect(directory.users.get('e-1')!.user.manager).toBeUndefined();
  });

  it('group members added and removed in several operations of one PATCH (Remove by a members[value eq] path too)', async () => {
    const { send, patch, directory } = scimEndpoint();
    for (const id of ['u1', 'u2', 'u3', 'u4']) await send('POST', 'Users', entraUser(id, `${id}@example.org`));
    const group = await send('POST', 'Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], externalId: 'g-1', displayName: 'Staff', members: [{ value: 'u1' }, { value: 'u2' }] });
    expect(group.status).toBe(201);
    const answer = await patch(
      'Groups/g-1',
      { op: 'Add', path: 'members', value: [{ value: 'u3' }] },
      { op: 'Add', path: 'members', value: [{ value: 'u4' }] },
      { op: 'Remove', path: 'members', value: [{ value: 'u1' }] },
      { op: 'Remove', path: 'members[value eq "u3"]' },
    );
    expect(answer.status).toBe(200);
    expect([...directory.groups.get('g-1')!.members].sort()).toEqual(['u2', 'u4']);
    const listed = await send('GET', `Groups?filter=${encodeURIComponent('displayName eq "Staff"')}&excludedAttributes=members`);
    expect(listed.body.Resources).toEqual([expect.not.objectContaining({ members: expect.anything() })]);
    expect(listed.body.Resources?.[0]).toMatchObject({ id: 'g-1', displayName: 'Staff' });
  });
});

describe('Okta provisioning, as it sends its requests', () => {
  it('lists with startIndex=1&count=100, creates with POST, replaces with PUT, deactivates with PATCH active:false', async () => {
    const { send, patch, directory } = scimEndpoint();
    const listed = await send('GET', 'Users?startIndex=1&count=100');
    expect(listed.body).toMatchObject({ totalResults: 0, startIndex: 1, itemsPerPage: 0, Resources: [] });
    const created = await send('POST', 'Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'okta.user@example.org',
      name: { givenName: 'Okta', familyName: 'User' },
      emails: [{ primary: true, value: 'okta.user@example.org', type: 'work' }],
      displayName: 'Okta User',
      active: true,
      groups: [],
    });
    const id = created.body.id!;
    const replaced = await send('PUT', `Users/${id}`, { ...created.body, name: { givenName: 'Okta', familyName: 'Renamed' }, title: 'Analyst' });
    expect(replaced.status).toBe(200);
    expect(directory.users.get(id)!.user).toMatchObject({ lastName: 'Renamed', attributes: { jobTitle: 'Analyst' } });
    const deactivated = await patch(`Users/${id}`, { op: 'replace', value: { active: false } });
    expect([deactivated.status, deactivated.body.active]).toEqual([200, false]);
    expect(directory.users.get(id)!.active).toBe(false);
  });

  it('group push: PUT the name, PATCH members in and out', async () => {
    const { send, patch, directory } = scimEndpoint();
    const ids: string[] = [];
    for (const name of ['a', 'b']) ids.push((await send('POST', 'Users', { userName: `${name}@example.org` })).body.id!);
    const group = await send('POST', 'Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Okta Group', members: [] });
    const id = group.body.id!;
    await patch(`Groups/${id}`, { op: 'add', path: 'members', value: ids.map((value) => ({ value, display: value })) });
    await patch(`Groups/${id}`, { op: 'remove', path: `members[value eq "${ids[0]}"]` });
    await patch(`Groups/${id}`, { op: 'replace', value: { id, displayName: 'Okta Group 2' } });
    expect(directory.groups.get(id)!.group.displayName).toBe('Okta Group 2');
    expect([...directory.groups.get(id)!.members]).toEqual([ids[1]]);
    const read = await send('GET', `Groups/${id}`);
    expect(read.body.members).toEqual([expect.objectContaining({ value: ids[1] })]);
  });
});
