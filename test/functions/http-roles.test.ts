import { randomUUID } from 'node:crypto';
// Default import: the library's classes are not named exports in Node ESM (see shared/host/invocations.ts).
import azureFunctions from '@azure/functions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionDefinitions } from '../../functions/registry.js';
import { ADMIN, type Operation } from '../../shared/admin/operation.js';
import { OPERATIONS, type OperationName } from '../../shared/admin/operations.js';
import { isHttpFunction } from '../../shared/app/registry.js';
import { callerOf } from '../../shared/http/caller.js';
import { LocalHost } from '../../shared/host/local-host.js';
import { startRun } from '../../shared/sync/pipeline/start-run.js';
import { startApiHost } from '../support/api-host.js';
import { browserSession } from '../support/easy-auth.js';
import { createTestApp, csvProfile, putProfile, uploadCsv, type TestApp } from '../support/test-app.js';

/**
 * Who may do what over HTTP: the caller's app roles come from Easy Auth's x-ms-client-principal when the
 * platform says Easy Auth is on (WEBSITE_AUTH_ENABLED=True), from nothing otherwise; the local host acts
 * as an admin. The headers here are what Easy Auth passes: base64 JSON of the token's mapped claims.
 */
const ROLE_URI = 'http://schemas.microsoft.com/ws/2008/06/identity/claims/role';
const SCOPE_URI = 'http://schemas.microsoft.com/identity/claims/scope';
const OBJECT_ID_URI = 'http://schemas.microsoft.com/identity/claims/objectidentifier';
const AUTOMATION_APP_ID = '6f1c2a57-0c8e-4d7b-9f0a-3b5e8d2c1a90';

function easyAuth(claims: [typ: string, val: string][], name?: string): Record<string, string> {
  const principal = {
    auth_typ: 'aad',
    claims: claims.map(([typ, val]) => ({ typ, val })),
    name_typ: 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name',
    role_typ: ROLE_URI,
  };
  return {
    // Easy Auth passes on the bearer token it validated: these are a client's requests (the CLI, automation).
    authorization: 'Bearer eyJ0eXAiOiJKV1QifQ.test.signature',
    'x-ms-client-principal': Buffer.from(JSON.stringify(principal)).toString('base64'),
    'x-ms-client-principal-idp': 'aad',
    ...(name ? { 'x-ms-client-principal-name': name } : {}),
  };
}

/** A person's token (delegated: it carries scopes), with their app roles as Easy Auth maps them. */
function user(upn: string, ...roles: string[]): Record<string, string> {
  return easyAuth([[SCOPE_URI, 'user_impersonation'], ['preferred_username', upn], [OBJECT_ID_URI, randomUUID()], ...roles.map((role): [string, string] => [ROLE_URI, role])], upn);
}

/** An app's own token (client credentials: automation): no scope, its app roles in `roles`. */
function app(appId: string, ...roles: string[]): Record<string, string> {
  return easyAuth([['azp', appId], [OBJECT_ID_URI, randomUUID()], ['idtyp', 'app'], ...roles.map((role): [string, string] => ['roles', role])]);
}

const reader = user('rita@contoso.com', 'UserSync.Reader');
const admin = user('ann@contoso.com', 'UserSync.Admin');
const automation = app(AUTOMATION_APP_ID, 'UserSync.Admin');
const CSV = 'username,email,firstName,lastName\nann,ann@example.org,Ann,Roles\n';

