import { ClientCertificateCredential, ClientSecretCredential, type TokenCredential } from '@azure/identity';
import { Client, GraphError, PageIterator, RetryHandlerOptions } from '@microsoft/microsoft-graph-client';
import { TokenCredentialAuthenticationProvider } from '@microsoft/microsoft-graph-client/authProviders/azureTokenCredentials/index.js';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { certificateThumbprint, startGraphServer, type FakeTenant, type GraphServer } from './graph-server.js';
import { answeredAtOnce, delayedRequest } from './latency-checks.js';

// The fake through the REAL SDKs. The worker trusts the fake's certificate through NODE_EXTRA_CA_CERTS (global setup).

const tls = { cert: inject('tlsCert'), key: inject('tlsKey') };
let server: GraphServer;
let contoso: FakeTenant;
let fabrikam: FakeTenant;

const CONTOSO = '11111111-1111-1111-1111-111111111111';
const FABRIKAM = '22222222-2222-2222-2222-222222222222';
const CERT_TENANT = '33333333-3333-3333-3333-333333333333';

function secretCredential(tenantId: string, clientId: string, secret: string): ClientSecretCredential {
  return new ClientSecretCredential(tenantId, clientId, secret, { authorityHost: server.url, disableInstanceDiscovery: true });
}

function graphClient(credential: TokenCredential, customHost = new URL(server.url).hostname): Client {
  return Client.initWithMiddleware({
    authProvider: new TokenCredentialAuthenticationProvider(credential, { scopes: [`${server.url}/.default`] }),
    baseUrl: server.url, // the SDK appends defaultVersion ('v1.0') itself
    customHosts: new Set([customHost]), // host name only: the SDK compares it with the URL's host minus the port
  });
}

async function graphError(promise: Promise<unknown>): Promise<GraphError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(GraphError);
  return error as GraphError;
}

beforeAll(async () => {
  server = await startGraphServer(tls);
  contoso = server.addTenant(CONTOSO, { clientId: 'contoso-app', clientSecret: 'contoso-secret' });
  fabrikam = server.addTenant(FABRIKAM, { clientId: 'fabrikam-app', clientSecret: 'fabrikam-secret' });

  contoso.addUser({ id: 'u1', userPrincipalName: 'ada@contoso.com', givenName: 'Ada', surname: 'Lovelace', mail: 'ada@contoso.com', department: 'R&D' });
  contoso.addUser({ id: 'u2', userPrincipalName: 'bob@contoso.com', displayName: 'Bob B', managerId: 'u1' });
  contoso.addUser({ id: 'u3', userPrincipalName: 'cy@contoso.com', managerId: 'u1', accountEnabled: false });
  contoso.addUser({ id: 'u4', userPrincipalName: 'di@contoso.com', userType: 'Guest' });
  contoso.addUser({ id: 'u5', userPrincipalName: 'ed@contoso.com', managerId: 'u4' });
  contoso.addUser({ id: 'u6', userPrincipalName: 'outsider@contoso.com' });
  // all → u1, u2, eng;  eng → u3, u4, ops;  ops → u5, u1 (again) and all (a cycle)
  contoso.addGroup({ id: 'all', displayName: 'Everyone', members: ['u1', 'u2', 'eng'] });
  contoso.addGroup({ id: 'eng', displayName: 'Engineering', members: ['u3', 'u4', 'ops'] });
  contoso.addGroup({ id: 'ops', displayName: 'Operations', mailEnabled: true, securityEnabled: false, groupTypes: ['Unified'], members: ['u5', 'u1', 'all'] });
  fabrikam.addUser({ id: 'f1', userPrincipalName: 'fay@fabrikam.com' });
  fabrikam.addGroup({ id: 'fab-all', displayName: 'Fabrikam', members: ['f1'] });
});

afterAll(async () => {
  await server?.close();
});

describe('Entra ID authority through @azure/identity', () => {
  it('issues a token to ClientSecretCredential', async () => {
    const token = await secretCredential(CONTOSO, 'contoso-app', 'contoso-secret').getToken(`${server.url}/.default`);
    expect(token?.token).toMatch(/^fake\./);
    expect(token?.expiresOnTimestamp).toBeGreaterThan(Date.now());
    const paths = server.requests.map((request) => `${request.method} ${request.path}`);
    expect(paths).toContain(`GET /${CONTOSO}/v2.0/.well-known/openid-configuration`);
    expect(paths).toContainEqual(expect.stringMatching(new RegExp(`^POST /${CONTOSO}/oauth2/v2\\.0/token\\?client-request-id=`)));
  });

  it('rejects a wrong secret with AADSTS7000215', async () => {
    // identity 4 turns MSAL's ServerError into an AuthenticationRequiredError that keeps Entra's description.
    await expect(secretCredential(CONTOSO, 'contoso-app', 'wrong').getToken(`${server.url}/.default`)).rejects.toMatchObject({
      name: 'AuthenticationRequiredError',
      message: expect.stringMatching(/^invalid_client: .*AADSTS7000215: Invalid client secret provided/),
    });
  });

  it('rejects an unknown client with AADSTS700016', async () => {
    await expect(secretCredential(CONTOSO, 'nobody', 'contoso-secret').getToken(`${server.url}/.default`)).rejects.toThrow(/AADSTS700016/);
  });

  it('fails clearly for an unknown tenant', async () => {
    const error: unknown = await secretCredential('no-such-tenant', 'contoso-app', 'contoso-secret')
      .getToken(`${server.url}/.default`)
      .catch((reason: unknown) => reason);
    // MSAL drops the 400 invalid_tenant body of the discovery document: all the caller sees is this.
    expect(error).toMatchObject({ name: 'CredentialUnavailableError', message: expect.stringMatching(/^endpoints_resolution_error/) });
    expect(server.requests.some((request) => request.path === '/no-such-tenant/v2.0/.well-known/openid-configuration')).toBe(true);
  });

  it('issues a token to ClientCertificateCredential whose assertion names the registered certificate', async () => {
    const tenant = server.addTenant(CERT_TENANT, { clientId: 'cert-app', certificateThumbprint: certificateThumbprint(tls.cert) });
    const credential = (tenantId: string) =>
      new ClientCertificateCredential(tenantId, 'cert-app', { certificate: tls.cert + tls.key }, { authorityHost: server.url, disableInstanceDiscovery: true });
    await expect(credential(CERT_TENANT).getToken(`${server.url}/.default`)).resolves.toMatchObject({ token: expect.stringMatching(/^fake\./) });

    tenant.certificateThumbprint = 'AA'.repeat(32); // another certificate registered
    await expect(credential(CERT_TENANT).getToken(`${server.url}/.default`)).rejects.toThrow(/AADSTS700027/);
  });
});

