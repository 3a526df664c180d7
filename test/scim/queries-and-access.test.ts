import { describe, expect, it } from 'vitest';
import { BASE, entraUser, scimEndpoint, TOKEN } from './scim-support.js';

const filtered = (filter: string, extra = '') => `Users?filter=${encodeURIComponent(filter)}${extra}`;

describe('SCIM filters and paging', () => {
  it('userName eq, externalId eq and id eq each find the one user; a compound and is evaluated over the users', async () => {
    const { send } = scimEndpoint();
    await send('POST', 'Users', entraUser('e-1', 'ann@example.org', { title: 'Engineer' }));
    await send('POST', 'Users', entraUser('e-2', 'bob@example.org', { title: 'Engineer', active: false }));
    await send('POST', 'Users', entraUser('e-3', 'cid@example.org', { title: 'Sales' }));
    const ids = async (filter: string) => (await send('GET', filtered(filter))).body.Resources?.map((user) => user.id);
    expect(await ids('userName eq "BOB@example.org"')).toEqual(['e-2']);
    expect(await ids('externalId eq "e-3"')).toEqual(['e-3']);
    expect(await ids('id eq "e-1"')).toEqual(['e-1']);
    expect(await ids('title eq "Engineer" and active eq true')).toEqual(['e-1']);
    expect(await ids('title eq "Engineer" or userName sw "cid"')).toEqual(['e-1', 'e-2', 'e-3']);
    expect(await ids('emails[type eq "work" and value co "bob"]')).toEqual(['e-2']);
  });

  it('a malformed filter is 400 invalidFilter', async () => {
    const { send } = scimEndpoint();
    for (const filter of ['userName eq', 'userName eq "x" and', 'userName equals "x"', '(userName eq "x"']) {
      const answer = await send('GET', filtered(filter));
      expect([filter, answer.status, answer.body.scimType, answer.body.status]).toEqual([filter, 400, 'invalidFilter', '400']);
    }
  });

  it('startIndex is 1-based, count defaults to 100 and is at most 1000; itemsPerPage says how many came', async () => {
    const { send, directory } = scimEndpoint();
    for (let i = 0; i < 105; i++) await send('POST', 'Users', { userName: `user${String(i).padStart(3, '0')}@example.org`, externalId: `x${String(i).padStart(3, '0')}` });
    const first = await send('GET', 'Users');
    expect(first.body).toMatchObject({ totalResults: 105, startIndex: 1, itemsPerPage: 100 });
    expect(first.body.Resources?.[0]?.id).toBe('x000');
    const page = await send('GET', 'Users?startIndex=101&count=10');
    expect(page.body).toMatchObject({ totalResults: 105, startIndex: 101, itemsPerPage: 5 });
    expect(page.body.Resources?.map((user) => user.id)).toEqual(['x100', 'x101', 'x102', 'x103', 'x104']);
    expect((await send('GET', 'Users?startIndex=0&count=2')).body).toMatchObject({ startIndex: 1, itemsPerPage: 2 });
    expect((await send('GET', 'Users?count=5000')).body).toMatchObject({ itemsPerPage: 105 });
    expect((await send('GET', 'Users?count=0')).body).toMatchObject({ totalResults: 105, itemsPerPage: 0, Resources: [] });
    for (let i = 105; i < 1005; i++) await directory.createUser({ externalId: `x${i}`, user: { username: `user${i}@example.org`, active: true, attributes: {} } });
    expect((await send('GET', 'Users?count=5000')).body).toMatchObject({ totalResults: 1005, itemsPerPage: 1000 });
    const wrong = await send('GET', 'Users?count=ten');
    expect([wrong.status, wrong.body.scimType]).toEqual([400, 'invalidValue']);
  });

  it('attributes and excludedAttributes choose what a resource shows (id and schemas always)', async () => {
    const { send } = scimEndpoint();
    await send('POST', 'Users', entraUser('e-1', 'ann@example.org'));
    const only = await send('GET', 'Users/e-1?attributes=userName,name.givenName');
    expect(Object.keys(only.body).sort()).toEqual(['id', 'name', 'schemas', 'userName']);
    const without = await send('GET', 'Users/e-1?excludedAttributes=emails,meta');
    expect(without.body).not.toHaveProperty('emails');
    expect(without.body).not.toHaveProperty('meta');
    expect(without.body).toHaveProperty('userName', 'ann@example.org');
  });
});