describe('behind Easy Auth (the platform sets WEBSITE_AUTH_ENABLED=True)', () => {
  let t: TestApp;
  let host: LocalHost;
  let runId: string;
  const call = async (method: string, path: string, headers: Record<string, string>, body?: string) => {
    const response = await fetch(`${host.httpUrl}/api/${path}`, { method, headers: { ...headers, 'content-type': 'application/json' }, ...(body !== undefined ? { body } : {}) });
    return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    t = await createTestApp({ WEBSITE_AUTH_ENABLED: 'True', TEST_DEFAULT_PASSWORD: 'Roles-Initial-1' });
    await uploadCsv(t, 'roles.csv', CSV);
    await putProfile(t, csvProfile('Roles', 'roles.csv'));
    await putProfile(t, csvProfile('Automation', 'roles.csv'));
    // No queue workers: a run started here stays active, for confirm and cancel to be refused on.
    runId = (await startRun(t.app.deps, { connection: 'Roles', trigger: 'manual', startedBy: 'cli:tester' })).runId;
    host = new LocalHost(functionDefinitions(t.app).filter(isHttpFunction), { connectionString: t.env.AzureWebJobsStorage!, httpPort: 0, log: () => undefined });
    await host.start();
  });
  afterAll(() => host?.stop());

  /** Every change the API routes (the CSV upload too, once it has its route), on real names. */
  const changes = (Object.keys(OPERATIONS) as OperationName[]).flatMap((name) => {
    const { role, http } = OPERATIONS[name] as Operation;
    return role === ADMIN && http ? [{ name, method: http.method, path: http.path }] : [];
  });

  it('a Reader is refused every change — sync, confirm, cancel, reset, delete… — with 403 problem+json naming UserSync.Admin, and nothing changes', async () => {
    expect(changes.map(({ name }) => name)).toEqual(expect.arrayContaining(['connections.sync', 'runs.confirm', 'runs.cancel', 'connections.reset', 'connections.delete', 'connections.put']));
    for (const { name, method, path } of changes) {
      const concrete = path.replace(':name', 'Roles').replace(':id', runId).replace(':username', 'ann');
      const refused = await call(method, concrete, reader, method === 'GET' ? undefined : '{}');
      expect([name, refused.status, refused.type]).toEqual([name, 403, 'application/problem+json']);
      expect(refused.body).toMatchObject({ code: 'forbidden', role: 'UserSync.Admin', detail: expect.stringContaining(`needs the UserSync.Admin role (${name}); user:rita@contoso.com has UserSync.Reader`) });
    }
    expect(await t.app.deps.runs.get(runId)).toMatchObject({ state: 'listing' });
    expect((await t.app.deps.runs.list({ limit: 10 })).map((run) => run.runId)).toEqual([runId]);
    const roles = await t.app.deps.connections.get('Roles');
    expect(roles?.state.resetRequestedAt).toBeUndefined();
    expect(roles).toMatchObject({ profile: { source: { kind: 'blob', blobName: 'roles.csv' } } });
  });

  it('a Reader reads: connections, runs, the audit trail, users, groups, licences', async () => {
    for (const path of ['connections', 'connections/Roles', 'runs', `runs/${runId}`, 'audit', 'users', 'groups', 'licences']) {
      expect([path, (await call('GET', path, reader)).status]).toEqual([path, 200]);
    }
  });

  it('a principal without a role of this app is refused even reads (403 naming UserSync.Reader); an unreadable header is no principal (403, not 500)', async () => {
    for (const headers of [user('nina@contoso.com'), user('olaf@contoso.com', 'Directory.Admin', 'UserSync.Owner')]) {
      const refused = await call('GET', 'connections', headers);
      expect(refused).toMatchObject({ status: 403, type: 'application/problem+json', body: { code: 'forbidden', role: 'UserSync.Reader', detail: expect.stringContaining('has no role of this app') } });
    }
    for (const garbage of ['not base64 at all!', Buffer.from('{"claims": 5}').toString('base64')]) {
      const refused = await call('GET', 'connections', { 'x-ms-client-principal': garbage, 'x-ms-client-principal-name': 'ann@contoso.com' });
      expect(refused).toMatchObject({ status: 403, body: { code: 'forbidden', detail: expect.stringContaining('anonymous has no role of this app') } });
    }
  });

  it('automation: an app holding UserSync.Admin (client credentials) syncs and cancels; each change names who made it', async () => {
    const started = await call('POST', 'connections/Automation/sync', automation);
    expect(started).toMatchObject({ status: 202, body: { connection: 'Automation', state: 'listing' } });
    const automated = String(started.body.runId);
    expect(await call('POST', `runs/${automated}/cancel`, automation)).toMatchObject({ status: 200, body: { state: 'cancelled', warnings: expect.arrayContaining([expect.stringContaining(`Cancelled by app:${AUTOMATION_APP_ID}`)]) } });

    const byHand = String((await call('POST', 'connections/Automation/sync', admin)).body.runId);
    expect(await call('POST', `runs/${byHand}/cancel`, admin)).toMatchObject({ status: 200, body: { warnings: expect.arrayContaining([expect.stringContaining('Cancelled by ann@contoso.com')]) } });
    // The audit trail names each caller as Easy Auth identified it.
    const actors = async (id: string) => new Set((await t.app.deps.audit.query({ runId: id, limit: 100 })).records.map((record) => `${record.action} ${record.actor}`));
    expect(await actors(automated)).toEqual(new Set([`run-started app:${AUTOMATION_APP_ID}`, `run-cancelled app:${AUTOMATION_APP_ID}`]));
    expect(await actors(byHand)).toEqual(new Set(['run-started user:ann@contoso.com', 'run-cancelled user:ann@contoso.com']));
  });
});