describe('Microsoft Graph through @microsoft/microsoft-graph-client', () => {
  it('lists the transitive user members of nested groups across pages, each once, only the selected properties', async () => {
    const client = graphClient(secretCredential(CONTOSO, 'contoso-app', 'contoso-secret'));
    const first = (await client.api('/groups/all/transitiveMembers/microsoft.graph.user').select(['id', 'displayName', 'accountEnabled']).top(2).get()) as {
      value: Record<string, unknown>[];
      '@odata.nextLink'?: string;
    };
    expect(first.value).toEqual([
      { '@odata.type': '#microsoft.graph.user', id: 'u1', displayName: 'Ada Lovelace', accountEnabled: true },
      { '@odata.type': '#microsoft.graph.user', id: 'u2', displayName: 'Bob B', accountEnabled: true },
    ]);
    expect(first['@odata.nextLink']).toMatch(new RegExp(`^${server.url}/v1\\.0/groups/all/transitiveMembers/microsoft\\.graph\\.user\\?\\$select=id,displayName,accountEnabled&\\$top=2&\\$skiptoken=`));

    // The next link is absolute and usable as is, with PageIterator or .api(nextLink).get().
    const ids: string[] = [];
    const iterator = new PageIterator(client, first, (user: { id: string }) => {
      ids.push(user.id);
      return true;
    });
    await iterator.iterate();
    expect(ids).toEqual(['u1', 'u2', 'u3', 'u4', 'u5']);

    const second = (await client.api(first['@odata.nextLink'] ?? '').get()) as { value: { id: string }[] };
    expect(second.value.map((user) => user.id)).toEqual(['u3', 'u4']);

    const graphRequests = server.requests.filter((request) => request.path.startsWith('/v1.0/groups/all/transitiveMembers'));
    expect(graphRequests.length).toBeGreaterThanOrEqual(4);
    expect(graphRequests.every((request) => request.authorization?.startsWith('Bearer fake.'))).toBe(true);
  });

  it('counts with ConsistencyLevel: eventual, and refuses $count without it', async () => {
    const client = graphClient(secretCredential(CONTOSO, 'contoso-app', 'contoso-secret'));
    const counted = (await client.api('/groups/all/transitiveMembers/microsoft.graph.user').header('ConsistencyLevel', 'eventual').count(true).select('id').top(999).get()) as {
      '@odata.count': number;
      value: unknown[];
    };
    expect(counted['@odata.count']).toBe(5);
    expect(counted.value).toHaveLength(5);
    const error = await graphError(client.api('/groups/all/transitiveMembers/microsoft.graph.user').count(true).get());
    expect(error).toMatchObject({ statusCode: 400, code: 'Request_BadRequest' });
  });

  it('lists direct members, groups and users, with their types', async () => {
    const client = graphClient(secretCredential(CONTOSO, 'contoso-app', 'contoso-secret'));
    const page = (await client.api('/groups/eng/members').select('id,displayName').get()) as { value: unknown[] };
    expect(page.value).toEqual([
      { '@odata.type': '#microsoft.graph.user', id: 'u3', displayName: 'cy@contoso.com' },
      { '@odata.type': '#microsoft.graph.user', id: 'u4', displayName: 'di@contoso.com' },
      { '@odata.type': '#microsoft.graph.group', id: 'ops', displayName: 'Operations' },
    ]);
  });

  it('lists groups with the supported filters and gets one group', async () => {
    const client = graphClient(secretCredential(CONTOSO, 'contoso-app', 'contoso-secret'));
    const security = (await client.api('/groups').select('id').filter('securityEnabled eq true').get()) as { value: unknown[] };
    expect(security.value).toEqual([{ id: 'all' }, { id: 'eng' }]);
    const mail = (await client.api('/groups').select('id,groupTypes').filter('mailEnabled eq true').get()) as { value: unknown[] };
    expect(mail.value).toEqual([{ id: 'ops', groupTypes: ['Unified'] }]);
    await expect(client.api('/groups/ops').select('displayName,mailEnabled').get()).resolves.toMatchObject({ id: 'ops', displayName: 'Operations', mailEnabled: true });

    const unsupported = await graphError(client.api('/groups').filter("startswith(displayName,'E')").get());
    expect(unsupported).toMatchObject({ statusCode: 400, code: 'Request_UnsupportedQuery' });
  });

  it('lists every user with its manager expanded', async () => {
    const client = graphClient(secretCredential(CONTOSO, 'contoso-app', 'contoso-secret'));
    const users: unknown[] = [];
    let page = (await client.api('/users').select('id').expand('manager($select=id)').top(4).get()) as { value: unknown[]; '@odata.nextLink'?: string };
    users.push(...page.value);
    while (page['@odata.nextLink']) {
      page = (await client.api(page['@odata.nextLink']).get()) as typeof page;
      users.push(...page.value);
    }
    expect(users).toEqual([
      { id: 'u1' },
      { id: 'u2', manager: { '@odata.type': '#microsoft.graph.user', id: 'u1' } },
      { id: 'u3', manager: { '@odata.type': '#microsoft.graph.user', id: 'u1' } },
      { id: 'u4' },
      { id: 'u5', manager: { '@odata.type': '#microsoft.graph.user', id: 'u4' } },
      { id: 'u6' },
    ]);
  });

  it('answers at most 100 users a page when expanding, whatever $top says; filters on userPrincipalName ge/le only, not with advanced queries', async () => {
    const wide = server.addTenant('7e57e57e-0000-4000-8000-000000000100', { clientId: 'wide-app', clientSecret: 'wide-secret' });
    for (let i = 0; i < 250; i++) wide.addUser({ id: `w${i}`, userPrincipalName: `${i % 2 ? 'Z' : 'a'}${i}@wide.example` });
    const client = graphClient(secretCredential(wide.tenantId, 'wide-app', 'wide-secret'));
    type Page = { value: { id: string }[]; '@odata.nextLink'?: string };
    const sizes = async (first: Promise<unknown>): Promise<number[]> => {
      let page = (await first) as Page;
      const counts = [page.value.length];
      while (page['@odata.nextLink']) {
        page = (await client.api(page['@odata.nextLink']).get()) as Page;
        counts.push(page.value.length);
      }
      return counts;
    };
    expect(await sizes(client.api('/users').select('id').expand('manager($select=id)').top(999).get())).toEqual([100, 100, 50]);
    expect(await sizes(client.api('/users').select('id').top(999).get())).toEqual([250]);
    // Case-insensitive: 'Z…' sorts after 'm' (in code points it would sort before 'a').
    expect(await sizes(client.api('/users').select('id').expand('manager').filter("userPrincipalName ge 'm'").top(999).get())).toEqual([100, 25]);
    expect(await sizes(client.api('/users').select('id').expand('manager').filter("userPrincipalName ge 'a' and userPrincipalName le 'm'").get())).toEqual([100, 25]);
    for (const filter of ["userPrincipalName lt 'm'", "userPrincipalName gt 'm'", "startswith(displayName,'a')", "userPrincipalName ne 'm'"]) {
      expect(await graphError(client.api('/users').select('id').filter(filter).get())).toMatchObject({ statusCode: 400, code: 'Request_UnsupportedQuery' });
    }
    const advanced = client.api('/users').header('ConsistencyLevel', 'eventual').select('id').expand('manager').count(true).get();
    expect(await graphError(advanced)).toMatchObject({ statusCode: 400, code: 'Request_UnsupportedQuery' });
  });

  it('gives GraphErrors for a missing group (404), missing consent (403) and a bad token (401)', async () => {
    const client = graphClient(secretCredential(CONTOSO, 'contoso-app', 'contoso-secret'));
    const notFound = await graphError(client.api('/groups/nope/transitiveMembers/microsoft.graph.user').get());
    expect(notFound).toMatchObject({ statusCode: 404, code: 'Request_ResourceNotFound' });
    expect(notFound.requestId).toEqual(expect.any(String));

    const roles = contoso.grantedRoles;
    contoso.grantedRoles = ['User.Read.All'];
    try {
      const denied = await graphError(client.api('/groups/all/transitiveMembers/microsoft.graph.user').get());
      expect(denied).toMatchObject({ statusCode: 403, code: 'Authorization_RequestDenied', message: 'Insufficient privileges to complete the operation.' });
    } finally {
      contoso.grantedRoles = roles;
    }

    const forged = graphClient({ getToken: async () => ({ token: 'forged', expiresOnTimestamp: Date.now() + 3_600_000 }) });
    await expect(graphError(forged.api('/users').get())).resolves.toMatchObject({ statusCode: 401, code: 'InvalidAuthenticationToken' });
  });

  it("only lets a tenant's token read that tenant", async () => {
    const client = graphClient(secretCredential(FABRIKAM, 'fabrikam-app', 'fabrikam-secret'));
    await expect(graphError(client.api('/groups/all').get())).resolves.toMatchObject({ statusCode: 404 });
    const users = (await client.api('/users').select('id').get()) as { value: unknown[] };
    expect(users.value).toEqual([{ id: 'f1' }]);
  });

  it('sends no Authorization header when customHosts holds host:port', async () => {
    const client = graphClient(secretCredential(CONTOSO, 'contoso-app', 'contoso-secret'), new URL(server.url).host);
    const error = await graphError(client.api('/groups/all').get());
    expect(error).toMatchObject({ statusCode: 401, code: 'InvalidAuthenticationToken', message: 'Access token is empty.' });
  });

  it("retries a 429 storm with Retry-After: 0 through the SDK's RetryHandler", async () => {
    const client = graphClient(secretCredential(CONTOSO, 'contoso-app', 'contoso-secret'));
    await client.api('/groups/all').get(); // token acquired: the storm hits Graph only
    const before = server.requests.length;
    server.throttle(3, 0);
    // The SDK waits what Retry-After says before each retry: the fake says 0 s, so the storm costs no time.
    const retryAfter: (string | null)[] = [];
    const observed = new RetryHandlerOptions(3, 3, (_delay, _attempt, _request, _options, response) => {
      retryAfter.push(response.headers.get('retry-after'));
      return true;
    });
    await expect(client.api('/groups/all').select('id').middlewareOptions([observed]).get()).resolves.toMatchObject({ id: 'all' });
    expect(retryAfter).toEqual(['0', '0', '0']);
    const attempts = server.requests.slice(before);
    expect(attempts).toHaveLength(4);

    // A storm longer than maxRetries (3 by default, 10 at most) surfaces as a 429 GraphError.
    server.throttle(2, 0);
    const error = await graphError(client.api('/groups/all').middlewareOptions([new RetryHandlerOptions(0, 1)]).get());
    expect(error).toMatchObject({ statusCode: 429, code: 'TooManyRequests' });
    expect(error.headers?.get('retry-after')).toBe('0');
  });

  it('fails permanently after N requests with failAfter until heal()', async () => {
    const client = graphClient(secretCredential(CONTOSO, 'contoso-app', 'contoso-secret'));
    await client.api('/groups/all').get();
    server.failAfter(1, 500);
    try {
      await expect(client.api('/groups/all').get()).resolves.toMatchObject({ id: 'all' });
      await expect(graphError(client.api('/groups/all').get())).resolves.toMatchObject({ statusCode: 500, code: 'InternalServerError' });
      await expect(graphError(client.api('/users').get())).resolves.toMatchObject({ statusCode: 500 });
    } finally {
      server.heal();
    }
    await expect(client.api('/groups/all').get()).resolves.toMatchObject({ id: 'all' });
  });
});

