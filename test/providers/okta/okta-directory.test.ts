import { generateKeyPairSync } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { availableGroups, testConnection } from '../../../shared/admin/connection-checks.js';
import type { ConnectionProfileInput } from '../../../shared/connections/profile.js';
import { startGraphServer } from '../../fakes/graph-server.js';
import { startOktaServer, type OktaServer } from '../../fakes/okta-server.js';
import { auditOf, createTestApp, csvProfile, putProfile, syncNow, uploadCsv, usersOf, SMALL_DIRECTORY_GUARD, type TestApp } from '../../support/test-app.js';

const TOKEN = '00okta-api-token-value';

describe('Okta directories through the real Okta SDK', () => {
  let server: OktaServer;
  const profile = (name: string, extra: Partial<ConnectionProfileInput> = {}): ConnectionProfileInput =>
    ({
      name,
      type: 'okta',
      schedule: { kind: 'off' },
      orgUrl: server.url,
      credential: { kind: 'token', tokenSecret: 'OKTA_TOKEN' },
      selectedGroups: ['00gstaff'],
      attributeMap: { department: 'department', title: 'jobTitle' },
      ...extra,
    }) as ConnectionProfileInput;
  const person = (id: string, status = 'ACTIVE', extra: Record<string, unknown> = {}) =>
    server.addUser({ id, status, profile: { login: `${id}@okta.example`, email: `${id}@okta.example`, firstName: id, lastName: 'Okta', department: 'Ops', ...extra } } as never);

  beforeAll(async () => {
    server = await startOktaServer();
    server.addToken(TOKEN);
    // The people were created an hour ago: an incremental run must not see them as changed.
    server.setClock(new Date(Date.now() - 3_600_000));
    person('00uboss', 'ACTIVE', { title: 'Chief' });
    person('00ulead', 'ACTIVE', { managerId: '00uboss' });
    person('00udev', 'ACTIVE', { manager: '00ulead@okta.example' });
    person('00ususp', 'SUSPENDED');
    person('00ustaged', 'STAGED');
    person('00ulocked', 'LOCKED_OUT');
    for (let i = 0; i < 9; i++) person(`00ubulk${i}`);
    server.addGroup({ id: '00gstaff', name: 'Staff', members: ['00uboss', '00ulead', '00udev', '00ususp', '00ustaged', '00ulocked', ...Array.from({ length: 9 }, (_, i) => `00ubulk${i}`)] });
    server.addGroup({ id: '00gother', name: 'Contractors', members: [] });
    // The only people a test changes (the incremental one), in a group of their own.
    for (const id of ['00udelta1', '00udelta2', '00udelta3']) person(id);
    server.addGroup({ id: '00gdelta', name: 'Delta', members: ['00udelta1', '00udelta2', '00udelta3'] });
    server.setClock(null);
  });
  afterAll(() => server.close());
  afterEach(() => server.heal());

  /** Each test its own app with the "Okta" profile (the server's people are shared and left unchanged). */
  async function oktaApp(): Promise<TestApp> {
    const t = await createTestApp({ OKTA_TOKEN: TOKEN, REVOKED_TOKEN: 'revoked-token', USERSYNC_ALLOW_INSECURE_HTTP: 'true', USERSYNC_PAGE_SIZE: '4', TEST_DEFAULT_PASSWORD: 'Okta-Initial-1' });
    await putProfile(t, profile('Okta'));
    return t;
  }

  it('pages through many pages, maps each status and links managers in one run', async () => {
    const t = await oktaApp();
    const run = await syncNow(t, 'Okta');
    expect(run.state).toBe('succeeded');
    expect(run.pagesFetched).toBeGreaterThanOrEqual(4); // 15 members, 4 a page
    expect(run.counts).toMatchObject({ created: 13, skipped: 2 });
    expect(run.skipReasons).toEqual({ 'inactive-in-source': 2 }); // SUSPENDED and STAGED are not created
    const users = await usersOf(t, 'Okta');
    expect(users.get('00ulocked@okta.example')?.status).toBe('active'); // a lockout is Okta's business
    expect(users.get('00ulead@okta.example')).toMatchObject({ managerKey: '00uboss', attributes: { department: 'Ops' } });
    expect(users.get('00udev@okta.example')?.managerKey).toBe('00ulead'); // manager given as a login
    expect(users.get('00uboss@okta.example')?.attributes).toEqual({ department: 'Ops', jobTitle: 'Chief' });
  });

  it('with group sync on, reads every selected group and the kept groups, each list over several pages', async () => {
    const t = await createTestApp({ OKTA_TOKEN: TOKEN, USERSYNC_ALLOW_INSECURE_HTTP: 'true', USERSYNC_PAGE_SIZE: '2' });
    // Contractors (selected, empty) comes after Staff; the org's three groups take two pages of the group list.
    await putProfile(t, profile('Grouped', { selectedGroups: ['00gstaff', '00gother'], groups: { mode: 'regex', pattern: '^(Staff|Delta)$', keepLocalGroups: false } }));
    const run = await syncNow(t, 'Grouped');
    expect(run).toMatchObject({ state: 'succeeded', listing: 'complete', counts: { created: 13, skipped: 2 } });
    const users = await usersOf(t, 'Grouped');
    expect(users.size).toBe(13);
    for (const user of users.values()) expect(user.groups).toEqual(['Staff']);
  });

  it('an incremental run reads only users changed since the last run', async () => {
    const t = await oktaApp();
    await putProfile(t, profile('Delta', { selectedGroups: ['00gdelta'], disableGuard: SMALL_DIRECTORY_GUARD }));
    expect(await syncNow(t, 'Delta')).toMatchObject({ kind: 'full', counts: { created: 3 } });
    server.updateUser('00udelta1', { profile: { department: 'Finance' } } as never);
    server.updateUser('00udelta2', { status: 'DEPROVISIONED' } as never);
    const run = await syncNow(t, 'Delta', { incremental: true });
    expect(run).toMatchObject({ kind: 'incremental', state: 'succeeded' });
    expect(run.counts).toMatchObject({ updated: 1, disabled: 1, unchanged: 0, skipped: 0 });
    const users = await usersOf(t, 'Delta');
    expect(users.get('00udelta1@okta.example')?.attributes.department).toBe('Finance');
    expect(users.get('00udelta2@okta.example')?.status).toBe('disabled');
    expect(users.get('00udelta3@okta.example')?.status).toBe('active');
  });

  it('finishes through a 429 storm', async () => {
    const t = await oktaApp();
    const before = server.requests.length;
    server.throttle(3);
    const run = await syncNow(t, 'Okta');
    expect(run.state).toBe('succeeded');
    const served = server.requests.slice(before);
    expect(served.filter((request) => request.status === 429)).toHaveLength(3);
    // The run waited them out as a whole (its page jobs re-queued, delayed until the reset), not the SDK in one
    // request (it would count its retries in X-Okta-Retry-Count): see test/sync/listing-throttle.test.ts.
    expect(served.filter((request) => request.retryCount !== undefined)).toEqual([]);
    expect(run.throttledUntil).toBeDefined();
  });

  it('a revoked token gives a clear error about token expiry, and disables no one', async () => {
    const t = await oktaApp();
    await putProfile(t, profile('Revoked', { credential: { kind: 'token', tokenSecret: 'REVOKED_TOKEN' } }));
    const run = await syncNow(t, 'Revoked');
    expect(run).toMatchObject({ state: 'failed', error: { code: 'source-auth-failed' } });
    expect(run.error?.message).toMatch(/expires after 30 days unused/);
    expect(run.error?.message).not.toContain('revoked-token');
    expect(await testConnection(t.app.deps, 'Revoked')).toMatchObject({ ok: false, code: 'source-auth-failed' });
  });

  /** A run that fails before reading anything: no request reaches Okta, no user or claim is written. */
  async function expectRefusedBeforeReading(app: TestApp, connection: string, code: string): Promise<void> {
    const before = server.requests.length;
    const run = await syncNow(app, connection);
    expect(run).toMatchObject({ state: 'failed', listing: 'failed', error: { code }, counts: { created: 0, disabled: 0 } });
    expect(server.requests.length).toBe(before);
    expect((await usersOf(app, connection)).size).toBe(0);
    expect((await auditOf(app, run.runId)).map((record) => `${record.action} ${record.reason ?? ''}`).sort()).toEqual([`run-failed ${code}`, 'run-started ']);
  }

  it('refuses an http:// org URL unless the test setting allows it, before sending the token anywhere', async () => {
    const strict = await createTestApp({ OKTA_TOKEN: TOKEN });
    await putProfile(strict, profile('Plain'));
    await expectRefusedBeforeReading(strict, 'Plain', 'source-insecure-url');
    const run = (await strict.app.deps.runs.list({ connection: 'Plain', limit: 1 }))[0];
    expect(run?.error?.message).toMatch(/must use https:\/\//);
    expect(JSON.stringify(run)).not.toContain(TOKEN);
  });

  it('with no group selected no users sync, and the run says so', async () => {
    const app = await createTestApp({ OKTA_TOKEN: TOKEN, USERSYNC_ALLOW_INSECURE_HTTP: 'true' });
    await putProfile(app, profile('NoGroups', { selectedGroups: [] }));
    await expectRefusedBeforeReading(app, 'NoGroups', 'no-groups-selected');
    expect((await app.app.deps.runs.list({ connection: 'NoGroups', limit: 1 }))[0]?.error?.message).toMatch(/select at least one group/);
  });

  it('test connection and available groups', async () => {
    const t = await oktaApp();
    expect(await testConnection(t.app.deps, 'Okta')).toEqual({ ok: true, detail: expect.stringMatching(/read the selected group "Staff"/), warnings: [] });
    expect((await availableGroups(t.app.deps, 'Okta')).map((g) => g.name)).toEqual(['Contractors', 'Delta', 'Staff']);
  });

  it('beside a CSV profile, a username that collides across them is a conflict for the later one', async () => {
    const t = await oktaApp();
    expect((await syncNow(t, 'Okta')).state).toBe('succeeded');
    await putProfile(t, csvProfile('HR', 'hr.csv'));
    await uploadCsv(t, 'hr.csv', 'username,email,firstName,lastName\n00uboss@okta.example,boss@hr.example,Boss,Hr\nhr.only,hr.only@hr.example,Hr,Only\n');
    const run = await syncNow(t, 'HR');
    expect(run.counts).toMatchObject({ created: 1, conflict: 1 });
    expect((await auditOf(t, run.runId)).find((r) => r.action === 'conflict')).toMatchObject({ reason: 'username-owned-by-directory', detail: expect.stringContaining('"Okta"') });
  });

  it('beside an Entra profile too: the later directory with the same username gets the conflict', async () => {
    const graph = await startGraphServer({ cert: inject('tlsCert'), key: inject('tlsKey') });
    try {
      const tenant = graph.addTenant('12121212-0000-0000-0000-000000000012', { clientId: '34343434-0000-0000-0000-000000000034', clientSecret: 'entra-secret' });
      tenant.addUser({ id: 'e1', userPrincipalName: '00udev@okta.example', mail: 'dev@entra.example', givenName: 'Dev', surname: 'Entra' });
      tenant.addGroup({ id: 'all', displayName: 'All', members: ['e1'] });
      const both = await createTestApp({ OKTA_TOKEN: TOKEN, ENTRA_SECRET: 'entra-secret', USERSYNC_ALLOW_INSECURE_HTTP: 'true' });
      await putProfile(both, profile('Okta'));
      await putProfile(both, {
        name: 'Entra',
        type: 'entra',
        schedule: { kind: 'off' },
        tenantId: tenant.tenantId,
        clientId: tenant.clientId,
        credential: { kind: 'secret', secretName: 'ENTRA_SECRET' },
        selectedGroups: ['all'],
        graphBaseUrl: graph.url,
        authorityHost: graph.url,
      });
      expect((await syncNow(both, 'Okta')).state).toBe('succeeded');
      const entra = await syncNow(both, 'Entra');
      expect(entra.counts).toMatchObject({ created: 0, conflict: 1 });
      expect((await auditOf(both, entra.runId)).find((r) => r.action === 'conflict')?.detail).toContain('the directory "Okta"');
    } finally {
      await graph.close();
    }
  });

  it('an OAuth 2.0 service app with a private key signs in as well', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    server.addServiceApp({ clientId: '0oaservice', publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    const withKey = await createTestApp({ OKTA_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), USERSYNC_ALLOW_INSECURE_HTTP: 'true' });
    await putProfile(withKey, profile('Service', { credential: { kind: 'private-key', clientId: '0oaservice', privateKeySecret: 'OKTA_KEY' } }));
    expect(await testConnection(withKey.app.deps, 'Service')).toMatchObject({ ok: true, detail: expect.stringMatching(/read the selected group "Staff"/) });
  });
});
