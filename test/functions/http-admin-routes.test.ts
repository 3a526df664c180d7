import { afterEach, describe, expect, it } from 'vitest';
import { handleApi } from '../../shared/http/api.js';
import { LOCAL_ADMIN } from '../../shared/http/caller.js';
import { startRun } from '../../shared/sync/pipeline/start-run.js';
import { jsonRequest, startApiHost, type ApiHost } from '../support/api-host.js';
import { awaitRunEnd, createTestApp, csvProfile, putProfile, uploadCsv } from '../support/test-app.js';

/**
 * The routes the operations table gave the API that it lacked: licences, adoption, a run's plan, local
 * groups and accounts, and joining the run that is still going — each with its success and its refusals.
 */
const CSV = 'username,email,firstName,lastName\nann,ann@example.org,Ann,Route\nbob,bob@example.org,Bob,Route\n';

describe('admin routes through the local host', () => {
  let server: ApiHost;
  afterEach(() => server?.stop());
  const start = async (env: Record<string, string> = {}) => (server = await startApiHost({ TEST_DEFAULT_PASSWORD: 'Routes-Initial-1', ...env }));
  const json = async (response: Response) => ({ status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as Record<string, unknown> });
  /** Syncs CSV through the API and waits for the run to end. */
  const synced = async ({ t, api }: ApiHost, content = CSV, query = '') => {
    await uploadCsv(t, 'routes.csv', content);
    const { runId } = (await (await api(`connections/Routes/sync${query}`, { method: 'POST' })).json()) as { runId: string };
    return awaitRunEnd(t, runId);
  };

  it('GET /licences shows licences in use and the limit; POST /licences/recount repairs a hand-edited ledger', async () => {
    const { t, api } = await start({ USERSYNC_LICENCE_LIMIT: '5' });
    await putProfile(t, csvProfile('Routes', 'routes.csv'));
    await synced(server);
    expect(await json(await api('licences'))).toMatchObject({ status: 200, body: { used: 2, limit: 5 } });
    await t.table('licencesTable').upsertEntity({ partitionKey: 'licence', rowKey: 'seats', used: 0, operations: '{}' }, 'Replace');
    expect(await json(await api('licences'))).toMatchObject({ body: { used: 0 } });
    expect(await json(await api('licences/recount', { method: 'POST' }))).toMatchObject({ status: 200, body: { used: 2, limit: 5 } });
    expect(await t.app.deps.licences.used()).toBe(2);
    const wrong = await api('licences/recount');
    expect([wrong.status, wrong.headers.get('allow')]).toEqual([405, 'POST, OPTIONS']);
  });

  it('POST /connections/{name}/adopt?dryRun=true lists, without it adopts; an unknown profile is 404', async () => {
    const { t, api } = await start();
    await putProfile(t, csvProfile('Routes', 'routes.csv'));
    expect(await json(await api('local-accounts', jsonRequest('POST', { username: 'cid', email: 'cid@intranet.example', firstName: 'Cid', lastName: 'Local' })))).toMatchObject({ status: 201 });
    expect((await synced(server, `${CSV}cid,cid@example.org,Cid,Route\n`)).counts).toMatchObject({ created: 2, conflict: 1 });

    const dry = await json(await api('connections/Routes/adopt?dryRun=true', { method: 'POST' }));
    expect(dry).toMatchObject({ status: 200, body: { connection: 'Routes', adoptions: [{ username: 'cid', sourceKey: 'cid' }], notes: [] } });
    expect((await t.app.deps.usernames.find('cid'))?.connection).toBe('local');
    expect(await json(await api('connections/Routes/adopt', { method: 'POST' }))).toMatchObject({ status: 200, body: { adoptions: [{ username: 'cid' }] } });
    expect((await t.app.deps.usernames.find('cid'))?.connection).toBe('Routes');

    expect(await json(await api('connections/Nobody/adopt', { method: 'POST' }))).toMatchObject({ status: 404, body: { code: 'connection-not-found' } });
    expect(await json(await api('connections/Routes/adopt?dryRun=1', { method: 'POST' }))).toMatchObject({ status: 400, body: { code: 'query-invalid', problems: [{ field: 'dryRun' }] } });
  });

  it("GET /runs/{id}/plan reads a dry run's plan again (never a password hash); a run that keeps none is 404", async () => {
    const { t, api } = await start();
    await putProfile(t, csvProfile('Routes', 'routes.csv'));
    const real = await synced(server);
    const dry = await synced(server, `${CSV.replace('Ann,Route', 'Anne,Route')}cid,cid@example.org,Cid,Route\nbad,,Bad,Route\n`, '?dryRun=true');
    expect(dry).toMatchObject({ state: 'succeeded', dryRun: true });

    const plan = await api(`runs/${dry.runId}/plan`);
    const text = await plan.text();
    expect(plan.status).toBe(200);
    expect(text).not.toMatch(/passwordHash|scrypt|Routes-Initial-1/);
    const body = JSON.parse(text) as { runId: string; changes: unknown[] };
    expect(body.runId).toBe(dry.runId);
    expect(body.changes).toEqual(
      expect.arrayContaining([
        { action: 'update', ref: 'row 2', username: 'ann', changedFields: ['firstName'] },
        { action: 'create', ref: 'row 4', username: 'cid', changedFields: ['username', 'email', 'firstName', 'lastName'] },
        { action: 'skip', ref: 'row 5', reason: 'missing-email', detail: expect.any(String) },
      ]),
    );
    expect(body.changes).toHaveLength(3);

    expect(await json(await api(`runs/${real.runId}/plan`))).toMatchObject({ status: 404, body: { code: 'not-found', detail: expect.stringContaining('keeps no plan') } });
    expect(await json(await api('runs/20260101T000000000Z-aaaaaa/plan'))).toMatchObject({ status: 404, body: { code: 'run-not-found' } });
  });

  it('POST /groups makes a local group; PUT /groups/{name}/members/{username} adds a member (again: no change)', async () => {
    const { t, api } = await start();
    await putProfile(t, csvProfile('Routes', 'routes.csv', { groupsColumn: 'groups', groups: { mode: 'all' } }));
    await synced(server, 'username,email,firstName,lastName,groups\nann,ann@example.org,Ann,Route,Synced\n');

    expect(await json(await api('groups', jsonRequest('POST', { name: 'Team' })))).toMatchObject({ status: 201, body: { name: 'Team', origin: 'local' } });
    expect(await json(await api('groups', jsonRequest('POST', { name: 'team' })))).toMatchObject({ status: 400, body: { code: 'body-invalid', detail: expect.stringContaining('already exists') } });
    expect(await json(await api('groups', jsonRequest('POST', ['Team'])))).toMatchObject({ status: 400, body: { code: 'body-invalid' } });
    expect(await json(await api('groups', jsonRequest('POST', { name: 7 })))).toMatchObject({ status: 400, body: { code: 'input-invalid', problems: [{ field: 'name' }] } });
    // Names a table key cannot hold, or a terminal would obey, are refused rather than stored.
    expect(await json(await api('groups', jsonRequest('POST', { name: 'x'.repeat(2000) })))).toMatchObject({ status: 400, body: { code: 'body-invalid', detail: expect.stringContaining('at most 256') } });
    expect(await json(await api('groups', jsonRequest('POST', { name: 'Team\u001b[2J' })))).toMatchObject({ status: 400, body: { code: 'body-invalid', detail: expect.stringContaining('U+001B') } });

    for (let i = 0; i < 2; i++) {
      expect(await json(await api('groups/Team/members/ANN', { method: 'PUT' }))).toMatchObject({ status: 200, body: { username: 'ann', localGroups: ['Team'] } });
    }
    expect(((await (await api('groups/team/members')).json()) as { username: string }[]).map((user) => user.username)).toEqual(['ann']);
    expect(await json(await api('groups/Nothing/members/ann', { method: 'PUT' }))).toMatchObject({ status: 404, body: { code: 'not-found' } });
    expect(await json(await api('groups/Team/members/nobody', { method: 'PUT' }))).toMatchObject({ status: 404, body: { code: 'user-not-found' } });
    expect(await json(await api('groups/Synced/members/ann', { method: 'PUT' }))).toMatchObject({ status: 409, body: { code: 'directory-owned', detail: expect.stringContaining('change its members there') } });
  });

  it('POST /local-accounts creates one (201, no password hash shown); refusals name what is wrong', async () => {
    const { api } = await start({ RITA_PASSWORD: 'Rita-Initial-1' });
    const rita = { username: 'rita', email: 'rita@intranet.example', firstName: 'Rita', lastName: 'Local' };
    const created = await api('local-accounts', jsonRequest('POST', { ...rita, passwordSetting: 'RITA_PASSWORD' }));
    const text = await created.text();
    expect(created.status).toBe(201);
    expect(JSON.parse(text)).toMatchObject({ username: 'rita', status: 'active', connection: 'local' });
    expect(text).not.toMatch(/passwordHash|Rita-Initial-1/);
    expect(await json(await api('users/rita'))).toMatchObject({ status: 200, body: { username: 'rita' } });

    expect(await json(await api('local-accounts', jsonRequest('POST', { ...rita, username: 'RITA' })))).toMatchObject({ status: 409, body: { code: 'username-taken' } });
    expect(await json(await api('local-accounts', jsonRequest('POST', { ...rita, username: 'rob', email: 'not-an-address' })))).toMatchObject({
      status: 400,
      body: { code: 'account-invalid', problems: [{ field: 'email' }] },
    });
    expect(await json(await api('local-accounts', jsonRequest('POST', { ...rita, username: 'rob', firstName: 'R'.repeat(100_000) })))).toMatchObject({
      status: 400,
      body: { code: 'account-invalid', problems: [{ field: 'firstName', message: 'at most 256 characters' }] },
    });
    expect(await json(await api('local-accounts', jsonRequest('POST', { ...rita, username: 'rob', passwordSetting: 'NOT_SET' })))).toMatchObject({
      status: 422,
      body: { code: 'secret-missing' },
    });
    expect(await json(await api('local-accounts', jsonRequest('POST', { ...rita, username: 'rob', password: 'in-clear' })))).toMatchObject({
      status: 400,
      body: { code: 'input-invalid', problems: [{ field: 'password', message: 'unknown field' }] },
    });
    expect((await api('users/rob')).status).toBe(404);
  });
});

