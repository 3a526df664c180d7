import { afterEach, describe, expect, it } from 'vitest';
import { startApiHost, jsonRequest, type ApiHost } from '../support/api-host.js';
import { awaitRunEnd, csvProfile, putProfile, uploadCsv } from '../support/test-app.js';

const FILE = 'username,email,firstName,lastName,manager,groups\nann,ann@example.org,Ann,Api,,Intranet-All\nbob,bob@example.org,Bob,Api,ann,Intranet-All;Intranet-Dev\ncid,cid@example.org,Cid,Api,bob,\n';

/** Each test has its own app and host: any one of them passes alone. */
describe('HTTP API through the local host', () => {
  let server: ApiHost;
  const start = async (): Promise<ApiHost> => (server = await startApiHost({ TEST_DEFAULT_PASSWORD: 'Api-Initial-1' }));
  afterEach(() => server?.stop());

  /** A profile of FILE with managers and groups, synced through the API. */
  const synced = async ({ t, api }: ApiHost): Promise<string> => {
    await uploadCsv(t, 'api.csv', FILE);
    await putProfile(t, csvProfile('Api', 'api.csv', { managerField: 'manager', groupsColumn: 'groups', groups: { mode: 'all' } }));
    const { runId } = (await (await api('connections/Api/sync', { method: 'POST' })).json()) as { runId: string };
    await awaitRunEnd(t, runId);
    return runId;
  };

  it('PUT creates (201) then replaces (200) a profile; GET shows it with secret names only', async () => {
    const { api } = await start();
    const profile = { ...csvProfile('Api', 'api.csv'), managerField: 'manager', groupsColumn: 'groups', groups: { mode: 'all' } };
    const created = await api('connections/Api', jsonRequest('PUT', profile));
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name: 'Api', type: 'csv', directoryKey: expect.stringMatching(/^dk/) });
    expect((await api('connections/Api', jsonRequest('PUT', profile))).status).toBe(200);
    const shown = (await (await api('connections/Api')).json()) as { profile: Record<string, unknown> };
    expect(shown.profile).toMatchObject({ defaultPasswordSecret: 'TEST_DEFAULT_PASSWORD' });
    expect(JSON.stringify(shown)).not.toContain('Api-Initial-1');
  });

  it('400 lists every invalid field; malformed JSON is 400; a body over 1 MB is 413', async () => {
    const { api } = await start();
    const invalid = await api('connections/Bad', jsonRequest('PUT', { type: 'csv', source: { kind: 'https', url: 'ftp://x' }, schedule: { kind: 'interval', minutes: 1 } }));
    expect(invalid.status).toBe(400);
    expect(invalid.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const problem = (await invalid.json()) as { code: string; problems: { field: string }[] };
    expect(problem.code).toBe('profile-invalid');
    expect(problem.problems.map((p) => p.field).sort()).toEqual(['schedule.minutes', 'source.url']);
    const malformed = await api('connections/Bad', { method: 'PUT', body: '{ not json' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ code: 'body-invalid' });
    const huge = await api('connections/Bad', { method: 'PUT', body: JSON.stringify({ filler: 'x'.repeat(1024 * 1024 + 10) }) });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ code: 'body-too-large' });
  });

  it('syncs, then serves users (paged), a user, groups and members, the org chart and the audit trail (paged)', async () => {
    const { api } = await start();
    const runId = await synced(server);
    expect(await (await api(`runs/${runId}`)).json()).toMatchObject({ state: 'succeeded', counts: { created: 3 } });

    const page = (await (await api('users?connection=Api')).json()) as { users: { username: string; passwordHash?: string }[]; continuationToken?: string };
    expect(page.users.map((u) => u.username)).toEqual(['ann', 'bob', 'cid']);
    expect(page.continuationToken).toBeUndefined();
    expect(page.users.some((u) => 'passwordHash' in u)).toBe(false);
    expect(await (await api('users/BOB')).json()).toMatchObject({ username: 'bob', managerKey: 'ann', groups: ['Intranet-All', 'Intranet-Dev'] });
    expect((await api('users/nobody')).status).toBe(404);
    expect(((await (await api('groups')).json()) as { name: string }[]).map((g) => g.name)).toEqual(['Intranet-All', 'Intranet-Dev']);
    expect(((await (await api('groups/intranet-all/members')).json()) as { username: string }[]).map((u) => u.username)).toEqual(['ann', 'bob']);
    const chart = (await (await api('orgchart/bob')).json()) as { managers: { username: string }[]; directReports: { username: string }[] };
    expect(chart.managers.map((u) => u.username)).toEqual(['ann']);
    expect(chart.directReports.map((u) => u.username)).toEqual(['cid']);

    const first = (await (await api(`audit?run=${runId}&action=created&limit=2`)).json()) as { records: { subject: string }[]; continuationToken?: string };
    expect(first.records).toHaveLength(2);
    expect(first.continuationToken).toBeDefined();
    const second = (await (await api(`audit?run=${runId}&action=created&limit=2&continuationToken=${encodeURIComponent(first.continuationToken!)}`)).json()) as { records: { subject: string }[] };
    expect([...first.records, ...second.records].map((r) => r.subject).sort()).toEqual(['ann', 'bob', 'cid']);
  });

  it('test answers 200 with what it read; a CSV profile has no groups to pick', async () => {
    const { t, api } = await start();
    await uploadCsv(t, 'api.csv', FILE);
    await putProfile(t, csvProfile('Api', 'api.csv'));
    const tested = await api('connections/Api/test', { method: 'POST' });
    expect(tested.status).toBe(200);
    expect(await tested.json()).toEqual({ ok: true, detail: expect.stringContaining('6 columns'), warnings: [] });
    const groups = await api('connections/Api/groups/available');
    expect(groups.status).toBe(400);
    expect(await groups.json()).toMatchObject({ code: 'profile-invalid' });
  });

  it('405 names the allowed methods; DELETE is refused while a run is active, then disables the users, never deleting them', async () => {
    const { t, api } = await start();
    await synced(server);
    const wrong = await api('connections/Api/test');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST, OPTIONS');
    const started = (await (await api('connections/Api/sync', { method: 'POST' })).json()) as { runId: string };
    const refused = await api('connections/Api', { method: 'DELETE' });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ code: 'run-active', runId: started.runId });
    await awaitRunEnd(t, started.runId);
    const deleted = await api('connections/Api', { method: 'DELETE' });
    expect(await deleted.json()).toEqual({ disabled: 3 });
    expect((await api('connections/Api')).status).toBe(404);
    const bob = (await (await api('users/bob')).json()) as { status: string; disabledReason: string };
    expect(bob).toMatchObject({ status: 'disabled', disabledReason: 'connection-deleted' });
    const audit = (await (await api('audit?action=connection-deleted')).json()) as { records: { detail: string }[] };
    expect(audit.records[0]?.detail).toMatch(/"Api" deleted by .+; 3 user\(s\) disabled/);
  });
});
