import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionDefinitions } from '../../functions/registry.js';
import { LocalHost } from '../../shared/host/local-host.js';
import { scimConnections } from '../../shared/scim/connections.js';
import type { ConnectionStore, StoredConnection } from '../../shared/sync/ports.js';
import { FakePushedDirectory } from '../fakes/pushed-directory.js';
import type { ConnectionProfileInput } from '../../shared/connections/profile.js';
import { createTestApp, csvProfile, NO_CONSOLE, putProfile, syncNow, uploadCsv, usersOf, type TestApp } from '../support/test-app.js';
import { entraSequence, oktaSequence, type ScimSend } from './provider-sequences.js';
import { entraUser, TOKEN, type ScimBody } from './scim-support.js';

describe('the SCIM endpoint on the local host, over the push core, beside the API and the console', () => {
  let t: TestApp;
  let host: LocalHost;

  beforeAll(async () => {
    t = await createTestApp({ PUSH_SCIM_TOKEN: TOKEN });
    await putProfile(t, { name: 'Push', type: 'scim', tokenSecret: 'PUSH_SCIM_TOKEN', orgChart: true } as ConnectionProfileInput);
    host = new LocalHost(t.definitions, { connectionString: t.env.AzureWebJobsStorage!, httpPort: 0, log: () => undefined });
    await host.start();
  });
  afterAll(() => host?.stop());

  it('/scim/v2/<connection>/… reaches the SCIM function (not the console\'s catch-all), with no X-UserSync-Client: the bearer is the credential', async () => {
    const created = await fetch(`${host.httpUrl}/scim/v2/Push/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify(entraUser('e-1', 'ann@example.org')),
    });
    expect([created.status, created.headers.get('content-type'), created.headers.get('cache-control')]).toEqual([201, 'application/scim+json', 'no-store']);
    expect((await usersOf(t, 'Push')).get('ann@example.org')).toMatchObject({ key: 'e-1', status: 'active' });
    const patched = await fetch(`${host.httpUrl}/scim/v2/Push/Users/e-1`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] }),
    });
    expect(patched.status).toBe(200);
    expect((await usersOf(t, 'Push')).get('ann@example.org')).toMatchObject({ status: 'disabled' });
    const anonymous = await fetch(`${host.httpUrl}/scim/v2/Push/ServiceProviderConfig`);
    expect([anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([401, 'Bearer']);
  });

  it("Entra's and Okta's provisioning traffic, as scripted sequences, passes over HTTP", async () => {
    const send: ScimSend = async (method, path, body) => {
      const response = await fetch(`${host.httpUrl}/scim/v2/Push/${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }) },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, headers: response.headers, body: response.status === 204 ? {} : ((await response.json()) as ScimBody) };
    };
    await entraSequence(send, 'lh');
    await oktaSequence(send, 'lh');

    // What the sequences left in the directory, through the one write path: rows, the org chart, the audit trail.
    const users = await usersOf(t, 'Push');
    const boss = users.get('boss.lh@example.org');
    expect(users.get('entra.lh@example.org')).toMatchObject({ key: 'obj-lh', status: 'disabled', firstName: 'Changed', email: 'new.entra.lh@example.org', attributes: { department: 'Support' }, managerKey: boss?.key });
    expect(users.get('okta.lh@example.org')).toMatchObject({ status: 'active', lastName: 'Renamed' });
    const audit = await t.app.deps.audit.query({ connection: 'Push', limit: 1000 });
    expect(new Set(audit.records.map((record) => record.actor))).toEqual(new Set(['scim:Push']));
    expect(audit.records.filter((record) => record.username === 'entra.lh@example.org').map((record) => record.action)).toEqual(expect.arrayContaining(['created', 'updated', 'disabled']));
  });

  it('a username a pull connection holds is 409 uniqueness naming it, audited as a conflict; the pull user is untouched', async () => {
    await uploadCsv(t, 'hr.csv', 'username,email,firstName,lastName\ncarla@example.org,carla@example.org,Carla,Pull\n');
    await putProfile(t, csvProfile('Hr', 'hr.csv', { defaultPasswordSecret: 'PUSH_SCIM_TOKEN' }));
    expect(await syncNow(t, 'Hr')).toMatchObject({ state: 'succeeded', counts: { created: 1 } });
    const taken = await fetch(`${host.httpUrl}/scim/v2/Push/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify(entraUser('e-carla', 'carla@example.org')),
    });
    expect(taken.status).toBe(409);
    expect(await taken.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '409', scimType: 'uniqueness', detail: expect.stringContaining('Hr') });
    expect((await usersOf(t, 'Hr')).get('carla@example.org')).toMatchObject({ status: 'active', lastName: 'Pull' });
    expect((await usersOf(t, 'Push')).has('carla@example.org')).toBe(false);
    const audit = await t.app.deps.audit.query({ connection: 'Push', limit: 1000 });
    expect(audit.records.filter((record) => record.username === 'carla@example.org')).toEqual([expect.objectContaining({ action: 'conflict', actor: 'scim:Push' })]);
  });

  it('50 concurrent PATCHes of one user over HTTP leave it as one order of them would have: none lost, none torn, each audited once', async () => {
    // Each PATCH sets givenName and department to its own number (a torn write would mix two) and adds its own
    // attribute (a lost update would drop one).
    const attributeMap = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`badge${i}`, `badge${i}`]));
    await putProfile(t, { name: 'Race', type: 'scim', tokenSecret: 'PUSH_SCIM_TOKEN', attributeMap } as ConnectionProfileInput);
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' };
    expect((await fetch(`${host.httpUrl}/scim/v2/Race/Users`, { method: 'POST', headers, body: JSON.stringify(entraUser('e-race', 'race@example.org')) })).status).toBe(201);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        fetch(`${host.httpUrl}/scim/v2/Race/Users/e-race`, {
          method: 'PATCH',
          headers,
          body: JSON.stringify({
            schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
            Operations: [
              { op: 'Replace', path: 'name.givenName', value: `Racer${i}` },
              { op: 'Replace', path: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department', value: `Dept${i}` },
              { op: 'Add', path: `badge${i}`, value: 'yes' },
            ],
          }),
        }).then((response) => response.status),
      ),
    );
    expect(answers).toEqual(Array.from({ length: 50 }, () => 200));
    const stored = (await usersOf(t, 'Race')).get('race@example.org')!;
    const winner = /^Racer(\d+)$/.exec(stored.firstName ?? '')?.[1];
    expect(winner).toBeDefined();
    expect(stored.attributes).toEqual({ department: `Dept${winner}`, ...Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`badge${i}`, 'yes'])) });
    const audit = await t.app.deps.audit.query({ connection: 'Race', limit: 1000 });
    expect(audit.records.filter((record) => record.username === 'race@example.org' && record.action === 'updated')).toHaveLength(50);
  });

  it('a disabled connection answers a caller without its token as any unknown name (401); with the token, 403', async () => {
    await putProfile(t, { name: 'Paused', type: 'scim', tokenSecret: 'PUSH_SCIM_TOKEN', enabled: false } as ConnectionProfileInput);
    const users = (token?: string) => fetch(`${host.httpUrl}/scim/v2/Paused/Users`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    const nobody = await fetch(`${host.httpUrl}/scim/v2/Nobody/Users`);
    expect([nobody.status, (await nobody.json()) as unknown]).toEqual([401, expect.objectContaining({ status: '401' })]);
    for (const answer of [await users(), await users('wrong-token')]) {
      expect([answer.status, answer.headers.get('www-authenticate'), ((await answer.json()) as { detail: string }).detail]).toEqual([401, 'Bearer', expect.not.stringContaining('Paused')]);
    }
    const allowed = await users(TOKEN);
    expect([allowed.status, ((await allowed.json()) as { detail: string }).detail]).toEqual([403, expect.stringContaining('disabled')]);
  });

  it('a body larger than the API takes is 413, as a SCIM error', async () => {
    const big = await fetch(`${host.httpUrl}/scim/v2/Push/Users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/scim+json' },
      body: JSON.stringify({ userName: 'x', title: 'y'.repeat(1024 * 1024) }),
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toMatchObject({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '413' });
  });
});

