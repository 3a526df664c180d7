import { expect } from 'vitest';
import { ENTERPRISE, PATCH_OP, entraUser, type ScimAnswer } from './scim-support.js';

/** A request to the SCIM endpoint of one connection: `path` under `/scim/v2/<connection>/`. */
export type ScimSend = (method: string, path: string, body?: unknown) => Promise<ScimAnswer>;

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ops = (...operations: object[]) => ({ schemas: [PATCH_OP], Operations: operations });
const filter = (text: string) => encodeURIComponent(text);

/**
 * The requests Entra ID's provisioning service makes for one user and one group, in its order (Microsoft's
 * "Tutorial: Develop and plan provisioning for a SCIM endpoint"), each answer checked; only through the
 * endpoint, so it runs as well over the push core as over the test fake. `suffix` keeps names unique.
 */
export async function entraSequence(send: ScimSend, suffix: string): Promise<void> {
  const userName = `entra.${suffix}@example.org`;
  const manager = await send('POST', 'Users', entraUser(`mgr-${suffix}`, `boss.${suffix}@example.org`));
  expect(manager.status).toBe(201);
  expect((await send('GET', `Users?filter=${filter(`userName eq "${userName}"`)}`)).body).toMatchObject({ totalResults: 0, Resources: [] });
  const created = await send('POST', 'Users', entraUser(`obj-${suffix}`, userName, { [ENTERPRISE]: { department: 'Sales', employeeNumber: '1' } }));
  expect(created.status).toBe(201);
  const id = created.body.id!;
  expect((await send('GET', `Users?filter=${filter(`userName eq "${userName}"`)}`)).body.Resources?.map((user) => user.id)).toEqual([id]);
  const updated = await send('PATCH', `Users/${id}`, ops(
    { op: 'Replace', path: 'emails[type eq "work"].value', value: `new.${userName}` },
    { op: 'Replace', path: 'name.givenName', value: 'Changed' },
    { op: 'Add', path: `${ENTERPRISE}:manager`, value: manager.body.id },
    { op: 'Replace', value: { [`${ENTERPRISE}:department`]: 'Support' } },
  ));
  expect(updated.status).toBe(200);
  expect(updated.body).toMatchObject({ name: { givenName: 'Changed' }, emails: [{ value: `new.${userName}` }], [ENTERPRISE]: { department: 'Support', manager: { value: manager.body.id } } });

  const groupName = `Entra group ${suffix}`;
  expect((await send('GET', `Groups?filter=${filter(`displayName eq "${groupName}"`)}&excludedAttributes=members`)).body).toMatchObject({ totalResults: 0 });
  const group = await send('POST', 'Groups', { schemas: [GROUP], externalId: `grp-${suffix}`, displayName: groupName, members: [] });
  expect(group.status).toBe(201);
  const groupId = group.body.id!;
  const added = await send('PATCH', `Groups/${groupId}`, ops({ op: 'Add', path: 'members', value: [{ value: id }] }, { op: 'Add', path: 'members', value: [{ value: manager.body.id }] }));
  expect(added.status).toBe(200);
  expect((await send('PATCH', `Groups/${groupId}`, ops({ op: 'Remove', path: 'members', value: [{ value: manager.body.id }] }))).status).toBe(200);
  expect((await send('PATCH', `Groups/${groupId}`, ops({ op: 'Replace', path: 'displayName', value: `${groupName} renamed` }))).status).toBe(200);
  const read = await send('GET', `Groups/${groupId}`);
  expect(read.body).toMatchObject({ displayName: `${groupName} renamed`, members: [{ value: id }] });
  expect((await send('DELETE', `Groups/${groupId}`)).status).toBe(204);
  // A leaver: unassigned from the app, Entra sets active to the string "False" (a disabled user's memberships stay as they were).
  expect((await send('PATCH', `Users/${id}`, ops({ op: 'Replace', path: 'active', value: 'False' }))).body.active).toBe(false);
  expect((await send('DELETE', `Users/${id}`)).status).toBe(204);
  expect((await send('GET', `Users/${id}`)).body.active).toBe(false);
}

/** The requests Okta's provisioning makes (its "SCIM 2.0 protocol" guide): import, create, update, deactivate, group push. */
export async function oktaSequence(send: ScimSend, suffix: string): Promise<void> {
  const userName = `okta.${suffix}@example.org`;
  expect((await send('GET', 'Users?startIndex=1&count=100')).status).toBe(200);
  expect((await send('GET', `Users?filter=${filter(`userName eq "${userName}"`)}&startIndex=1&count=100`)).body).toMatchObject({ totalResults: 0 });
  const user = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName, name: { givenName: 'Okta', familyName: 'User' }, emails: [{ primary: true, value: userName, type: 'work' }], displayName: 'Okta User', active: true, groups: [] };
  const created = await send('POST', 'Users', user);
  expect(created.status).toBe(201);
  const id = created.body.id!;
  expect((await send('GET', `Users/${id}`)).body).toMatchObject({ userName, active: true });
  const replaced = await send('PUT', `Users/${id}`, { ...user, id, name: { givenName: 'Okta', familyName: 'Renamed' } });
  expect(replaced.body).toMatchObject({ name: { familyName: 'Renamed' } });
  expect((await send('PATCH', `Users/${id}`, ops({ op: 'replace', value: { active: false } }))).body.active).toBe(false);
  expect((await send('PATCH', `Users/${id}`, ops({ op: 'replace', value: { active: true } }))).body.active).toBe(true);

  const group = await send('POST', 'Groups', { schemas: [GROUP], displayName: `Okta group ${suffix}`, members: [] });
  expect(group.status).toBe(201);
  const groupId = group.body.id!;
  expect((await send('PATCH', `Groups/${groupId}`, ops({ op: 'add', path: 'members', value: [{ value: id, display: userName }] }))).status).toBe(200);
  expect((await send('PATCH', `Groups/${groupId}`, ops({ op: 'replace', value: { id: groupId, displayName: `Okta group ${suffix} 2` } }))).status).toBe(200);
  expect((await send('GET', `Groups/${groupId}`)).body).toMatchObject({ displayName: `Okta group ${suffix} 2`, members: [{ value: id }] });
  expect((await send('PATCH', `Groups/${groupId}`, ops({ op: 'remove', path: `members[value eq "${id}"]` }))).status).toBe(200);
  expect((await send('GET', `Groups/${groupId}`)).body.members ?? []).toEqual([]);
  expect((await send('GET', 'Groups?startIndex=1&count=100')).body.Resources?.map((listed) => listed.id)).toContain(groupId);
}