describe('GET /api/me: who is signed in, for every caller, one without a role too', () => {
  let host: LocalHost;
  const me = async (headers: Record<string, string>) => {
    const response = await fetch(`${host.httpUrl}/api/me`, { headers });
    return { status: response.status, body: (await response.json()) as unknown };
  };
  beforeAll(async () => {
    const t = await createTestApp({ WEBSITE_AUTH_ENABLED: 'True' });
    host = new LocalHost(functionDefinitions(t.app).filter(isHttpFunction), { connectionString: t.env.AzureWebJobsStorage!, httpPort: 0, log: () => undefined });
    await host.start();
  });
  afterAll(() => host?.stop());

  it("answers the actor, a readable name and the roles Easy Auth's principal holds", async () => {
    expect(await me(admin)).toEqual({ status: 200, body: { actor: 'user:ann@contoso.com', name: 'ann@contoso.com', roles: ['UserSync.Admin'] } });
    expect(await me(reader)).toEqual({ status: 200, body: { actor: 'user:rita@contoso.com', name: 'rita@contoso.com', roles: ['UserSync.Reader'] } });
    expect(await me(automation)).toEqual({ status: 200, body: { actor: `app:${AUTOMATION_APP_ID}`, name: `an app (${AUTOMATION_APP_ID})`, roles: ['UserSync.Admin'] } });
    expect(await me(browserSession('sam@contoso.com', ['UserSync.Admin']))).toEqual({ status: 200, body: { actor: 'user:sam@contoso.com', name: 'sam@contoso.com', roles: ['UserSync.Admin'] } });
  });

  it('a caller with no role learns that it has none (200, not 403); one nothing identified is no one', async () => {
    expect(await me(user('nina@contoso.com'))).toEqual({ status: 200, body: { actor: 'user:nina@contoso.com', name: 'nina@contoso.com', roles: [] } });
    expect(await me({})).toEqual({ status: 200, body: { actor: 'anonymous', name: 'no one signed in', roles: [] } });
  });

  it('the local host: the local admin', async () => {
    const server = await startApiHost();
    try {
      expect(await (await server.api('me')).json()).toEqual({ actor: 'api', name: 'local admin', roles: ['UserSync.Admin'] });
    } finally {
      await server.stop();
    }
  });
});

describe('a browser signed in to the console (Easy Auth session cookie, no bearer token)', () => {
  it('is named by its UPN, not taken for an app; its changes need X-UserSync-Client (CSRF), reads do not', async () => {
    const t = await createTestApp({ WEBSITE_AUTH_ENABLED: 'True', TEST_DEFAULT_PASSWORD: 'Roles-Initial-1' });
    await uploadCsv(t, 'roles.csv', CSV);
    await putProfile(t, csvProfile('Roles', 'roles.csv'));
    const host = new LocalHost(functionDefinitions(t.app).filter(isHttpFunction), { connectionString: t.env.AzureWebJobsStorage!, httpPort: 0, log: () => undefined });
    await host.start();
    try {
      const sam = browserSession('sam@contoso.com', ['UserSync.Admin']);
      const sync = (headers: Record<string, string>) => fetch(`${host.httpUrl}/api/connections/Roles/sync`, { method: 'POST', headers });
      const forged = await sync(sam);
      expect([forged.status, ((await forged.json()) as { code: string }).code]).toEqual([403, 'client-header-missing']);
      expect(await t.app.deps.runs.list({ limit: 10 })).toEqual([]);
      expect((await fetch(`${host.httpUrl}/api/connections`, { headers: sam })).status).toBe(200);

      const started = await sync({ ...sam, 'x-usersync-client': 'console' });
      expect(started.status).toBe(202);
      const { runId } = (await started.json()) as { runId: string };
      const audit = await t.app.deps.audit.query({ runId, limit: 10 });
      expect(audit.records.map((record) => `${record.action} ${record.actor}`)).toEqual(['run-started user:sam@contoso.com']);
    } finally {
      await host.stop();
    }
  });
});

