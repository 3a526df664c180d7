import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiHost, type ApiHost } from '../support/api-host.js';
import { csvProfile, putProfile, uploadCsv } from '../support/test-app.js';

/**
 * Cross-site request forgery: a page on another site can make the browser of an admin signed in to the app
 * (Easy Auth's cookie) — or of anyone at the machine running the local host — send a form to the API. It
 * cannot add a header, so a change must carry X-UserSync-Client or a bearer token (which no browser adds by
 * itself); reads need neither. test/functions/http-roles.test.ts checks a signed-in browser behind Easy Auth.
 */
describe('the API refuses a change a cross-site form could send', () => {
  let server: ApiHost;
  /** As a browser sends it: no X-UserSync-Client unless given (the `api` helper would add one). */
  const send = (path: string, init: RequestInit) => fetch(`${server.host.httpUrl}/api/${path}`, init);

  beforeAll(async () => {
    server = await startApiHost({ TEST_DEFAULT_PASSWORD: 'Csrf-Initial-1' });
    await uploadCsv(server.t, 'csrf.csv', 'username,email,firstName,lastName\nann,ann@example.org,Ann,Csrf\n');
    await putProfile(server.t, csvProfile('Csrf', 'csrf.csv'));
  });
  afterAll(() => server?.stop());

  it('without X-UserSync-Client or a bearer token: 403 problem+json client-header-missing, saying what to send, and nothing changes', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' };
    const attempts: [string, string, string | undefined][] = [
      ['POST', 'connections/Csrf/sync', 'dryRun=false'],
      ['POST', 'connections/Csrf/reset', undefined],
      ['DELETE', 'connections/Csrf', undefined],
      ['PUT', 'connections/Forged', JSON.stringify(csvProfile('Forged', 'csrf.csv'))],
      ['POST', 'local-accounts', JSON.stringify({ username: 'mallory', email: 'm@evil.example', firstName: 'M', lastName: 'Allory' })],
      ['PATCH', 'connections/Csrf', '{}'],
    ];
    for (const [method, path, body] of attempts) {
      for (const headers of [form, { ...form, 'x-usersync-client': '  ' }, { ...form, authorization: 'Basic YWRtaW46YWRtaW4=' }]) {
        const refused = await send(path, { method, headers, ...(body === undefined ? {} : { body }) });
        expect([method, path, refused.status, refused.headers.get('content-type')]).toEqual([method, path, 403, 'application/problem+json']);
        expect(await refused.json()).toMatchObject({ code: 'client-header-missing', detail: expect.stringContaining('needs the header X-UserSync-Client') });
      }
    }
    const { deps } = server.t.app;
    expect(await deps.runs.list({ limit: 10 })).toEqual([]);
    expect((await deps.connections.list()).map(({ profile }) => profile.name)).toEqual(['Csrf']);
    expect((await deps.connections.get('Csrf'))?.state.resetRequestedAt).toBeUndefined();
    expect(await deps.usernames.find('mallory')).toBeUndefined();
  });

  it('with X-UserSync-Client (the console sends `console`, the CLI `cli`): the change is made', async () => {
    const reset = await send('connections/Csrf/reset', { method: 'POST', headers: { 'X-UserSync-Client': 'console' } });
    expect(reset.status).toBe(202);
    expect((await server.t.app.deps.connections.get('Csrf'))?.state.resetRequestedAt).toEqual(expect.any(String));
  });

  it('with a bearer token (a client of its own, never a browser by itself): the change is made', async () => {
    const started = await send('connections/Csrf/sync?dryRun=true', { method: 'POST', headers: { Authorization: 'Bearer eyJ0eXAiOiJKV1QifQ.body.sig' } });
    expect(started.status).toBe(202);
    const { runId } = (await started.json()) as { runId: string };
    expect(await server.t.app.deps.runs.get(runId)).toMatchObject({ connection: 'Csrf', dryRun: true });
  });

  it('reads need no header; a preflight from another site is never allowed (no Access-Control-Allow-*)', async () => {
    expect((await send('connections', { method: 'GET' })).status).toBe(200);
    const preflight = await send('connections/Csrf/sync', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-usersync-client' },
    });
    expect(preflight.status).toBe(204);
    expect([...preflight.headers.keys()].filter((name) => name.startsWith('access-control-'))).toEqual([]);
  });
});
