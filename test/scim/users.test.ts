import { describe, expect, it } from 'vitest';
import { BASE, ENTERPRISE, entraUser, scimEndpoint } from './scim-support.js';

describe('SCIM Users: the resource both ways', () => {
  it('a POSTed User is stored as our fields and answered as SCIM (core, enterprise, mapped attributes, meta)', async () => {
    const { send, directory } = scimEndpoint({ title: 'jobTitle', 'name.middleName': 'middleName' });
    const created = await send('POST', 'Users', entraUser('e-1', 'ann@example.org', {
      title: 'Engineer',
      name: { givenName: 'Ann', familyName: 'Example', middleName: 'Q' },
      emails: [{ type: 'home', value: 'ann@home.example' }, { type: 'work', value: 'ann@example.org', primary: true }],
      [ENTERPRISE]: { employeeNumber: '42', department: 'R&D', manager: { value: 'boss-1' } },
    }));
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toBe('application/scim+json');
    expect(created.headers.get('location')).toBe(`${BASE}/Users/e-1`);
    expect(created.headers.get('etag')).toBe(created.body.meta?.version);
    const stored = directory.users.get('e-1')!;
    expect(stored.externalId).toBe('e-1');
    expect(stored.user).toMatchObject({
      username: 'ann@example.org',
      email: 'ann@example.org',
      firstName: 'Ann',
      lastName: 'Example',
      manager: 'boss-1',
      attributes: { jobTitle: 'Engineer', middleName: 'Q', employeeNumber: '42', department: 'R&D' },
    });
    expect(created.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
      id: 'e-1',
      externalId: 'e-1',
      userName: 'ann@example.org',
      name: { givenName: 'Ann', familyName: 'Example', middleName: 'Q' },
      emails: [{ value: 'ann@example.org', type: 'work', primary: true }],
      active: true,
      title: 'Engineer',
      [ENTERPRISE]: { employeeNumber: '42', department: 'R&D', manager: { value: 'boss-1' } },
      meta: { resourceType: 'User', location: `${BASE}/Users/e-1`, created: stored.user.createdAt, lastModified: stored.user.updatedAt, version: stored.version },
    });
    const read = await send('GET', 'Users/e-1');
    expect(read.body).toEqual(created.body);
  });

  it('without an externalId (Okta) the id is one we make; application/json is taken in too', async () => {
    const { send, directory } = scimEndpoint();
    const created = await send('POST', 'Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'bob@example.org', name: { givenName: 'Bob', familyName: 'B' } }, { 'content-type': 'application/json' });
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.body.externalId).toBeUndefined();
    expect(directory.users.get(created.body.id!)?.user.username).toBe('bob@example.org');
  });

  it('a User without userName, or of the wrong type, is 400 invalidValue; another media type is 415; bad JSON 400 invalidSyntax', async () => {
    const { send, directory } = scimEndpoint();
    const missing = await send('POST', 'Users', { schemas: [], name: { givenName: 'X' } });
    expect(missing.status).toBe(400);
    expect(missing.body).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '400', scimType: 'invalidValue', detail: expect.stringContaining('userName') });
    const wrongType = await send('POST', 'Users', { userName: 'x', active: 'maybe' });
    expect([wrongType.status, wrongType.body.scimType]).toEqual([400, 'invalidValue']);
    const form = await send('POST', 'Users', 'userName=x', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(415);
    const notJson = await send('POST', 'Users', '{"userName":');
    expect([notJson.status, notJson.body.scimType]).toEqual([400, 'invalidSyntax']);
    expect(directory.users.size).toBe(0);
  });

  it('a username another directory holds is 409 uniqueness; the same one twice here too; an unknown id 404', async () => {
    const { send, directory } = scimEndpoint();
    directory.takenElsewhere.add('held@example.org');
    const taken = await send('POST', 'Users', entraUser('e-9', 'held@example.org'));
    expect(taken.status).toBe(409);
    expect(taken.body).toMatchObject({ status: '409', scimType: 'uniqueness' });
    await send('POST', 'Users', entraUser('e-1', 'ann@example.org'));
    const again = await send('POST', 'Users', entraUser('e-2', 'ANN@example.org'));
    expect([again.status, again.body.scimType]).toEqual([409, 'uniqueness']);
    const missing = await send('GET', 'Users/nobody');
    expect([missing.status, missing.body.status]).toEqual([404, '404']);
  });

  it('a changed externalId is 400 mutability; PUT replaces every value; DELETE disables (204) and keeps the user', async () => {
    const { send, directory } = scimEndpoint();
    await send('POST', 'Users', entraUser('e-1', 'ann@example.org', { title: 'Engineer' }));
    const changed = await send('PUT', 'Users/e-1', entraUser('e-other', 'ann@example.org'));
    expect([changed.status, changed.body.scimType]).toEqual([400, 'mutability']);
    const replaced = await send('PUT', 'Users/e-1', { userName: 'ann.new@example.org', externalId: 'e-1', name: { givenName: 'Anne' } });
    expect(replaced.status).toBe(200);
    expect(directory.users.get('e-1')!.user).toMatchObject({ username: 'ann.new@example.org', firstName: 'Anne', lastName: '', email: '', attributes: {} });
    const deleted = await send('DELETE', 'Users/e-1');
    expect(deleted.status).toBe(204);
    expect(directory.users.get('e-1')?.active).toBe(false);
    expect((await send('GET', 'Users/e-1')).body.active).toBe(false);
  });

  it('an unexpected failure is a 500 SCIM error with a plain sentence, never the error itself', async () => {
    const { send, directory } = scimEndpoint();
    directory.getUser = async () => {
      throw new Error('socket hang up at TableClient (secret=hunter2)');
    };
    const failed = await send('GET', 'Users/e-1');
    expect(failed.status).toBe(500);
    expect(failed.body).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '500', detail: 'The request failed unexpectedly; see the function logs.' });
  });

  it('If-Match with another version is 412 and changes nothing; the current version (or *) applies', async () => {
    const { send, patch, directory } = scimEndpoint();
    const created = await send('POST', 'Users', entraUser('e-1', 'ann@example.org'));
    const version = created.headers.get('etag')!;
    await patch('Users/e-1', { op: 'replace', path: 'title', value: 'Lead' });
    const stale = await send('PATCH', 'Users/e-1', { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'Stale' }] }, { 'if-match': version });
    expect([stale.status, stale.body.status]).toEqual([412, '412']);
    expect((await send('PUT', 'Users/e-1', entraUser('e-1', 'ann@example.org'), { 'if-match': version })).status).toBe(412);
    expect((await send('DELETE', 'Users/e-1', undefined, { 'if-match': version })).status).toBe(412);
    expect(directory.users.get('e-1')!).toMatchObject({ active: true, user: { attributes: { jobTitle: 'Lead' } } });
    const current = directory.users.get('e-1')!.version;
    const applied = await send('PATCH', 'Users/e-1', { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'Head' }] }, { 'if-match': current });
    expect(applied.status).toBe(200);
    expect((await send('DELETE', 'Users/e-1', undefined, { 'if-match': '*' })).status).toBe(204);
  });

  it('50 concurrent PATCHes of one user lose none: each is applied to the user as it is when written', async () => {
    const fields = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`x${i}`, `f${i}`]));
    const { send, patch, directory } = scimEndpoint({ title: 'jobTitle', ...fields });
    await send('POST', 'Users', entraUser('e-1', 'ann@example.org'));
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => patch('Users/e-1', { op: 'Replace', value: { title: `t${i}`, [`x${i}`]: `v${i}` } })));
    expect(answers.map((answer) => answer.status)).toEqual(Array(50).fill(200));
    const { attributes } = directory.users.get('e-1')!.user;
    expect(attributes.jobTitle).toMatch(/^t\d+$/);
    expect(Object.keys(attributes).filter((key) => key.startsWith('f'))).toHaveLength(50);
  });
});
