import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionDefinitions } from '../../functions/registry.js';
import { scimFunction } from '../../functions/scim.js';
import { environmentSecrets } from '../../shared/config/secrets.js';
import { LocalHost } from '../../shared/host/local-host.js';
import { scimConnections } from '../../shared/scim/connections.js';
import type { ConnectionStore, StoredConnection } from '../../shared/sync/ports.js';
import { FakePushedDirectory } from '../fakes/pushed-directory.js';
import { createTestApp, NO_CONSOLE, type TestApp } from '../support/test-app.js';
import { entraSequence, oktaSequence, type ScimSend } from './provider-sequences.js';
import { entraUser, TOKEN, type ScimBody } from './scim-support.js';

describe('the SCIM endpoint on the local host, beside the API and the console', () => {
  let t: TestApp;
  let host: LocalHost;
  const directory = new FakePushedDirectory('Push');

  beforeAll(async () => {
    t = await createTestApp();
    const endpoint = scimFunction(async (name) => (name === 'Push' ? { directory, tokenSecret: 'PUSH_SCIM_TOKEN', attributeMap: {} } : undefined), environmentSecrets({ PUSH_SCIM_TOKEN: TOKEN }));
    host = new LocalHost([...t.definitions, endpoint], { connectionString: t.env.AzureWebJobsStorage!, httpPort: 0, log: () => undefined });
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
    expect(directory.users.get('e-1')?.user.username).toBe('ann@example.org');
    const patched = await fetch(`${host.httpUrl}/scim/v2/Push/Users/e-1`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] }),
    });
    expect(patched.status).toBe(200);
    expect(directory.users.get('e-1')?.active).toBe(false);
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
  it('registers the SCIM function (route scim/v2/{*path}, every method a client sends) once the push core gives its directories', async () => {
    const t = await createTestApp();
    const without = functionDefinitions(t.app, { consoleFolder: NO_CONSOLE });
    expect(without.map((definition) => definition.name)).not.toContain('scim');
    const withPush = functionDefinitions({ ...t.app, pushedDirectories: async (name) => new FakePushedDirectory(name) }, { consoleFolder: NO_CONSOLE });
    const scim = withPush.find((definition) => definition.name === 'scim');
    expect(scim?.trigger).toEqual({ kind: 'http', route: 'scim/v2/{*path}', methods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] });
  });

  it('a connection is a SCIM one only when its stored profile is of type scim (its token setting and attribute map read from it)', async () => {
    const profiles: Record<string, unknown> = {
      Push: { name: 'Push', type: 'scim', enabled: true, tokenSecret: 'PUSH_TOKEN', attributeMap: { title: 'jobTitle' } },
      Hr: { name: 'Hr', type: 'csv', enabled: true },
    };
    const store = { get: async (name: string) => (profiles[name] ? ({ profile: profiles[name] } as unknown as StoredConnection) : undefined) } as unknown as ConnectionStore;
    const connections = scimConnections(store, async (name) => new FakePushedDirectory(name));
    expect(await connections('Push')).toMatchObject({ tokenSecret: 'PUSH_TOKEN', attributeMap: { title: 'jobTitle' }, directory: { connection: 'Push' } });
    expect(await connections('Hr')).toBeUndefined();
    expect(await connections('Nobody')).toBeUndefined();
  });
});
