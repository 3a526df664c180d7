import { describe, expect, it } from 'vitest';
import { createTestApp } from '../../support/test-app.js';
import { auditOfConnection, person, refusal, scimApp } from './push-support.js';

describe('a pushed directory: groups', () => {
  it('two creates of one group name at once: one group, one group-exists, one group-created record', async () => {
    const { t, directory } = await scimApp({}, { groups: { mode: 'all' } });
    const outcomes = await Promise.allSettled(Array.from({ length: 2 }, (_, i) => directory.createGroup({ displayName: 'Racing', externalId: `race-${i}` }, [])));
    expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(outcomes.find((outcome) => outcome.status === 'rejected')).toMatchObject({ reason: { code: 'group-exists' } });
    const created = (await auditOfConnection(t)).filter((record) => record.action === 'group-created');
    expect(created).toHaveLength(1);
  });

  it('create (group-created), add and remove members (each an audited user change), rename (members move, the old group stays), delete (members leave, the group stays)', async () => {
    const { t, directory } = await scimApp({}, { groups: { mode: 'all' } });
    for (const name of ['amy', 'ben', 'cat']) await directory.createUser(person(`${name}@contoso.com`, {}, name));

    const group = await directory.createGroup({ displayName: 'Sales', externalId: 'sales-ext' }, ['amy', 'ben']);
    expect(group).toMatchObject({ displayName: 'Sales', externalId: 'sales-ext', members: ['amy', 'ben'] });
    expect(await t.app.deps.groups.get('Sales')).toMatchObject({ name: 'Sales', connection: 'Pushed', id: group.id, externalId: 'sales-ext' });
    expect((await directory.getUser('amy'))?.user.groups).toEqual(['Sales']);
    expect(await directory.findGroup({ by: 'externalId', value: 'sales-ext' }, { members: false })).toEqual({ ...group, members: undefined });
    const created = (await auditOfConnection(t)).filter((record) => record.action === 'group-created');
    expect(created).toEqual([expect.objectContaining({ subject: 'group:sales', actor: 'scim:Pushed' })]);

    const changed = await directory.updateGroup(group.id, { add: ['cat'], remove: ['amy'] });
    expect(changed.members).toEqual(['ben', 'cat']);
    expect(changed.version).not.toBe(group.version);
    expect((await directory.getUser('amy'))?.user.groups).toBeUndefined();
    const memberRecords = (await auditOfConnection(t)).filter((record) => record.action === 'updated');
    expect(memberRecords.map((record) => record.subject).sort()).toEqual(['amy', 'amy', 'ben', 'cat']);
    expect(memberRecords.every((record) => record.changedFields?.includes('groups') && record.actor === 'scim:Pushed')).toBe(true);

    const renamed = await directory.updateGroup(group.id, { input: { displayName: 'Sales EMEA', externalId: 'sales-ext' } });
    expect(renamed).toMatchObject({ id: group.id, displayName: 'Sales EMEA', members: ['ben', 'cat'] });
    expect((await directory.getUser('ben'))?.user.groups).toEqual(['Sales EMEA']);
    const old = await t.app.deps.groups.get('Sales');
    expect(old).toMatchObject({ name: 'Sales', connection: 'Pushed' });
    expect(old?.id).toBeUndefined();
    expect(await directory.findGroup({ by: 'displayName', value: 'Sales' }, { members: true })).toBeUndefined();

    const replaced = await directory.updateGroup(group.id, { replaceMembers: ['amy'] });
    expect(replaced.members).toEqual(['amy']);

    await directory.deleteGroup(group.id);
    expect((await directory.getUser('amy'))?.user.groups).toBeUndefined();
    expect(await directory.getGroup(group.id, { members: true })).toBeUndefined();
    expect(await t.app.deps.groups.get('Sales EMEA')).toMatchObject({ name: 'Sales EMEA', connection: 'Pushed' });
    const listed = [];
    for await (const item of directory.listGroups({ members: true })) listed.push(item);
    expect(listed).toEqual([]);
  });

  it('members of another connection or unknown ids are member-invalid, named; a taken group name is group-exists', async () => {
    const { t, directory } = await scimApp({}, { groups: { mode: 'all' } });
    await directory.createUser(person('dan@contoso.com', {}, 'dan'));
    const error = await refusal(directory.createGroup({ displayName: 'Ops' }, ['dan', 'ghost', 'other-connection-user']));
    expect(error).toMatchObject({ code: 'member-invalid', details: { members: ['ghost', 'other-connection-user'] } });
    expect(error.message).toContain('"ghost", "other-connection-user" are not users of "Pushed"');
    expect(await t.app.deps.groups.get('Ops')).toBeUndefined();

    await t.app.deps.groups.createIfAbsent({ name: 'Admins', origin: 'local', connection: 'local', createdAt: '2026-01-01T00:00:00.000Z' });
    expect(await refusal(directory.createGroup({ displayName: 'admins' }, []))).toMatchObject({ code: 'group-exists' });
    const ops = await directory.createGroup({ displayName: 'Ops' }, ['dan']);
    expect(await refusal(directory.updateGroup(ops.id, { add: ['ghost'] }))).toMatchObject({ code: 'member-invalid' });
    expect(await refusal(directory.updateGroup('nope', { add: [] }))).toMatchObject({ code: 'group-not-found' });
  });

  it('with the profile’s regex group setting, only the groups it keeps reach the user rows', async () => {
    const { directory } = await scimApp({}, { groups: { mode: 'regex', pattern: '^Intranet-' } });
    await directory.createUser(person('eli@contoso.com', {}, 'eli'));
    await directory.createGroup({ displayName: 'Intranet-Editors' }, ['eli']);
    await directory.createGroup({ displayName: 'VPN users' }, ['eli']);
    expect((await directory.getUser('eli'))?.user.groups).toEqual(['Intranet-Editors']);
  });
});

describe('GroupStore contract: Table Storage (additive: put, id, externalId)', () => {
  it('put creates or replaces a row by name, case-insensitively; id and externalId round-trip and go when a put leaves them out', async () => {
    const { groups } = (await createTestApp()).app.deps;
    const row = { name: 'Finance', origin: 'dkabc', connection: 'Pushed', createdAt: '2026-01-01T00:00:00.000Z', id: 'g-1', externalId: 'fin' };
    await groups.put(row);
    expect(await groups.get('finance')).toEqual(row);
    const { id: _id, externalId: _externalId, ...plain } = row;
    await groups.put({ ...plain, name: 'FINANCE' });
    expect(await groups.get('Finance')).toEqual({ ...plain, name: 'FINANCE' });
    expect(await groups.list()).toHaveLength(1);
  });
});
