import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { startGraphServer, type FakeTenant, type GraphServer, type GraphServerRequest } from '../../fakes/graph-server.js';
import { createTestApp, putProfile, syncNow, usersOf, fakeEntraProfile, type TestApp } from '../../support/test-app.js';

/**
 * Issue 16: the groups phase reads the members of up to 20 groups in one Graph `$batch`, through the real Graph
 * adapter and SDK against the Graph fake; it must give exactly the memberships one request per group page gives.
 */
describe('group memberships read in Graph batches', () => {
  let server: GraphServer;
  beforeAll(async () => {
    server = await startGraphServer({ cert: inject('tlsCert'), key: inject('tlsKey') });
  });
  afterAll(() => server.close());
  afterEach(() => server.heal());

  const SECRET = 'batches-secret-value';
  const ids = Array.from({ length: 30 }, (_, i) => `u${i.toString().padStart(2, '0')}`);
  const small = (g: number): string => `s${g.toString().padStart(2, '0')}`;

  /**
   * Thirty people, all in the selected group; 25 small groups (one or two people: one page each) and two large
   * ones (several pages of two; Big1 holds small group s03 too, so its members are transitive), a doomed group,
   * and a group group sync does not keep.
   */
  function tenant(): { a: FakeTenant; expected: Map<string, string[]> } {
    const a = server.addTenant(randomUUID(), { clientId: randomUUID(), clientSecret: SECRET });
    for (const id of ids) a.addUser({ id, userPrincipalName: `${id}@contoso.com`, mail: `${id}@contoso.com`, givenName: id, surname: 'Batch' });
    const groups: Record<string, string[]> = { 'Intranet-All': ids };
    for (let g = 0; g < 25; g++) {
      const members = ids.filter((_, i) => i % 25 === g);
      a.addGroup({ id: small(g), displayName: `Intranet-S${g}`, members });
      groups[`Intranet-S${g}`] = members;
    }
    a.addGroup({ id: 'big0', displayName: 'Intranet-Big0', members: ids.slice(0, 9) });
    groups['Intranet-Big0'] = ids.slice(0, 9);
    a.addGroup({ id: 'big1', displayName: 'Intranet-Big1', members: [small(3), ...ids.slice(20, 27)] });
    groups['Intranet-Big1'] = [...groups['Intranet-S3']!, ...ids.slice(20, 27)];
    a.addGroup({ id: 'doomed', displayName: 'Intranet-Doomed', members: ids.slice(10, 14) });
    groups['Intranet-Doomed'] = ids.slice(10, 14);
    a.addGroup({ id: 'other', displayName: 'Elsewhere', members: ids });
    a.addGroup({ id: 'all', displayName: 'Intranet-All', members: ids });
    const expected = new Map(ids.map((id) => [`${id}@contoso.com`, Object.keys(groups).filter((name) => groups[name]!.includes(id)).sort()]));
    return { a, expected };
  }

  /** One group chain (users and groups-0), so one walk queues every kept group: more than one batch's worth. */
  async function appFor(a: FakeTenant): Promise<TestApp> {
    const t = await createTestApp({ BATCHES_SECRET: SECRET, USERSYNC_PAGE_SIZE: '2' });
    await putProfile(
      t,
      fakeEntraProfile('Batches', { ...a, graphUrl: server.url, secretName: 'BATCHES_SECRET' }, {
        groups: { mode: 'regex', pattern: '^Intranet-', keepLocalGroups: false },
        listingConcurrency: 2,
      }),
    );
    return t;
  }

  async function groupsOfUsers(t: TestApp): Promise<Map<string, string[]>> {
    const users = await usersOf(t, 'Batches');
    return new Map([...users].map(([name, user]) => [name, [...(user.groups ?? [])].sort()]));
  }

  const batches = (requests: GraphServerRequest[]): string[][] => requests.flatMap((request) => (request.path === '/v1.0/$batch' ? [request.subRequests ?? []] : []));
  const membersOf = (group: string) => new RegExp(`^/v1\\.0/groups/${group}/transitiveMembers/microsoft\\.graph\\.user\\?`);

  it('gives every member of many small groups and of large groups read over several pages, up to 20 groups a request', async () => {
    const { a, expected } = tenant();
    const t = await appFor(a);
    const before = server.requests.length;
    const run = await syncNow(t, 'Batches');
    expect(run).toMatchObject({ state: 'succeeded', listing: 'complete', counts: { created: 30 } });
    expect(await groupsOfUsers(t)).toEqual(expected);

    const sent = batches(server.requests.slice(before));
    expect(Math.max(...sent.map((batch) => batch.length))).toBe(20);
    // The large groups' later pages are read in batches too (their next links, beside other groups).
    expect(sent.flat().filter((path) => membersOf('big0').test(path) && path.includes('$skiptoken='))).toHaveLength(4);
    // Each of the 28 kept groups' first pages was asked for once, in a batch: none alone.
    const firstPages = sent.flat().filter((path) => !path.includes('$skiptoken='));
    expect(firstPages).toHaveLength(28);
    expect(server.requests.slice(before).filter((request) => /\/transitiveMembers\/microsoft\.graph\.user\?\$select=id&/.test(request.path))).toEqual([]);
  });

  it('a group deleted after it was listed, before its members were read, is left out: its memberships end, the rest lands', async () => {
    const { a, expected } = tenant();
    const t = await appFor(a);
    expect(await syncNow(t, 'Batches')).toMatchObject({ state: 'succeeded' });
    expect((await groupsOfUsers(t)).get('u10@contoso.com')).toContain('Intranet-Doomed');

    // Deleted the moment the group list has been read: its members' page answers 404.
    server.onAnswered((path) => {
      if (path.startsWith('/v1.0/groups?') && a.groups.has('doomed')) a.removeGroup('doomed');
    });
    const run = await syncNow(t, 'Batches');
    expect(run).toMatchObject({ state: 'succeeded', listing: 'complete' });
    expect(a.groups.has('doomed')).toBe(false);
    const withoutDoomed = new Map([...expected].map(([name, groups]) => [name, groups.filter((group) => group !== 'Intranet-Doomed')]));
    expect(await groupsOfUsers(t)).toEqual(withoutDoomed);
  });

  it("a request of a batch that is throttled is read again: that group's members still arrive", async () => {
    const { a, expected } = tenant();
    const t = await appFor(a);
    const before = server.requests.length;
    server.throttle(1, 0, membersOf(small(7)));
    const run = await syncNow(t, 'Batches');
    expect(run).toMatchObject({ state: 'succeeded', listing: 'complete' });
    expect(await groupsOfUsers(t)).toEqual(expected);
    expect(expected.get('u07@contoso.com')).toContain('Intranet-S7');
    // Throttled inside a batch, then read alone.
    const requests = server.requests.slice(before);
    expect(batches(requests).flat().filter((path) => membersOf(small(7)).test(path))).toHaveLength(1);
    expect(requests.filter((request) => membersOf(small(7)).test(request.path))).toHaveLength(1);
  });
});