describe('POST /connections/{name}/sync?resume=true', () => {
  it('answers the run still going (of the same kind) instead of 409; another kind is still refused', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Routes-Initial-1' });
    await uploadCsv(t, 'routes.csv', CSV);
    await putProfile(t, csvProfile('Routes', 'routes.csv'));
    // Started, and nobody working the queues: it stays active.
    const going = await startRun(t.app.deps, { connection: 'Routes', trigger: 'manual', startedBy: 'cli:tester' });
    const sync = (query: string) => handleApi(t.app, { method: 'POST', path: 'connections/Routes/sync', query: new URLSearchParams(query) }, LOCAL_ADMIN);

    expect(await sync('')).toMatchObject({ status: 409, jsonBody: { code: 'run-active', runId: going.runId } });
    expect(await sync('resume=true')).toMatchObject({
      status: 202,
      headers: { location: `/api/runs/${going.runId}` },
      jsonBody: { runId: going.runId, connection: 'Routes', state: 'listing', kind: 'full', dryRun: false, resumed: true },
    });
    expect(await sync('resume=true&dryRun=true')).toMatchObject({ status: 409, jsonBody: { code: 'run-active', detail: expect.stringContaining('asks for another kind of run') } });
    expect(await t.app.deps.runs.list({ connection: 'Routes', limit: 10 })).toHaveLength(1);
  });
});
