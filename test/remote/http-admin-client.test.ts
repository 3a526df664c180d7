import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { AccessToken, TokenCredential } from '@azure/identity';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN, defineOperation } from '../../shared/admin/operation.js';
import { OPERATIONS } from '../../shared/admin/operations.js';
import { isAppError } from '../../shared/errors/app-error.js';
import { EntraTokens } from '../../shared/remote/entra-tokens.js';
import { HttpAdminClient, remoteAdminClient, requestOf } from '../../shared/remote/http-admin-client.js';
import { RemoteApi } from '../../shared/remote/remote-api.js';
import { remoteSettings } from '../../shared/remote/remote-settings.js';
import { problem, startApiStub, type ApiStub, type StubAnswer, type StubRequest } from '../fakes/api-stub.js';

/** The HTTP admin client, generic over the operations table: the requests it makes, and how it waits on a run. */
let stubs: ApiStub[] = [];
afterEach(async () => {
  await Promise.all(stubs.map((stub) => stub.close()));
  stubs = [];
});
async function stub(answer: (request: StubRequest) => StubAnswer): Promise<ApiStub> {
  const started = await startApiStub(answer);
  stubs.push(started);
  return started;
}
const settingsOf = (url: string, env: Record<string, string> = {}) => remoteSettings({ url }, env)!;

/** Enough of a run for waitForRun and the CLI's summary. */
const run = (state: string) => ({ runId: '20261201T120000000Z-abc123', connection: 'HR', state, dryRun: false, counts: {}, warnings: [] });

describe('the HTTP admin client', () => {
  it('makes each request from the operations table: path fields encoded once, query fields as text, JSON bodies', async () => {
    const api = await stub(() => ({ status: 200, body: {} }));
    const client = remoteAdminClient(settingsOf(api.url));
    await client.call('connections.sync', { name: 'HR/50% off', dryRun: true, resume: false });
    await client.call('connections.put', { name: 'HR', profile: { name: 'HR', type: 'csv' } });
    await client.call('groups.add', { name: 'Editors' });
    await client.call('groups.addMember', { name: 'Editors', username: 'jo' });
    await client.call('users.query', { q: 'jo local', limit: 5 });
    expect(api.requests.map(({ method, url, headers, body }) => ({ method, url, type: headers['content-type'], body: body.toString() }))).toEqual([
      { method: 'POST', url: '/api/connections/HR%2F50%25%20off/sync?dryRun=true&resume=false', type: undefined, body: '' },
      { method: 'PUT', url: '/api/connections/HR', type: 'application/json', body: '{"name":"HR","type":"csv"}' },
      { method: 'POST', url: '/api/groups', type: 'application/json', body: '{"name":"Editors"}' },
      { method: 'PUT', url: '/api/groups/Editors/members/jo', type: undefined, body: '' },
      { method: 'GET', url: '/api/users?q=jo+local&limit=5', type: undefined, body: '' },
    ]);
  });

  it('refuses an empty path field rather than sending a path that names another route', () => {
    expect(() => requestOf('connections.get', OPERATIONS['connections.get'], { name: '' })).toThrow(
      expect.objectContaining({ code: 'input-invalid', message: 'The input is invalid: name: required, it names what /api/connections/:name acts on.' }),
    );
  });

  it('streams a file as the body of an upload route, with its content type', async () => {
    const api = await stub(() => ({ status: 200, body: { bytes: 0 } }));
    const upload = defineOperation({
      role: ADMIN,
      input: z.strictObject({ name: z.string(), file: z.instanceof(Readable) }),
      http: { method: 'PUT', path: 'connections/:name/csv', body: { stream: 'file', contentTypes: ['text/csv'] } },
      run: async () => ({ bytes: 0 }),
    });
    await new RemoteApi(settingsOf(api.url), undefined).send(requestOf('test.upload', upload, { name: 'HR export', file: createReadStream('samples/people.csv') }));
    const [request] = api.requests;
    expect(request).toMatchObject({ method: 'PUT', url: '/api/connections/HR%20export/csv', headers: { 'content-type': 'text/csv', 'transfer-encoding': 'chunked' } });
    expect(request!.body.equals(await readFile('samples/people.csv'))).toBe(true);
  });

  it('waitForRun looks at the run until it ends, telling each state, and bears a few failures in a row', async () => {
    const answers = [run('listing'), 503, 503, run('reconciling'), run('succeeded')];
    const api = await stub(() => {
      const next = answers.shift()!;
      return typeof next === 'number' ? { status: next, body: 'restarting' } : { status: 200, body: next };
    });
    const client = new HttpAdminClient(new RemoteApi(settingsOf(api.url), undefined), OPERATIONS, { firstMs: 1, maxMs: 4, retries: 2 });
    const seen: string[] = [];
    const ended = await client.waitForRun('20261201T120000000Z-abc123', { onProgress: (progress) => seen.push(progress.state) });
    expect(ended.state).toBe('succeeded');
    expect(seen).toEqual(['listing', 'reconciling', 'succeeded']);
    expect(new Set(api.requests.map((request) => `${request.method} ${request.url}`))).toEqual(new Set(['GET /api/runs/20261201T120000000Z-abc123']));
  });

  it('waitForRun gives up after more failures in a row than it bears, and at once on a refusal', async () => {
    const down = await stub(() => ({ status: 503, body: 'down' }));
    const patient = new HttpAdminClient(new RemoteApi(settingsOf(down.url), undefined), OPERATIONS, { firstMs: 1, maxMs: 4, retries: 2 });
    await expect(patient.waitForRun('20261201T120000000Z-abc123')).rejects.toMatchObject({ code: 'api-unavailable' });
    expect(down.requests).toHaveLength(3);

    const gone = await stub(() => problem('run-not-found', 'There is no run 20261201T120000000Z-abc123.'));
    const client = new HttpAdminClient(new RemoteApi(settingsOf(gone.url), undefined), OPERATIONS, { firstMs: 1, maxMs: 4, retries: 2 });
    const refused = await client.waitForRun('20261201T120000000Z-abc123').catch((error: unknown) => error);
    expect(isAppError(refused) && [refused.code, refused.message]).toEqual(['run-not-found', 'There is no run 20261201T120000000Z-abc123.']);
    expect(gone.requests).toHaveLength(1);
  });

  it('asks the credential for a token once and keeps it while it is valid; one about to expire is replaced', async () => {
    const api = await stub(() => ({ status: 200, body: [] }));
    const issued: AccessToken[] = [
      { token: 'first', expiresOnTimestamp: Date.now() + 3_600_000 },
      { token: 'short-lived', expiresOnTimestamp: Date.now() + 60_000 },
      { token: 'renewed', expiresOnTimestamp: Date.now() + 3_600_000 },
    ];
    const credential: TokenCredential = { getToken: async (scopes) => (scopes === 'api://usersync-api/.default' ? issued.shift()! : null) };
    const tokens = new EntraTokens('api://usersync-api/.default', async () => credential);
    const client = new HttpAdminClient(new RemoteApi(settingsOf(api.url), tokens));
    for (let i = 0; i < 3; i++) await client.call('connections.list', {});
    const later = new EntraTokens('api://usersync-api/.default', async () => credential);
    const second = new HttpAdminClient(new RemoteApi(settingsOf(api.url), later));
    for (let i = 0; i < 2; i++) await second.call('connections.list', {});
    expect(api.requests.map((request) => request.headers.authorization)).toEqual(['Bearer first', 'Bearer first', 'Bearer first', 'Bearer short-lived', 'Bearer renewed']);
  });
});