describe('JSON batching ($batch) through @microsoft/microsoft-graph-client', () => {
  type Answer = { id: string; status: number; headers: Record<string, string>; body: { value?: { id: string }[]; '@odata.nextLink'?: string; '@odata.count'?: number; error?: { code: string } } };
  let graph: Client | undefined;
  // One client, so its token is acquired once.
  const client = () => (graph ??= graphClient(secretCredential(CONTOSO, 'contoso-app', 'contoso-secret')));
  const members = (group: string, id: string) => ({ id, method: 'GET', url: `/groups/${group}/transitiveMembers/microsoft.graph.user?$select=id&$top=2&$count=true`, headers: { ConsistencyLevel: 'eventual' } });
  const batch = async (requests: object[]) =>
    ((await client().api('/$batch').middlewareOptions([new RetryHandlerOptions(0, 0)]).post({ requests })) as { responses: Answer[] }).responses;

  it('answers up to 20 requests in one round trip, each as if sent alone (paging, $count, 404), logged as one request with its requests', async () => {
    await client().api('/groups/all').get(); // token acquired
    const before = server.requests.length;
    const requests = Array.from({ length: 20 }, (_, index) => members(['all', 'eng', 'ops', 'nope'][index % 4]!, `r${index}`));
    const responses = await batch(requests);
    expect(responses.map((answer) => answer.id)).toEqual(requests.map((request) => request.id));
    const all = responses[0]!;
    expect(all).toMatchObject({ status: 200, body: { '@odata.count': 5, value: [{ id: 'u1' }, { id: 'u2' }] } });
    // A page's next link is absolute, as from a request sent alone: read it alone, or in a later batch.
    expect(all.body['@odata.nextLink']).toMatch(new RegExp(`^${server.url}/v1\\.0/groups/all/transitiveMembers/microsoft\\.graph\\.user\\?`));
    const next = (await client().api(all.body['@odata.nextLink']!).headers({ ConsistencyLevel: 'eventual' }).get()) as { value: { id: string }[] };
    expect(next.value.map((user) => user.id)).toEqual(['u3', 'u4']);
    expect(responses[1]).toMatchObject({ status: 200, body: { value: [{ id: 'u3' }, { id: 'u4' }] } });
    expect(responses[3]).toMatchObject({ status: 404, body: { error: { code: 'Request_ResourceNotFound' } } });
    const logged = server.requests.slice(before, before + 1)[0]!;
    expect(logged.path).toBe('/v1.0/$batch');
    expect(logged.subRequests).toHaveLength(20);
    expect(logged.subRequests![0]).toBe('/v1.0/groups/all/transitiveMembers/microsoft.graph.user?$select=id&$top=2&$count=true');
  });

  it('refuses 21 requests, and a request without ConsistencyLevel its $count, on its own', async () => {
    const error = await graphError(batch(Array.from({ length: 21 }, (_, index) => members('all', `r${index}`))));
    expect(error).toMatchObject({ statusCode: 400, code: 'BadRequest', message: 'Number of requests inside batch exceeds the limit.' });
    const [counted, refused] = await batch([members('all', 'a'), { ...members('all', 'b'), headers: {} }]);
    expect(counted).toMatchObject({ status: 200 });
    expect(refused).toMatchObject({ status: 400, body: { error: { code: 'Request_BadRequest' } } });
  });

  it('throttles a request of a batch on its own, with its own Retry-After; the batch is one delayed round trip', async () => {
    await client().api('/groups/all').get();
    server.throttle(1, 7, /\/groups\/eng\//);
    try {
      const [all, eng, ops] = await batch([members('all', 'a'), members('eng', 'b'), members('ops', 'c')]);
      expect(all).toMatchObject({ status: 200 });
      expect(eng).toMatchObject({ status: 429, headers: { 'retry-after': '7' }, body: { error: { code: 'TooManyRequests' } } });
      expect(ops).toMatchObject({ status: 200 });
    } finally {
      server.heal();
    }
    const logged = await delayedRequest(server, 250, () => batch([members('all', 'a'), members('eng', 'b')]));
    expect(logged?.path).toBe('/v1.0/$batch');
  });
});

describe('users/delta and checkMemberGroups through @microsoft/microsoft-graph-client', () => {
  type DeltaPage = { '@odata.context': string; value: Record<string, unknown>[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string };
  const DELTA = '44444444-4444-4444-4444-444444444444';
  let tenant: FakeTenant;
  let client: Client;

  beforeAll(() => {
    tenant = server.addTenant(DELTA, { clientId: 'delta-app', clientSecret: 'delta-secret' });
    client = graphClient(secretCredential(DELTA, 'delta-app', 'delta-secret'));
  });

  /** Follows nextLinks to the deltaLink: every item, the pages' sizes and the deltaLink. */
  async function drain(first: DeltaPage): Promise<{ items: Record<string, unknown>[]; sizes: number[]; deltaLink: string }> {
    const items: Record<string, unknown>[] = [];
    const sizes: number[] = [];
    let page = first;
    for (;;) {
      items.push(...page.value);
      sizes.push(page.value.length);
      if (!page['@odata.nextLink']) break;
      expect(page['@odata.deltaLink']).toBeUndefined();
      expect(page['@odata.nextLink']).toMatch(new RegExp(`^${server.url}/v1\\.0/users/delta\\?\\$skiptoken=[\\w-]+$`));
      page = (await client.api(page['@odata.nextLink']).get()) as DeltaPage;
    }
    const deltaLink = page['@odata.deltaLink'] ?? '';
    expect(deltaLink).toMatch(new RegExp(`^${server.url}/v1\\.0/users/delta\\?\\$deltatoken=[\\w-]+$`));
    return { items, sizes, deltaLink };
  }

  it('reports only the updates, removals and additions after $deltatoken=latest, each once in its latest state, and replays', async () => {
    tenant.addUser({ id: 'd1', userPrincipalName: 'd1@delta.com', department: 'Sales' });
    tenant.addUser({ id: 'd2', userPrincipalName: 'd2@delta.com' });
    tenant.addUser({ id: 'd3', userPrincipalName: 'd3@delta.com', managerId: 'd2' });
    tenant.addUser({ id: 'd4', userPrincipalName: 'd4@delta.com' });

    const latest = (await client.api('/users/delta?$deltatoken=latest').select('displayName,accountEnabled,department').get()) as DeltaPage;
    expect(latest.value).toEqual([]);
    expect(latest['@odata.nextLink']).toBeUndefined();
    expect(latest['@odata.context']).toBe(`${server.url}/v1.0/$metadata#users(id,displayName,accountEnabled,department)`);
    const { deltaLink } = await drain(latest);

    tenant.updateUser('d1', { department: 'Marketing' });
    tenant.updateUser('d1', { accountEnabled: false, jobTitle: 'not selected' });
    tenant.removeUser('d2'); // d3 loses its manager: an update too
    tenant.addUser({ id: 'd5', userPrincipalName: 'd5@delta.com', givenName: 'Eve', surname: 'New' });

    const changes = await drain((await client.api(deltaLink).get()) as DeltaPage);
    const expected = [
      { id: 'd1', displayName: 'd1@delta.com', accountEnabled: false, department: 'Marketing' },
      { id: 'd2', '@removed': { reason: 'deleted' } },
      { id: 'd3', displayName: 'd3@delta.com', accountEnabled: true, department: null },
      { id: 'd5', displayName: 'Eve New', accountEnabled: true, department: null },
    ];
    expect(changes.items).toEqual(expected);
    expect(changes.sizes).toEqual([4]);

    // Graph replays a deltaLink: the same changes again, and a deltaLink that is just as good.
    const replay = await drain((await client.api(deltaLink).get()) as DeltaPage);
    expect(replay.items).toEqual(expected);
    await expect(drain((await client.api(replay.deltaLink).get()) as DeltaPage)).resolves.toMatchObject({ items: [] });
    await expect(drain((await client.api(changes.deltaLink).get()) as DeltaPage)).resolves.toMatchObject({ items: [] });

    tenant.updateUser('d4', { managerId: 'd1' });
    await expect(drain((await client.api(changes.deltaLink).get()) as DeltaPage)).resolves.toMatchObject({
      items: [{ id: 'd4', displayName: 'd4@delta.com', accountEnabled: true, department: null }],
    });
  });

  it('pages a large initial round and a large delta round, 100 users a page or as Prefer: odata.maxpagesize says, ignoring $top', async () => {
    const big = server.addTenant('55555555-5555-5555-5555-555555555555', { clientId: 'big-app', clientSecret: 'big-secret' });
    const bigClient = graphClient(secretCredential('55555555-5555-5555-5555-555555555555', 'big-app', 'big-secret'));
    const ids = Array.from({ length: 250 }, (_, index) => `b${String(index).padStart(3, '0')}`);
    for (const id of ids) big.addUser({ id, userPrincipalName: `${id}@big.com` });
    const drainBig = async (first: DeltaPage) => {
      const items: Record<string, unknown>[] = [];
      const sizes: number[] = [];
      let page = first;
      for (;;) {
        items.push(...page.value);
        sizes.push(page.value.length);
        if (!page['@odata.nextLink']) return { items, sizes, deltaLink: page['@odata.deltaLink'] ?? '' };
        page = (await bigClient.api(page['@odata.nextLink']).get()) as DeltaPage;
      }
    };

    const initial = await drainBig((await bigClient.api('/users/delta').select('id').top(5).get()) as DeltaPage);
    expect(initial.sizes).toEqual([100, 100, 50]);
    expect(initial.items).toEqual(ids.map((id) => ({ id })));

    // The page size of the request that started the round holds for its nextLinks; PageIterator follows them too.
    const first = (await bigClient.api('/users/delta').select('id,userPrincipalName').header('Prefer', 'odata.maxpagesize=40').get()) as DeltaPage;
    expect(first.value).toHaveLength(40);
    const seen: string[] = [];
    const iterator = new PageIterator(bigClient, first, (user: { id: string }) => {
      seen.push(user.id);
      return true;
    });
    await iterator.iterate();
    expect(seen).toEqual(ids);
    const deltaLink = iterator.getDeltaLink() ?? '';
    expect(deltaLink).toMatch(/\$deltatoken=/);

    for (const id of ids.slice(0, 150)) big.updateUser(id, { department: 'Moved' });
    big.removeUser('b200');
    const round = await drainBig((await bigClient.api(deltaLink).get()) as DeltaPage);
    expect(round.sizes).toEqual([100, 51]);
    expect(round.items).toEqual([...ids.slice(0, 150).map((id) => ({ id, userPrincipalName: `${id}@big.com` })), { id: 'b200', '@removed': { reason: 'deleted' } }]);

    // A user changed again while a round is being read moves to the next round.
    const paged = (await bigClient.api(deltaLink).header('Prefer', 'odata.maxpagesize=100').get()) as DeltaPage;
    big.updateUser('b140', { jobTitle: 'late' });
    const rest = await drainBig(paged);
    expect(rest.sizes).toEqual([100, 50]);
    expect(rest.items.map((item) => item.id)).not.toContain('b140');
    await expect(drainBig((await bigClient.api(rest.deltaLink).get()) as DeltaPage)).resolves.toMatchObject({ items: [{ id: 'b140' }] });
  });

  it('answers 410 syncStateNotFound for every token issued before expireDeltaTokens()', async () => {
    tenant.addUser({ id: 'x1', userPrincipalName: 'x1@delta.com' });
    tenant.addUser({ id: 'x2', userPrincipalName: 'x2@delta.com' });
    const deltaLink = (await drain((await client.api('/users/delta').select('id').get()) as DeltaPage)).deltaLink;
    const nextLink = ((await client.api('/users/delta').select('id').header('Prefer', 'odata.maxpagesize=1').get()) as DeltaPage)['@odata.nextLink'] ?? '';
    expect(nextLink).toMatch(/\$skiptoken=/);

    server.expireDeltaTokens();
    for (const link of [deltaLink, nextLink]) {
      const error = await graphError(client.api(link).get());
      expect(error).toMatchObject({ statusCode: 410, code: 'syncStateNotFound', message: 'The sync state generation is not found. Delta tokens may be invalid or expired.' });
    }
    // A new round starts afresh.
    await expect(drain((await client.api('/users/delta?$deltatoken=latest').get()) as DeltaPage)).resolves.toMatchObject({ items: [] });

    const forged = await graphError(client.api('/users/delta?$deltatoken=garbage').get());
    expect(forged).toMatchObject({ statusCode: 400, code: 'Request_BadRequest' });
  });

  it('needs User.Read.All for users/delta', async () => {
    const roles = tenant.grantedRoles;
    tenant.grantedRoles = ['GroupMember.Read.All'];
    try {
      await expect(graphError(client.api('/users/delta').get())).resolves.toMatchObject({ statusCode: 403, code: 'Authorization_RequestDenied' });
    } finally {
      tenant.grantedRoles = roles;
    }
  });

  it('checks transitive group membership with checkMemberGroups', async () => {
    tenant.addUser({ id: 'm1', userPrincipalName: 'm1@delta.com' });
    tenant.addUser({ id: 'm2', userPrincipalName: 'm2@delta.com' });
    // top → mid → leaf → m1;  other → m2
    tenant.addGroup({ id: 'g-leaf', displayName: 'Leaf', members: ['m1'] });
    tenant.addGroup({ id: 'g-mid', displayName: 'Mid', members: ['g-leaf'] });
    tenant.addGroup({ id: 'g-top', displayName: 'Top', members: ['g-mid'] });
    tenant.addGroup({ id: 'g-other', displayName: 'Other', members: ['m2'] });
    const groupIds = ['g-top', 'g-other', 'g-leaf', 'no-such-group', 'g-mid'];

    const m1 = (await client.api('/users/m1/checkMemberGroups').post({ groupIds })) as { '@odata.context': string; value: string[] };
    expect(m1).toEqual({ '@odata.context': `${server.url}/v1.0/$metadata#Collection(Edm.String)`, value: ['g-top', 'g-leaf', 'g-mid'] });
    await expect(client.api('/users/m2/checkMemberGroups').post({ groupIds })).resolves.toMatchObject({ value: ['g-other'] });
    await expect(client.api('/users/m2/checkMemberGroups').post({ groupIds: ['g-top'] })).resolves.toMatchObject({ value: [] });

    tenant.setMembers('g-mid', ['g-leaf', 'g-other']);
    await expect(client.api('/users/m2/checkMemberGroups').post({ groupIds })).resolves.toMatchObject({ value: ['g-top', 'g-other', 'g-mid'] });

    await expect(graphError(client.api('/users/nobody/checkMemberGroups').post({ groupIds }))).resolves.toMatchObject({ statusCode: 404, code: 'Request_ResourceNotFound' });
    await expect(graphError(client.api('/users/m1/checkMemberGroups').post({ ids: groupIds }))).resolves.toMatchObject({ statusCode: 400 });

    const roles = tenant.grantedRoles;
    tenant.grantedRoles = ['User.Read.All'];
    try {
      await expect(graphError(client.api('/users/m1/checkMemberGroups').post({ groupIds }))).resolves.toMatchObject({ statusCode: 403, code: 'Authorization_RequestDenied' });
    } finally {
      tenant.grantedRoles = roles;
    }
  });
});

describe('groups/delta through @microsoft/microsoft-graph-client', () => {
  type GroupDeltaPage = { '@odata.context': string; value: Record<string, unknown>[]; '@odata.nextLink'?: string; '@odata.deltaLink'?: string };
  const GROUPS = '66666666-6666-6666-6666-666666666666';
  const user = (id: string) => ({ '@odata.type': '#microsoft.graph.user', id });
  const group = (id: string) => ({ '@odata.type': '#microsoft.graph.group', id });
  const removed = (member: { '@odata.type': string; id: string }) => ({ ...member, '@removed': { reason: 'deleted' } });
  let tenant: FakeTenant;
  let client: Client;

  /** Follows nextLinks to the deltaLink: every item, the pages' sizes and the deltaLink. */
  async function drain(first: GroupDeltaPage): Promise<{ items: Record<string, unknown>[]; sizes: number[]; deltaLink: string }> {
    const items: Record<string, unknown>[] = [];
    const sizes: number[] = [];
    let page = first;
    for (;;) {
      items.push(...page.value);
      sizes.push(page.value.length);
      if (!page['@odata.nextLink']) break;
      expect(page['@odata.deltaLink']).toBeUndefined();
      expect(page['@odata.nextLink']).toMatch(new RegExp(`^${server.url}/v1\\.0/groups/delta\\?\\$skiptoken=[\\w-]+$`));
      page = (await client.api(page['@odata.nextLink']).get()) as GroupDeltaPage;
    }
    const deltaLink = page['@odata.deltaLink'] ?? '';
    expect(deltaLink).toMatch(new RegExp(`^${server.url}/v1\\.0/groups/delta\\?\\$deltatoken=[\\w-]+$`));
    return { items, sizes, deltaLink };
  }

  const follow = async (link: string) => drain((await client.api(link).get()) as GroupDeltaPage);
  const latest = async () => drain((await client.api('/groups/delta?$deltatoken=latest').select('displayName,members').get()) as GroupDeltaPage);

  beforeAll(() => {
    tenant = server.addTenant(GROUPS, { clientId: 'groups-app', clientSecret: 'groups-secret' });
    client = graphClient(secretCredential(GROUPS, 'groups-app', 'groups-secret'));
    for (const id of ['g1', 'g2', 'g3', 'g4', 'g5']) tenant.addUser({ id, userPrincipalName: `${id}@groups.com` });
    // parent → g1, child;  child → g2;  other → g3, g1;  empty → nobody
    tenant.addGroup({ id: 'child', displayName: 'Child', members: ['g2'] });
    tenant.addGroup({ id: 'parent', displayName: 'Parent', members: ['g1', 'child'] });
    tenant.addGroup({ id: 'other', displayName: 'Other', members: ['g3', 'g1'] });
    tenant.addGroup({ id: 'empty', displayName: 'Empty', members: [] });
  });

  it('lists every group with its direct members in the initial round, paged, and $deltatoken=latest lists none', async () => {
    const first = (await client.api('/groups/delta').select('displayName,members').header('Prefer', 'odata.maxpagesize=3').get()) as GroupDeltaPage;
    expect(first['@odata.context']).toBe(`${server.url}/v1.0/$metadata#groups(id,displayName,members)`);
    const initial = await drain(first);
    expect(initial.sizes).toEqual([3, 1]);
    expect(initial.items).toEqual([
      { id: 'child', displayName: 'Child', 'members@delta': [user('g2')] },
      { id: 'parent', displayName: 'Parent', 'members@delta': [user('g1'), group('child')] },
      { id: 'other', displayName: 'Other', 'members@delta': [user('g3'), user('g1')] },
      { id: 'empty', displayName: 'Empty' }, // as in Graph: no members, no members@delta
    ]);
    await expect(follow(initial.deltaLink)).resolves.toMatchObject({ items: [] });

    const none = (await client.api('/groups/delta?$deltatoken=latest').select('displayName,members').get()) as GroupDeltaPage;
    expect(none.value).toEqual([]);
    expect(none['@odata.nextLink']).toBeUndefined();
    expect(none['@odata.deltaLink']).toMatch(/\$deltatoken=/);
  });

  it('reports only the changed members of the changed group after $deltatoken=latest, and replays', async () => {
    const { deltaLink } = await latest();
    tenant.setMembers('other', ['g1', 'g4']); // g3 out, g4 in, g1 stays

    const expected = [{ id: 'other', displayName: 'Other', 'members@delta': [removed(user('g3')), user('g4')] }];
    const changes = await follow(deltaLink);
    expect(changes.items).toEqual(expected);
    expect((await follow(deltaLink)).items).toEqual(expected); // replay
    await expect(follow(changes.deltaLink)).resolves.toMatchObject({ items: [] });

    // Net changes per member since the token: in-and-out again is no change, out-and-in again neither.
    tenant.setMembers('other', ['g1', 'g4', 'g5']);
    tenant.setMembers('other', ['g4']);
    tenant.setMembers('other', ['g4', 'g1']);
    await expect(follow(changes.deltaLink)).resolves.toMatchObject({ items: [] });
  });

  it("reports a nested group's membership change on the nested group only (direct membership)", async () => {
    const { deltaLink } = await latest();
    tenant.setMembers('child', ['g2', 'g3']);
    const changes = await follow(deltaLink);
    expect(changes.items).toEqual([{ id: 'child', displayName: 'Child', 'members@delta': [user('g3')] }]);
    // parent's transitive members did change, but its direct ones did not
    expect(((await client.api('/groups/parent/transitiveMembers').select('id').get()) as { value: { id: string }[] }).value.map((member) => member.id)).toContain('g3');
  });

  it('reports removed users leaving their groups, deleted groups, new groups and renamed groups', async () => {
    const { deltaLink } = await latest();
    tenant.removeUser('g1'); // leaves parent and other
    tenant.removeGroup('child'); // leaves parent
    tenant.addGroup({ id: 'new', displayName: 'New', members: ['g4', 'parent', 'no-such-id'] });
    tenant.updateGroup('empty', { displayName: 'Still empty' });

    const changes = await follow(deltaLink);
    expect(changes.items).toEqual([
      { id: 'other', displayName: 'Other', 'members@delta': [removed(user('g1'))] },
      { id: 'child', '@removed': { reason: 'changed' } },
      { id: 'parent', displayName: 'Parent', 'members@delta': [removed(user('g1')), removed(group('child'))] },
      { id: 'new', displayName: 'New', 'members@delta': [user('g4'), group('parent')] },
      { id: 'empty', displayName: 'Still empty' },
    ]);

    // Without `members` in $select, membership is not tracked at all.
    const { deltaLink: propertiesOnly } = await drain((await client.api('/groups/delta?$deltatoken=latest').select('displayName').get()) as GroupDeltaPage);
    tenant.setMembers('other', ['g2']);
    tenant.updateGroup('new', { displayName: 'Newer' });
    await expect(follow(propertiesOnly)).resolves.toMatchObject({ items: [{ id: 'new', displayName: 'Newer' }] });
  });

  it('answers 410 syncStateNotFound after expireDeltaTokens(), needs group roles, and refuses users/delta tokens', async () => {
    const { deltaLink } = await latest();
    const nextLink = ((await client.api('/groups/delta').select('displayName,members').header('Prefer', 'odata.maxpagesize=1').get()) as GroupDeltaPage)['@odata.nextLink'] ?? '';
    expect(nextLink).toMatch(/\$skiptoken=/);
    const usersDeltaLink = ((await client.api('/users/delta?$deltatoken=latest').get()) as GroupDeltaPage)['@odata.deltaLink'] ?? '';
    const token = new URL(usersDeltaLink).searchParams.get('$deltatoken') ?? '';
    await expect(graphError(client.api(`/groups/delta?$deltatoken=${token}`).get())).resolves.toMatchObject({ statusCode: 400, code: 'Request_BadRequest' });

    server.expireDeltaTokens(GROUPS);
    for (const link of [deltaLink, nextLink]) {
      const error = await graphError(client.api(link).get());
      expect(error).toMatchObject({ statusCode: 410, code: 'syncStateNotFound', message: 'The sync state generation is not found. Delta tokens may be invalid or expired.' });
    }
    await expect(latest()).resolves.toMatchObject({ items: [] });

    const roles = tenant.grantedRoles;
    tenant.grantedRoles = ['User.Read.All'];
    try {
      await expect(graphError(client.api('/groups/delta').get())).resolves.toMatchObject({ statusCode: 403, code: 'Authorization_RequestDenied' });
    } finally {
      tenant.grantedRoles = roles;
    }
  });
});

describe('latency (the benchmark\'s round trip)', () => {
  it('answers a Graph request no sooner than the latency, and the token request at once', async () => {
    const credential = secretCredential(CONTOSO, 'contoso-app', 'contoso-secret');
    await expect(answeredAtOnce(server, () => credential.getToken(`${server.url}/.default`))).resolves.toMatchObject({ token: expect.stringMatching(/^fake\./) });
    // The token comes from the credential's cache: the Graph request is the only one.
    const logged = await delayedRequest(server, 250, () => graphClient(credential).api('/users').select('id').get());
    expect(logged?.path).toBe('/v1.0/users?$select=id');
  });
});
