import { generateKeyPairSync } from 'node:crypto';
import okta from '@okta/okta-sdk-nodejs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { answeredAtOnce, delayedRequest } from './latency-checks.js';
import { startOktaServer, type OktaServer } from './okta-server.js';

// The fake through the REAL @okta/okta-sdk-nodejs 8.

const TOKEN = 'ssws-token-1';
let server: OktaServer;

/** The SDK's typings make both options required (runtime defaults: maxRetries 2, requestTimeout 0 = none). */
function executor(maxRetries = 2): okta.DefaultRequestExecutor {
  return new okta.DefaultRequestExecutor({ maxRetries, requestTimeout: 0 });
}

function sswsClient(token = TOKEN, maxRetries = 2): okta.Client {
  return new okta.Client({ orgUrl: server.url, token, requestExecutor: executor(maxRetries) });
}

async function collect<T>(collection: AsyncIterable<T | null>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of collection) if (item) items.push(item);
  return items;
}

async function rejection(promise: Promise<unknown>): Promise<okta.OktaApiError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(okta.OktaApiError);
  return error as okta.OktaApiError;
}

function requestsSince(mark: number): OktaServer['requests'] {
  return server.requests.slice(mark);
}

beforeAll(async () => {
  server = await startOktaServer();
  server.addToken(TOKEN);
  server.setClock('2026-01-01T00:00:00.000Z');
  const people = [
    { id: '00u01', login: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', department: 'R&D' },
    { id: '00u02', login: 'bob@example.com', firstName: 'Bob', lastName: 'Byte', managerId: '00u01', manager: 'ada@example.com' },
    { id: '00u03', login: 'cy@example.com', firstName: 'Cy', lastName: 'Cipher', title: 'Engineer', employeeNumber: 'E3' },
    { id: '00u04', login: 'di@example.com', firstName: 'Di', lastName: 'Data', costCenter: 'CC-4' },
    { id: '00u05', login: 'ed@example.com', firstName: 'Ed', lastName: 'Edge' },
  ];
  for (const { id, ...profile } of people) server.addUser({ id, profile: { email: profile.login, ...profile } });
  server.addUser({ id: '00u06', status: 'DEPROVISIONED', profile: { login: 'gone@example.com', email: 'gone@example.com', firstName: 'Gus' } });
  server.addUser({ id: '00u07', status: 'STAGED', profile: { login: 'new@example.com' } });
  server.addUser({ id: '00u08', status: 'SUSPENDED', profile: { login: 'sus@example.com' } });
  server.addGroup({ id: '00g-eng', name: 'Engineering', description: 'Builders', members: ['00u01', '00u02', '00u03', '00u04', '00u05', '00u06'] });
  server.addGroup({ id: '00g-ops', name: 'Operations', members: ['00u05'] });
  server.addGroup({ id: '00g-app', name: 'Salesforce users', type: 'APP_GROUP', members: [] });
  server.setClock(null);
});

afterAll(async () => {
  await server?.close();
});

beforeEach(() => {
  server.heal();
});

describe('wire format', () => {
  it('answers Okta JSON, Link and X-Rate-Limit headers', async () => {
    const response = await fetch(`${server.url}/api/v1/groups/00g-eng/users?limit=2`, { headers: { Authorization: `SSWS ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-rate-limit-limit')).toBe('500');
    expect(Number(response.headers.get('x-rate-limit-remaining'))).toBeLessThan(500);
    expect(Number(response.headers.get('x-rate-limit-reset'))).toBeGreaterThan(Date.now() / 1000);
    expect(response.headers.get('date')).toBeTruthy();
    expect(response.headers.get('link')).toBe(
      `<${server.url}/api/v1/groups/00g-eng/users?limit=2>; rel="self", <${server.url}/api/v1/groups/00g-eng/users?after=00u02&limit=2>; rel="next"`,
    );
    const body = (await response.json()) as Array<Record<string, unknown>>;
    expect(body.map((user) => user.id)).toEqual(['00u01', '00u02']);
    expect(body[0]).toMatchObject({
      id: '00u01',
      status: 'ACTIVE',
      created: '2026-01-01T00:00:00.000Z',
      activated: '2026-01-01T00:00:00.000Z',
      lastLogin: null,
      lastUpdated: '2026-01-01T00:00:00.000Z',
      type: { id: expect.any(String) },
      profile: { login: 'ada@example.com', email: 'ada@example.com', firstName: 'Ada', department: 'R&D', mobilePhone: null },
      credentials: { provider: { type: 'OKTA', name: 'OKTA' } },
      _links: { self: { href: `${server.url}/api/v1/users/00u01` } },
    });

    const unauthorized = await fetch(`${server.url}/api/v1/users`, { headers: { Authorization: 'SSWS nope' } });
    expect(unauthorized.status).toBe(401);
    expect(await unauthorized.json()).toEqual({
      errorCode: 'E0000011',
      errorSummary: 'Invalid token provided',
      errorLink: 'E0000011',
      errorId: expect.stringMatching(/^oae/),
      errorCauses: [],
    });
  });
});

describe('SSWS through the SDK', () => {
  it('pages group members with for await, following absolute next links', async () => {
    const mark = server.requests.length;
    const client = sswsClient();
    const members = await collect(await client.groupApi.listGroupUsers({ groupId: '00g-eng', limit: 2 }));
    expect(members.map((user) => user.id)).toEqual(['00u01', '00u02', '00u03', '00u04', '00u05', '00u06']);
    expect(members[1]?.profile?.managerId).toBe('00u01');
    expect(members[3]?.profile?.['costCenter']).toBe('CC-4'); // custom attributes survive the SDK's model
    expect(requestsSince(mark).map((request) => request.query)).toEqual([
      { limit: '2' },
      { after: '00u02', limit: '2' },
      { after: '00u04', limit: '2' },
    ]);
    expect(requestsSince(mark).every((request) => request.authorization === `SSWS ${TOKEN}`)).toBe(true);
  });

  it('reads one page at a time: getNextPage() then the after cursor from nextUri', async () => {
    const client = sswsClient();
    const afters: Array<string | undefined> = [];
    const ids: string[] = [];
    let after: string | undefined;
    do {
      const collection = await client.groupApi.listGroupUsers({ groupId: '00g-eng', limit: 4, ...(after ? { after } : {}) });
      const page = await collection.getNextPage(); // one request; the page's items (SDK models)
      ids.push(...page.map((user) => String(user.id)));
      after = collection.nextUri ? (new URL(collection.nextUri).searchParams.get('after') ?? undefined) : undefined;
      afters.push(after);
    } while (after);
    expect(ids).toEqual(['00u01', '00u02', '00u03', '00u04', '00u05', '00u06']);
    expect(afters).toEqual(['00u04', undefined]);
  });

  it('leaves DEPROVISIONED users out of a plain list; search / filter on status finds them', async () => {
    const client = sswsClient();
    const all = await collect(await client.userApi.listUsers({ limit: 3 }));
    expect(all.map((user) => user.id)).toEqual(['00u01', '00u02', '00u03', '00u04', '00u05', '00u07', '00u08']);
    const bySearch = await collect(await client.userApi.listUsers({ search: 'status eq "DEPROVISIONED"' }));
    expect(bySearch.map((user) => [user.id, user.status])).toEqual([['00u06', 'DEPROVISIONED']]);
    const byFilter = await collect(await client.userApi.listUsers({ filter: 'status eq "DEPROVISIONED" or status eq "STAGED"' }));
    expect(byFilter.map((user) => user.id)).toEqual(['00u06', '00u07']);
  });

  it('finds users changed since a time with lastUpdated gt, keeping the search on every page', async () => {
    server.setClock('2026-03-01T12:00:00.000Z');
    server.updateUser('00u03', { profile: { title: 'Staff Engineer' } });
    server.updateUser('00u06', { profile: { department: 'Gone' } });
    server.setClock('2026-03-02T12:00:00.000Z');
    server.updateUser('00u05', { status: 'SUSPENDED' });
    server.setClock(null);
    expect(server.users.get('00u05')).toMatchObject({ lastUpdated: '2026-03-02T12:00:00.000Z', statusChanged: '2026-03-02T12:00:00.000Z' });

    const mark = server.requests.length;
    const client = sswsClient();
    const since = 'lastUpdated gt "2026-02-01T00:00:00.000Z"';
    const changed = await collect(await client.userApi.listUsers({ search: since, limit: 1 }));
    expect(changed.map((user) => user.id)).toEqual(['00u03', '00u05', '00u06']); // DEPROVISIONED included
    expect(changed[0]?.profile?.title).toBe('Staff Engineer');
    expect(changed[0]?.lastUpdated).toEqual(new Date('2026-03-01T12:00:00.000Z')); // the SDK turns timestamps into Dates
    expect(requestsSince(mark).map((request) => request.query.search)).toEqual([since, since, since]);

    const filtered = await collect(await client.userApi.listUsers({ filter: `${since} and status eq "ACTIVE"` }));
    expect(filtered.map((user) => user.id)).toEqual(['00u03']);
    const bad = await rejection(collect(await client.userApi.listUsers({ filter: 'profile.department eq "R&D"' })));
    expect(bad).toMatchObject({ status: 400, errorCode: 'E0000031' });
  });

  it('lists groups, by name prefix too, and reads one group', async () => {
    const client = sswsClient();
    const groups = await collect(await client.groupApi.listGroups({ limit: 2 }));
    expect(groups.map((group) => [group.id, group.type, group.profile?.name])).toEqual([
      ['00g-app', 'APP_GROUP', 'Salesforce users'],
      ['00g-eng', 'OKTA_GROUP', 'Engineering'],
      ['00g-ops', 'OKTA_GROUP', 'Operations'],
    ]);
    expect(groups[1]?.objectClass).toEqual(['okta:user_group']);
    const byPrefix = await collect(await client.groupApi.listGroups({ q: 'eng' }));
    expect(byPrefix.map((group) => group.id)).toEqual(['00g-eng']);
    const group = await client.groupApi.getGroup({ groupId: '00g-eng' });
    expect(group.profile?.description).toBe('Builders');
    expect(group.lastMembershipUpdated).toBeInstanceOf(Date);
  });

  it('answers 404 E0000007 for an unknown group, as an OktaApiError', async () => {
    const client = sswsClient();
    const error = await rejection(client.groupApi.getGroup({ groupId: '00g-nope' }));
    expect(error).toMatchObject({
      name: 'OktaApiError',
      status: 404,
      errorCode: 'E0000007',
      errorSummary: 'Not found: Resource not found: 00g-nope (UserGroup)',
      errorLink: 'E0000007',
      errorCauses: [],
      url: `${server.url}/api/v1/groups/00g-nope`,
    });
    expect(error.errorId).toMatch(/^oae/);
    // A collection only requests when iterated: the error comes from the first next()
    const members = await client.groupApi.listGroupUsers({ groupId: '00g-nope' });
    expect(await rejection(collect(members))).toMatchObject({ status: 404, errorCode: 'E0000007' });
  });

  it('answers 401 E0000011 for a revoked token, as an OktaApiError', async () => {
    server.addToken('short-lived');
    const client = sswsClient('short-lived');
    expect((await client.userApi.getUser({ userId: '00u01' })).id).toBe('00u01');
    server.revokeToken('short-lived');
    const error = await rejection(collect(await client.userApi.listUsers({})));
    expect(error).toMatchObject({ status: 401, errorCode: 'E0000011', errorSummary: 'Invalid token provided' });
    expect(error.message).toBe('Okta HTTP 401 E0000011 Invalid token provided. ');
  });

  it('retries a 429 storm of 2 (waiting reset − Date + 1 s) and gives up on a third', async () => {
    const client = sswsClient(TOKEN, 2);
    const delays: number[] = [];
    client.requestExecutor.on('backoff', (_request: unknown, _response: unknown, _requestId: unknown, delayMs: number) => delays.push(delayMs));
    server.throttle(2, { resetSeconds: 0 });
    const mark = server.requests.length;
    const users = await collect(await client.groupApi.listGroupUsers({ groupId: '00g-ops' }));
    expect(users.map((user) => user.id)).toEqual(['00u05']);
    expect(requestsSince(mark).map((request) => [request.status, request.retryCount])).toEqual([
      [429, undefined],
      [429, 1],
      [200, 2],
    ]);
    expect(delays).toEqual([1000, 1000]);

    server.throttle(3, { resetSeconds: -1 }); // −1: the SDK waits ~0 ms
    const error = await rejection(client.groupApi.getGroup({ groupId: '00g-ops' }));
    expect(error).toMatchObject({ status: 429, errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit due to too many requests.' });
    expect(error.headers.get('x-rate-limit-remaining')).toBe('0');
  });

  it('fails with 500 E0000009 after failAfter(n) until heal()', async () => {
    const client = sswsClient();
    server.failAfter(1);
    expect((await client.groupApi.getGroup({ groupId: '00g-ops' })).id).toBe('00g-ops');
    const error = await rejection(collect(await client.userApi.listUsers({})));
    expect(error).toMatchObject({ status: 500, errorCode: 'E0000009' });
    server.heal();
    expect((await collect(await client.groupApi.listGroupUsers({ groupId: '00g-ops' }))).length).toBe(1);
  });

  it('caches single GETs by _links.self (the default cache middleware) unless cacheMiddleware: null', async () => {
    const cached = sswsClient();
    const uncached = new okta.Client({ orgUrl: server.url, token: TOKEN, requestExecutor: executor(), cacheMiddleware: null });
    expect((await cached.userApi.getUser({ userId: '00u04' })).profile?.title).toBeUndefined();
    await uncached.userApi.getUser({ userId: '00u04' });
    server.updateUser('00u04', { profile: { title: 'Analyst' } });
    expect((await cached.userApi.getUser({ userId: '00u04' })).profile?.title).toBeUndefined(); // stale
    expect((await uncached.userApi.getUser({ userId: '00u04' })).profile?.title).toBe('Analyst');
  });
});

describe('OAuth service app (PrivateKey mode)', () => {
  const SCOPES = 'okta.users.read okta.groups.read';

  function keyPair(): { publicKeyPem: string; privateKeyPem: string } {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    return {
      publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
  }

  function oauthClient(clientId: string, privateKey: string, scopes = SCOPES): okta.Client {
    return new okta.Client({
      orgUrl: server.url,
      authorizationMode: 'PrivateKey',
      clientId,
      scopes: scopes.split(' '),
      privateKey,
      keyId: 'kid-1',
      requestExecutor: executor(),
    });
  }

  it('gets a Bearer token with a signed client assertion and reads users and groups', async () => {
    const keys = keyPair();
    server.addServiceApp({ clientId: '0oa-sync', publicKeyPem: keys.publicKeyPem, keyId: 'kid-1' });
    const mark = server.requests.length;
    const client = oauthClient('0oa-sync', keys.privateKeyPem);
    const members = await collect(await client.groupApi.listGroupUsers({ groupId: '00g-eng', limit: 3 }));
    expect(members).toHaveLength(6);
    expect((await client.userApi.getUser({ userId: '00u01' })).profile?.login).toBe('ada@example.com');
    const seen = requestsSince(mark);
    expect(seen[0]).toMatchObject({ method: 'POST', path: '/oauth2/v1/token', status: 200, dpop: true }); // the SDK always sends a DPoP proof
    const token = server.accessTokens.at(-1);
    expect(seen.slice(1).map((request) => request.authorization)).toEqual([`Bearer ${token}`, `Bearer ${token}`, `Bearer ${token}`]);

    // A revoked (or expired) access token: the SDK drops it on the 401, gets a new one and retries once
    server.revokeToken(token ?? '');
    expect((await client.groupApi.getGroup({ groupId: '00g-ops' })).id).toBe('00g-ops');
    expect(server.accessTokens.at(-1)).not.toBe(token);
  });

  it('refuses a wrong key or an ungranted scope (surfacing as 401 E0000011), and answers 403 without the needed scope', async () => {
    const keys = keyPair();
    const other = keyPair();
    server.addServiceApp({ clientId: '0oa-users-only', publicKeyPem: keys.publicKeyPem, scopes: ['okta.users.read'] });

    // SDK 8.1 never checks the token response's status (oauth.js calls `Http.errorFilter`, which is undefined there):
    // it keeps the error body as its token, sends `Bearer undefined`, gets 401, refetches once, then throws that 401.
    let mark = server.requests.length;
    const impostor = await rejection(collect(await oauthClient('0oa-users-only', other.privateKeyPem, 'okta.users.read').userApi.listUsers({})));
    expect(impostor).toMatchObject({ status: 401, errorCode: 'E0000011' });
    expect(requestsSince(mark).map((request) => [request.path, request.status, request.authorization])).toEqual([
      ['/oauth2/v1/token', 401, undefined],
      ['/api/v1/users', 401, 'Bearer undefined'],
      ['/oauth2/v1/token', 401, undefined],
      ['/api/v1/users', 401, 'Bearer undefined'],
    ]);

    mark = server.requests.length;
    const tooMuch = await rejection(collect(await oauthClient('0oa-users-only', keys.privateKeyPem).userApi.listUsers({})));
    expect(tooMuch).toMatchObject({ status: 401, errorCode: 'E0000011' });
    expect(requestsSince(mark)[0]).toMatchObject({ path: '/oauth2/v1/token', status: 400 }); // invalid_scope

    const client = oauthClient('0oa-users-only', keys.privateKeyPem, 'okta.users.read');
    expect((await collect(await client.userApi.listUsers({}))).length).toBe(7);
    expect(await rejection(client.groupApi.getGroup({ groupId: '00g-eng' }))).toMatchObject({ status: 403, errorCode: 'E0000006' });
  });

  it('with "Require DPoP": answers 400 use_dpop_nonce, then a DPoP-bound token the SDK uses with DPoP proofs', async () => {
    const keys = keyPair();
    server.addServiceApp({ clientId: '0oa-dpop', publicKeyPem: keys.publicKeyPem, dpop: true });
    const client = oauthClient('0oa-dpop', keys.privateKeyPem);
    const mark = server.requests.length;
    const members = await collect(await client.groupApi.listGroupUsers({ groupId: '00g-eng', limit: 4 }));
    expect(members).toHaveLength(6);
    const seen = requestsSince(mark);
    expect(seen.map((request) => [request.path, request.status, request.dpop])).toEqual([
      ['/oauth2/v1/token', 400, true],
      ['/oauth2/v1/token', 200, true],
      ['/api/v1/groups/00g-eng/users', 200, true],
      ['/api/v1/groups/00g-eng/users', 200, true],
    ]);
    const token = server.accessTokens.at(-1);
    expect(seen[2]?.authorization).toBe(`DPoP ${token}`);

    // A DPoP-bound token is refused with the Bearer scheme
    const response = await fetch(`${server.url}/api/v1/users`, { headers: { Authorization: `Bearer ${token}` } });
    expect(response.status).toBe(401);
    const unproven = await fetch(`${server.url}/api/v1/users`, { headers: { Authorization: `DPoP ${token}` } });
    expect(unproven.status).toBe(400);
    expect(unproven.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
  });
});

describe('latency (the benchmark\'s round trip)', () => {
  it('answers an API request no sooner than the latency, and the token endpoint at once', async () => {
    const refused = await answeredAtOnce(server, () =>
      fetch(`${server.url}/oauth2/v1/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' }),
    );
    expect(refused.status).toBe(401);
    expect(await refused.json()).toMatchObject({ error: 'invalid_client' });

    let members: string[] = [];
    const logged = await delayedRequest(server, 250, async () => {
      members = (await collect(await sswsClient().groupApi.listGroupUsers({ groupId: '00g-ops' }))).map((user) => user.id ?? '');
    });
    expect(members).toEqual(['00u05']);
    expect(logged?.path).toBe('/api/v1/groups/00g-ops/users');
  });
});