describe('SCIM PATCH refusals', () => {
  it('a PATCH path that cannot be read is 400 invalidPath, a removal without a path noTarget; a bad op or no Operations is 400; nothing changes', async () => {
    const { send, patch, directory } = scimEndpoint();
    await send('POST', 'Users', entraUser('e-1', 'ann@example.org'));
    const before = directory.users.get('e-1');
    const badPath = await patch('Users/e-1', { op: 'Replace', path: 'emails[type eq "work"', value: 'x@example.org' });
    expect([badPath.status, badPath.body.scimType]).toEqual([400, 'invalidPath']);
    const noPathRemove = await patch('Users/e-1', { op: 'Remove' });
    expect([noPathRemove.status, noPathRemove.body.scimType]).toEqual([400, 'noTarget']);
    const badOp = await patch('Users/e-1', { op: 'Frob', path: 'title', value: 'x' });
    expect([badOp.status, badOp.body.scimType]).toEqual([400, 'invalidSyntax']);
    const empty = await send('PATCH', 'Users/e-1', { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [] });
    expect(empty.status).toBe(400);
    expect(directory.users.get('e-1')).toBe(before);
  });

  it('a member that is no user of the connection is 400 invalidValue; an unknown group 404', async () => {
    const { send, patch } = scimEndpoint();
    await send('POST', 'Groups', { displayName: 'Staff', externalId: 'g-1' });
    const stranger = await patch('Groups/g-1', { op: 'Add', path: 'members', value: [{ value: 'nobody' }] });
    expect([stranger.status, stranger.body.scimType]).toEqual([400, 'invalidValue']);
    expect((await send('GET', 'Groups/g-2')).status).toBe(404);
  });

  it('a group change with If-Match of another version is 412 and changes nothing', async () => {
    const { send, patch, directory } = scimEndpoint();
    await send('POST', 'Users', entraUser('u1', 'u1@example.org'));
    const created = await send('POST', 'Groups', { displayName: 'Staff', externalId: 'g-1' });
    await patch('Groups/g-1', { op: 'Add', path: 'members', value: [{ value: 'u1' }] });
    const stale = { 'if-match': created.headers.get('etag')! };
    const patchOp = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Remove', path: 'members' }] };
    expect((await send('PATCH', 'Groups/g-1', patchOp, stale)).status).toBe(412);
    expect((await send('PUT', 'Groups/g-1', { displayName: 'Other' }, stale)).status).toBe(412);
    expect((await send('DELETE', 'Groups/g-1', undefined, stale)).status).toBe(412);
    expect(directory.groups.get('g-1')).toMatchObject({ group: { displayName: 'Staff' }, members: new Set(['u1']) });
  });
});

describe('SCIM authentication and discovery', () => {
  it('a missing or wrong token, or a connection that is not a SCIM one, is 401 with WWW-Authenticate: Bearer, and never echoes the token', async () => {
    const { send, directory } = scimEndpoint();
    const attempts = [
      await send('GET', 'Users', undefined, { authorization: '' }),
      await send('GET', 'Users', undefined, { authorization: `Bearer ${TOKEN}x` }),
      await send('GET', 'Users', undefined, { authorization: `Basic ${Buffer.from(`a:${TOKEN}`).toString('base64')}` }),
      await send('POST', 'Users', entraUser('e-1', 'ann@example.org'), { authorization: 'Bearer wrong' }),
      await send('GET', 'https://usersync.example/scim/v2/Pull/Users'),
    ];
    for (const answer of attempts) {
      expect([answer.status, answer.headers.get('www-authenticate'), answer.body.status]).toEqual([401, 'Bearer', '401']);
      expect(JSON.stringify(answer.body)).not.toContain(TOKEN);
    }
    expect(directory.users.size).toBe(0);
    expect((await send('GET', 'Users', undefined, { authorization: `bearer  ${TOKEN}` })).status).toBe(200);
  });

  it('ServiceProviderConfig: PATCH and filter (maxResults) supported, bulk not, ETags yes; Schemas and ResourceTypes list and name theirs', async () => {
    const { send } = scimEndpoint();
    const config = await send('GET', 'ServiceProviderConfig');
    expect(config.status).toBe(200);
    expect(config.headers.get('content-type')).toBe('application/scim+json');
    expect(config.body).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      filter: { supported: true, maxResults: 1000 },
      bulk: { supported: false },
      etag: { supported: true },
      authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken' })],
    });
    const schemas = await send('GET', 'Schemas');
    expect(schemas.body.Resources?.map((schema) => schema.id)).toEqual([
      'urn:ietf:params:scim:schemas:core:2.0:User',
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
      'urn:ietf:params:scim:schemas:core:2.0:Group',
    ]);
    const user = await send('GET', 'Schemas/urn:ietf:params:scim:schemas:core:2.0:User');
    expect(user.body).toMatchObject({ id: 'urn:ietf:params:scim:schemas:core:2.0:User', attributes: expect.arrayContaining([expect.objectContaining({ name: 'userName', required: true, uniqueness: 'server' })]) });
    const types = await send('GET', 'ResourceTypes');
    expect(types.body).toMatchObject({ totalResults: 2, Resources: [{ id: 'User', endpoint: '/Users' }, { id: 'Group', endpoint: '/Groups' }] });
    const group = await send('GET', 'ResourceTypes/Group');
    expect(group.body).toMatchObject({ name: 'Group', schema: 'urn:ietf:params:scim:schemas:core:2.0:Group', meta: { location: `${BASE}/ResourceTypes/Group` } });
    expect((await send('GET', 'Schemas/urn:nope')).status).toBe(404);
    expect((await send('POST', 'ServiceProviderConfig', {})).status).toBe(405);
  });
});