describe('without Easy Auth: the HTTP function as the Functions host invokes it', () => {
  it.each<Record<string, string>>([{}, { WEBSITE_AUTH_ENABLED: 'False' }])('ignores a forged principal header (env %j): every request is anonymous, refused with 403', async (env) => {
    const t = await createTestApp({ ...env, TEST_DEFAULT_PASSWORD: 'Roles-Initial-1' });
    await uploadCsv(t, 'roles.csv', CSV);
    await putProfile(t, csvProfile('Roles', 'roles.csv'));
    const api = functionDefinitions(t.app).find(isHttpFunction)!;
    const invoke = async (method: string, path: string) => {
      const request = new azureFunctions.HttpRequest({ method, url: `https://usersync.azurewebsites.net/api/${path}`, headers: { ...admin, ...automation } });
      return api.handler(request, new azureFunctions.InvocationContext({ functionName: api.name }));
    };
    for (const [method, path] of [['GET', 'connections'], ['POST', 'connections/Roles/sync'], ['DELETE', 'connections/Roles']] as const) {
      expect(await invoke(method, path)).toMatchObject({
        status: 403,
        headers: { 'content-type': 'application/problem+json' },
        jsonBody: { code: 'forbidden', detail: expect.stringMatching(/anonymous has no role of this app\. Nothing identified this request: .*Easy Auth/) },
      });
    }
    expect(await t.app.deps.runs.list({ limit: 10 })).toEqual([]);
    expect(await t.app.deps.connections.get('Roles')).toBeDefined();
  });
});

describe('the local host (npm start: 127.0.0.1 only)', () => {
  it('acts as an admin whatever the request says, Easy Auth or not', async () => {
    const server = await startApiHost({ WEBSITE_AUTH_ENABLED: 'True', TEST_DEFAULT_PASSWORD: 'Roles-Initial-1' });
    try {
      await putProfile(server.t, csvProfile('Roles', 'roles.csv'));
      for (const headers of [{}, user('nina@contoso.com'), reader]) {
        expect((await server.api('connections/Roles/reset', { method: 'POST', headers })).status).toBe(202);
      }
    } finally {
      await server.stop();
    }
  });
});

describe("callerOf: the claims of Easy Auth's principal", () => {
  const caller = (headers: Record<string, string>) => callerOf('easy-auth', new Headers(headers));

  it("takes this app's roles from `roles` claims or those of the principal's role_typ, and no other role", () => {
    expect(caller(user('ann@contoso.com', 'UserSync.Reader', 'UserSync.Admin', 'Global.Admin'))).toEqual({ actor: 'user:ann@contoso.com', roles: ['UserSync.Admin', 'UserSync.Reader'] });
    expect(caller(app(AUTOMATION_APP_ID, 'UserSync.Reader'))).toEqual({ actor: `app:${AUTOMATION_APP_ID}`, roles: ['UserSync.Reader'] });
    expect(caller(easyAuth([['scp', 'user_impersonation'], ['upn', 'bo@contoso.com'], ['http://example.org/role', 'UserSync.Admin']])).roles).toEqual([]);
  });

  it('names a user by x-ms-client-principal-name, else preferred_username or upn; an app by appid (v1) or azp (v2), told apart by idtyp or the lack of a scope', () => {
    expect(caller(easyAuth([['scp', 'user_impersonation'], ['preferred_username', 'bo@contoso.com']])).actor).toBe('user:bo@contoso.com');
    expect(caller(easyAuth([[SCOPE_URI, 'user_impersonation'], ['http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn', 'cy@contoso.com']])).actor).toBe('user:cy@contoso.com');
    expect(caller(easyAuth([['appid', AUTOMATION_APP_ID], ['roles', 'UserSync.Admin']]))).toEqual({ actor: `app:${AUTOMATION_APP_ID}`, roles: ['UserSync.Admin'] });
    expect(caller(easyAuth([['idtyp', 'user'], ['preferred_username', 'di@contoso.com'], ['azp', AUTOMATION_APP_ID]])).actor).toBe('user:di@contoso.com');
  });

  it('trusts no header but where Easy Auth vouches for it', () => {
    expect(callerOf('none', new Headers(admin))).toEqual({ actor: 'anonymous', roles: [] });
    expect(callerOf('local-host', new Headers(reader))).toEqual({ actor: 'api', roles: ['UserSync.Admin'] });
    expect(caller({})).toEqual({ actor: 'anonymous', roles: [] });
  });
});