describe('the registry and the stored profiles', () => {
  it('registers the SCIM function (route scim/v2/{*path}, every method a client sends)', async () => {
    const t = await createTestApp();
    const scim = functionDefinitions(t.app, { consoleFolder: NO_CONSOLE }).find((definition) => definition.name === 'scim');
    expect(scim?.trigger).toEqual({ kind: 'http', route: 'scim/v2/{*path}', methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] });
  });

  it('a connection is a SCIM one only when its stored profile is of type scim (its token setting and attribute map read from it)', async () => {
    const profiles: Record<string, unknown> = {
      Push: { name: 'Push', type: 'scim', enabled: true, tokenSecret: 'PUSH_TOKEN', attributeMap: { title: 'jobTitle' } },
      Hr: { name: 'Hr', type: 'csv', enabled: true },
    };
    const store = { get: async (name: string) => (profiles[name] ? ({ profile: profiles[name] } as unknown as StoredConnection) : undefined) } as unknown as ConnectionStore;
    const connections = scimConnections(store, async (name) => new FakePushedDirectory(name));
    expect(await connections('Push')).toMatchObject({ tokenSecret: 'PUSH_TOKEN', attributeMap: { title: 'jobTitle' } });
    expect(await (await connections('Push'))!.open()).toMatchObject({ connection: 'Push' });
    expect(await connections('Hr')).toBeUndefined();
    expect(await connections('Nobody')).toBeUndefined();
  });
});
