import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost } from '../../shared/host/local-host.js';
import { scriptFetch } from '../support/api-host.js';
import { createTestApp, csvProfile, putProfile, type TestApp } from '../support/test-app.js';

/** Issue 13: what PUT /connections/{name} refuses (items 2, 4, 7) and how earlier profiles read back. */
describe('connection profiles over HTTP: what a save refuses', () => {
  let t: TestApp;
  let host: LocalHost;
  const api = (path: string, init?: RequestInit) => scriptFetch(`${host.httpUrl}/api/${path}`, init);
  const put = (name: string, body: unknown) => api(`connections/${encodeURIComponent(name)}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const okta = { type: 'okta', credential: { kind: 'token', tokenSecret: 'OKTA_TOKEN' }, selectedGroups: ['g1'], schedule: { kind: 'off' } };

  /** Everything the app wrote to the tables a secret could reach. */
  const tableText = async () => {
    const rows: unknown[] = [];
    for (const name of ['connectionsTable', 'auditTable', 'runsTable'] as const) for await (const row of t.table(name).listEntities()) rows.push(row);
    return JSON.stringify(rows);
  };

  beforeAll(async () => {
    t = await createTestApp();
    host = new LocalHost(t.definitions, { connectionString: t.env.AzureWebJobsStorage!, httpPort: 0, pollIntervalMs: 20, queues: { maxPollingIntervalMs: 100, visibilityTimeoutMs: 200 }, log: () => undefined });
    await host.start();
  });
  afterAll(() => host.stop());

  it.each(['(a)\\1', '(?=x)', '(?<=x)'])('400 profile-invalid for %s, which RE2 cannot run, naming groups.pattern', async (pattern) => {
    const response = await put('Lookaround', csvProfile('Lookaround', 'x.csv', { groupsColumn: 'groups', groups: { mode: 'regex', pattern } }));
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const problem = (await response.json()) as { code: string; detail: string; problems: { field: string; message: string }[] };
    expect(problem.code).toBe('profile-invalid');
    expect(problem.problems).toEqual([{ field: 'groups.pattern', message: expect.stringMatching(/(back-references|look-around) .* not supported; group patterns use RE2 syntax/) }]);
    expect((await api('connections/Lookaround')).status).toBe(404);
  });

  it.each(['(a|a)*$', '(a|aa)+$', '^(a|ab|b)*c$'])('saves %s: it cannot hang RE2', async (pattern) => {
    const name = `Linear ${pattern.length}`;
    const response = await put(name, csvProfile(name, 'x.csv', { groupsColumn: 'groups', groups: { mode: 'regex', pattern } }));
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ profile: { groups: { mode: 'regex', pattern } } });
  });

  it('400 lists every unknown key, nested ones included, and stores nothing', async () => {
    const response = await put('Typos', {
      ...csvProfile('Typos', 'x.csv'),
      colummMap: { Dept: 'department' },
      disableGuard: { maxPercnt: 20 },
      groups: { mode: 'all', keepLocalGroup: true },
    });
    expect(response.status).toBe(400);
    const problem = (await response.json()) as { code: string; detail: string; problems: { field: string; message: string }[] };
    expect(problem.code).toBe('profile-invalid');
    expect(problem.problems.map((p) => `${p.field}: ${p.message}`).sort()).toEqual([
      'colummMap: unknown key (did you mean columnMap?)',
      'disableGuard.maxPercnt: unknown key (did you mean maxPercent?)',
      'groups.keepLocalGroup: unknown key (did you mean keepLocalGroups?)',
    ]);
    for (const field of ['colummMap', 'disableGuard.maxPercnt', 'groups.keepLocalGroup']) expect(problem.detail).toContain(`${field}: unknown key`);
    expect((await api('connections/Typos')).status).toBe(404);
  });

  it.each<[string, string, unknown]>([
    ['a CSV URL', 'source.url', csvProfile('Creds', 'x.csv', { source: { kind: 'https', url: 'https://user:s3cret@hr.example.com/x.csv' } })],
    ['an Okta org URL', 'orgUrl', { ...okta, orgUrl: 'https://admin:s3cret@example.okta.com' }],
  ])('400 for credentials in %s, naming the field; the password reaches no response and no table', async (_name, field, profile) => {
    const response = await put('Creds', profile);
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(JSON.parse(text)).toMatchObject({ code: 'profile-invalid', problems: [{ field, message: expect.stringMatching(/^the URL must not contain a username or password; /) }] });
    expect(text).not.toContain('s3cret');
    expect((await api('connections/Creds')).status).toBe(404);
    expect(await tableText()).not.toContain('s3cret');
  });
});

describe('connection profiles over HTTP: one saved by an earlier version', () => {
  let t: TestApp;
  let host: LocalHost;
  const api = (path: string, init?: RequestInit) => scriptFetch(`${host.httpUrl}/api/${path}`, init);
  const remote = (name: string) => csvProfile(name, 'unused', { source: { kind: 'https', url: 'https://hr.example.com/people.csv', username: 'sync', passwordSecret: 'HR_PASSWORD' } });

  /** Rewrites the stored profile as an earlier version could have saved it (the store refuses to). */
  const storeAsEarlierVersion = async (name: string, change: (profile: Record<string, unknown>) => Record<string, unknown>) => {
    await putProfile(t, remote(name));
    const table = t.table('connectionsTable');
    for await (const row of table.listEntities<{ profile: string }>()) {
      const profile = JSON.parse(row.profile) as Record<string, unknown>;
      if (profile.name === name) await table.updateEntity({ partitionKey: row.partitionKey!, rowKey: row.rowKey!, profile: JSON.stringify(change(profile)) }, 'Merge');
    }
  };

  beforeAll(async () => {
    t = await createTestApp({ HR_PASSWORD: 'not-used' });
    host = new LocalHost(t.definitions, { connectionString: t.env.AzureWebJobsStorage!, httpPort: 0, pollIntervalMs: 20, queues: { maxPollingIntervalMs: 100, visibilityTimeoutMs: 200 }, log: () => undefined });
    await host.start();
  });
  afterAll(() => host.stop());

  it('with credentials in its URL: lists without them, names the problem, and refuses to sync until saved again', async () => {
    await storeAsEarlierVersion('Legacy', (profile) => ({ ...profile, source: { ...(profile.source as object), url: 'https://sync:s3cret@hr.example.com/people.csv' } }));

    const listed = await (await api('connections')).text();
    expect(listed).not.toContain('s3cret');
    const shown = (await (await api('connections/Legacy')).json()) as { profile: { source: { url: string } }; problems: { field: string; message: string }[] };
    expect(shown.profile.source.url).toBe('https://hr.example.com/people.csv');
    expect(shown.problems).toEqual([{ field: 'source.url', message: expect.stringMatching(/^the URL must not contain a username or password; /) }]);
    expect(JSON.parse(listed)).toContainEqual(expect.objectContaining({ name: 'Legacy', problems: shown.problems }));

    const sync = await api('connections/Legacy/sync', { method: 'POST' });
    const refusal = await sync.text();
    expect(sync.status).toBe(400);
    expect(JSON.parse(refusal)).toMatchObject({ code: 'profile-invalid', detail: expect.stringContaining('"Legacy" must be saved again, corrected, before it is used: source.url: the URL must not contain') });
    expect(refusal).not.toContain('s3cret');
    const test = await (await api('connections/Legacy/test', { method: 'POST' })).text();
    expect(test).toContain('profile-invalid');
    expect(test).not.toContain('s3cret');
    expect(await (await api('runs?connection=Legacy')).json()).toEqual([]);

    const saved = await api('connections/Legacy', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(remote('Legacy')) });
    expect(saved.status).toBe(200);
    expect(await saved.json()).not.toHaveProperty('problems');
    expect(await (await api('connections/Legacy')).json()).not.toHaveProperty('problems');
    const rows: unknown[] = [];
    for await (const row of t.table('connectionsTable').listEntities()) rows.push(row);
    expect(JSON.stringify(rows)).not.toContain('s3cret');
  });

  it('with a pattern RE2 cannot run: lists, names the problem, and refuses to sync', async () => {
    await storeAsEarlierVersion('Lookahead', (profile) => ({ ...profile, groups: { mode: 'regex', pattern: '^(?!Test-)', keepLocalGroups: false } }));
    const shown = (await (await api('connections/Lookahead')).json()) as { profile: { groups: unknown }; problems: unknown };
    expect(shown.profile.groups).toEqual({ mode: 'regex', pattern: '^(?!Test-)', keepLocalGroups: false });
    expect(shown.problems).toEqual([{ field: 'groups.pattern', message: expect.stringContaining('look-around ((?!…)) is not supported') }]);
    const sync = await api('connections/Lookahead/sync', { method: 'POST' });
    expect(sync.status).toBe(400);
    expect(await sync.json()).toMatchObject({ code: 'profile-invalid', problems: [{ field: 'groups.pattern' }] });
  });
});
