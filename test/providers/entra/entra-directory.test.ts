import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { availableGroups, testConnection } from '../../../shared/admin/connection-checks.js';
import type { ConnectionProfileInput } from '../../../shared/connections/profile.js';
import { awaitRun } from '../../../shared/host/await-run.js';
import { startRun } from '../../../shared/sync/pipeline/start-run.js';
import { certificateThumbprint, startGraphServer, type FakeTenant, type GraphServer } from '../../fakes/graph-server.js';
import { createTestCertificate } from '../../fakes/tls.js';
import { auditOf, createTestApp, putProfile, syncNow, usersOf, SMALL_DIRECTORY_GUARD, type TestApp } from '../../support/test-app.js';

describe('Entra ID directories through the real Graph SDK and identity credential', () => {
  let server: GraphServer;
  beforeAll(async () => {
    server = await startGraphServer({ cert: inject('tlsCert'), key: inject('tlsKey') });
  });
  afterAll(() => server.close());
  afterEach(() => server.heal());

  const entraProfile = (name: string, tenant: FakeTenant, extra: Partial<ConnectionProfileInput> = {}): ConnectionProfileInput =>
    ({
      name,
      type: 'entra',
      schedule: { kind: 'off' },
      disableGuard: SMALL_DIRECTORY_GUARD,
      tenantId: tenant.tenantId,
      clientId: tenant.clientId,
      credential: { kind: 'secret', secretName: `${name.toUpperCase()}_SECRET` },
      selectedGroups: ['intranet'],
      attributeMap: { department: 'department', jobTitle: 'jobTitle' },
      graphBaseUrl: server.url,
      authorityHost: server.url,
      ...extra,
    }) as ConnectionProfileInput;

  const person = (tenant: FakeTenant, domain: string, id: string, extra: object = {}) =>
    tenant.addUser({ id, userPrincipalName: `${id}@${domain}`, mail: `${id}@${domain}`, givenName: id, surname: 'Entra', department: 'Sales', ...extra });

  // Every test makes its own tenants (fresh ids) and app, so none depends on what another did.

  /** Contoso: a nested group, a manager chain, a disabled user, one without mail, a guest, a user in two selected groups. */
  function contosoTenant(): FakeTenant {
    const a = server.addTenant(randomUUID(), { clientId: randomUUID(), clientSecret: 'tenant-a-secret-value' });
    for (const id of ['ann', 'bea', 'cal', 'dot', 'eve', 'fay']) person(a, 'contoso.com', id);
    person(a, 'contoso.com', 'boss', { department: 'Board', jobTitle: 'CEO' });
    person(a, 'contoso.com', 'off', { accountEnabled: false });
    person(a, 'contoso.com', 'nomail', { mail: undefined });
    person(a, 'contoso.com', 'guest', { userType: 'Guest' });
    a.updateUser('ann', { managerId: 'boss' });
    a.updateUser('bea', { managerId: 'ann' });
    a.addGroup({ id: 'sales', displayName: 'Intranet-Sales', members: ['bea', 'cal', 'dot'] });
    a.addGroup({ id: 'intranet', displayName: 'Intranet-All', members: ['ann', 'boss', 'sales', 'off', 'nomail', 'guest'] });
    a.addGroup({ id: 'extra', displayName: 'Intranet-Extra', members: ['ann', 'eve', 'fay'] });
    a.addGroup({ id: 'mailgroup', displayName: 'Newsletter', securityEnabled: false, mailEnabled: true, members: ['ann'] });
    return a;
  }

  /** Fabrikam: its own people, one sharing a first name with Contoso but not a username. */
  function fabrikamTenant(): FakeTenant {
    const b = server.addTenant(randomUUID(), { clientId: randomUUID(), clientSecret: 'tenant-b-secret-value' });
    for (const id of ['ann', 'gus']) person(b, 'fabrikam.com', id);
    b.addGroup({ id: 'intranet', displayName: 'Everyone', members: ['ann', 'gus'] });
    return b;
  }

  const contosoProfile = (a: FakeTenant) =>
    entraProfile('Contoso', a, { selectedGroups: ['intranet', 'extra'], groups: { mode: 'regex', pattern: '^Intranet-', keepLocalGroups: false } });

  /** An app with Contoso's profile (and Fabrikam's, when given), each test its own. */
  async function appFor(a: FakeTenant, b?: FakeTenant): Promise<TestApp> {
    const t = await createTestApp({ CONTOSO_SECRET: 'tenant-a-secret-value', FABRIKAM_SECRET: 'tenant-b-secret-value', WRONG_SECRET: 'not-the-secret', USERSYNC_PAGE_SIZE: '2' });
    await putProfile(t, contosoProfile(a));
    if (b) await putProfile(t, entraProfile('Fabrikam', b));
    return t;
  }

  /** Contoso synced once in full: seven users, and a checkpoint for incremental runs. */
  async function syncedContoso(): Promise<{ a: FakeTenant; t: TestApp }> {
    const a = contosoTenant();
    const t = await appFor(a);
    expect(await syncNow(t, 'Contoso')).toMatchObject({ state: 'succeeded', counts: { created: 7 } });
    return { a, t };
  }

  it('syncs two tenants at once: nested groups, managers, disabled and emailless users, guests left out', async () => {
    const t = await appFor(contosoTenant(), fabrikamTenant());
    const [contoso, fabrikam] = await Promise.all([
      startRun(t.app.deps, { connection: 'Contoso', trigger: 'manual', startedBy: 'cli:tester' }),
      startRun(t.app.deps, { connection: 'Fabrikam', trigger: 'manual', startedBy: 'cli:tester' }),
    ]);
    const [c, f] = await Promise.all([awaitRun(t.app, t.definitions, contoso!.runId), awaitRun(t.app, t.definitions, fabrikam!.runId)]);
    expect(c.state).toBe('succeeded');
    expect(f.state).toBe('succeeded');
    // ann is in both selected groups: one user, not a duplicate.
    expect(c.counts).toMatchObject({ created: 7, skipped: 2, conflict: 0 });
    expect(c.skipReasons).toEqual({ 'inactive-in-source': 1, 'missing-email': 1 });
    expect(c.pagesFetched).toBeGreaterThan(5); // two users a page, groups, managers
    const users = await usersOf(t, 'Contoso');
    expect([...users.keys()].sort()).toEqual(['ann', 'bea', 'boss', 'cal', 'dot', 'eve', 'fay'].map((id) => `${id}@contoso.com`));
    const ann = users.get('ann@contoso.com')!;
    expect(ann).toMatchObject({ key: 'ann', firstName: 'ann', email: 'ann@contoso.com', attributes: { department: 'Sales' }, managerKey: 'boss' });
    expect(ann.groups).toEqual(['Intranet-All', 'Intranet-Extra']); // Newsletter is mail-enabled and not selected by the filter
    expect(users.get('bea@contoso.com')).toMatchObject({ managerKey: 'ann', groups: ['Intranet-All', 'Intranet-Sales'] });
    expect(users.get('boss@contoso.com')?.attributes).toEqual({ department: 'Board', jobTitle: 'CEO' });
    const skipped = (await auditOf(t, c.runId)).filter((r) => r.action === 'skipped');
    expect(skipped.map((r) => [r.subject, r.reason]).sort()).toEqual([
      ['nomail', 'missing-email'],
      ['off', 'inactive-in-source'],
    ]);
    expect([...(await usersOf(t, 'Fabrikam')).keys()].sort()).toEqual(['ann@fabrikam.com', 'gus@fabrikam.com']);
  });

  it('a re-sync of an unchanged tenant changes nothing; a disabled account is disabled', async () => {
    const b = fabrikamTenant();
    const t = await appFor(contosoTenant(), b);
    expect((await syncNow(t, 'Fabrikam')).counts).toMatchObject({ created: 2 });
    const again = await syncNow(t, 'Fabrikam');
    expect(again.counts).toMatchObject({ created: 0, updated: 0, unchanged: 2 });
    b.updateUser('gus', { accountEnabled: false });
    const run = await syncNow(t, 'Fabrikam');
    expect(run.counts).toMatchObject({ disabled: 1, unchanged: 1 });
    expect((await usersOf(t, 'Fabrikam')).get('gus@fabrikam.com')).toMatchObject({ status: 'disabled', disabledReason: 'inactive-in-source' });
  });

  it('finishes through a storm of 429s', async () => {
    const { t } = await syncedContoso();
    const before = server.requests.length;
    server.throttle(12, 0);
    const run = await syncNow(t, 'Contoso');
    expect(run.state).toBe('succeeded');
    expect(run.counts).toMatchObject({ created: 0, unchanged: 7 });
    expect(server.requests.slice(before).filter((r) => r.path.startsWith('/v1.0/')).length).toBeGreaterThan(12);
  });

  it('a listing that fails half way disables no one and says why', async () => {
    const { a, t } = await syncedContoso();
    a.removeUser('fay'); // would be disabled by a complete listing
    server.failAfter(3, 500);
    const run = await syncNow(t, 'Contoso');
    server.heal();
    expect(run).toMatchObject({ state: 'failed', listing: 'failed', error: { code: 'source-unavailable' } });
    expect(run.counts.disabled).toBe(0);
    expect((await usersOf(t, 'Contoso')).get('fay@contoso.com')?.status).toBe('active');
    const healed = await syncNow(t, 'Contoso');
    expect(healed.counts.disabled).toBe(1);
  });

  it('with no group selected no users sync, and the run says so', async () => {
    const b = fabrikamTenant();
    const t = await appFor(contosoTenant());
    await putProfile(t, entraProfile('Empty', b, { selectedGroups: [], credential: { kind: 'secret', secretName: 'FABRIKAM_SECRET' } }));
    const run = await syncNow(t, 'Empty');
    expect(run).toMatchObject({ state: 'failed', error: { code: 'no-groups-selected' } });
    expect(run.error?.message).toMatch(/select at least one group/);
  });

  it('test connection names what is wrong without echoing the secret', async () => {
    const a = contosoTenant();
    const t = await appFor(a);
    expect(await testConnection(t.app.deps, 'Contoso')).toEqual({ ok: true, detail: expect.stringMatching(new RegExp(`Connected to tenant ${a.tenantId}.*"Intranet-All"`)), warnings: [] });
    await putProfile(t, entraProfile('Wrong', a, { credential: { kind: 'secret', secretName: 'WRONG_SECRET' } }));
    const wrong = await testConnection(t.app.deps, 'Wrong');
    expect(wrong).toMatchObject({ ok: false, code: 'source-auth-failed', detail: expect.stringContaining('client secret is wrong or expired (AADSTS7000215)') });
    expect(JSON.stringify(wrong)).not.toContain('not-the-secret');

    a.grantedRoles = ['User.Read.All'];
    const denied = await testConnection(t.app.deps, 'Contoso');
    expect(denied).toMatchObject({ ok: false, code: 'source-auth-failed', detail: expect.stringMatching(/Authorization_RequestDenied.*admin consent/) });

    await putProfile(t, { ...entraProfile('Nowhere', a, { credential: { kind: 'secret', secretName: 'CONTOSO_SECRET' } }), tenantId: randomUUID() } as ConnectionProfileInput);
    expect(await testConnection(t.app.deps, 'Nowhere')).toMatchObject({ ok: false, code: 'source-auth-failed', detail: expect.stringContaining('tenant was not found') });
  });

  it('lists the security groups an admin can select, mail-enabled ones only when included', async () => {
    const a = contosoTenant();
    const t = await appFor(a);
    expect((await availableGroups(t.app.deps, 'Contoso')).map((g) => g.name)).toEqual(['Intranet-All', 'Intranet-Extra', 'Intranet-Sales']);
    await putProfile(t, entraProfile('WithMail', a, { includeMailEnabledGroups: true, credential: { kind: 'secret', secretName: 'CONTOSO_SECRET' } }));
    expect(await availableGroups(t.app.deps, 'WithMail')).toContainEqual({ id: 'mailgroup', name: 'Newsletter', kind: 'mail-enabled security' });
  });

  it('an incremental run reads only what changed since the last run, through the delta link', async () => {
    const { a, t } = await syncedContoso();
    const state = (await t.app.deps.connections.get('Contoso'))!.state;
    expect(state.checkpoint).toMatch(/\/v1\.0\/users\/delta\?\$deltatoken=/);
    expect(state.lastFullRunAt).toBeDefined();
    const before = await usersOf(t, 'Contoso');
    a.updateUser('cal', { department: 'Legal' });
    a.updateUser('guest', { department: 'Visitors' }); // a guest: out of scope, ignored
    const run = await syncNow(t, 'Contoso', { incremental: true });
    expect(run).toMatchObject({ kind: 'incremental', state: 'succeeded' });
    expect(run.counts).toMatchObject({ updated: 1, created: 0, disabled: 0, unchanged: 0, skipped: 0 });
    const after = await usersOf(t, 'Contoso');
    expect(after.get('cal@contoso.com')).toMatchObject({ attributes: { department: 'Legal' }, groups: before.get('cal@contoso.com')!.groups });
    const updated = (await auditOf(t, run.runId)).filter((r) => r.action === 'updated');
    expect(updated).toEqual([expect.objectContaining({ subject: 'cal', changedFields: ['department'] })]);
    // Nothing else was read or rewritten.
    for (const name of ['ann', 'bea', 'boss', 'dot', 'eve', 'fay']) expect(after.get(`${name}@contoso.com`)).toEqual(before.get(`${name}@contoso.com`));
    expect((await t.app.deps.connections.get('Contoso'))!.state.checkpoint).not.toBe(state.checkpoint);
  });

  it('a user deleted from the tenant is disabled by the next incremental run', async () => {
    const { a, t } = await syncedContoso();
    a.removeUser('dot');
    const run = await syncNow(t, 'Contoso', { incremental: true });
    expect(run).toMatchObject({ kind: 'incremental', counts: { disabled: 1, updated: 0 } });
    expect((await usersOf(t, 'Contoso')).get('dot@contoso.com')).toMatchObject({ status: 'disabled', disabledReason: 'removed-from-directory' });
  });

  it('joining or leaving the selected groups is seen by the next incremental run (groups delta)', async () => {
    const { a, t } = await syncedContoso();
    person(a, 'contoso.com', 'hal');
    const before = await syncNow(t, 'Contoso', { incremental: true });
    expect(before.counts.created).toBe(0); // a new tenant user outside the selected groups is out of scope
    a.setMembers('sales', ['bea', 'cal', 'dot', 'hal']); // hal joins a nested group of a selected one
    a.setMembers('extra', ['ann', 'fay']); // eve leaves the only selected group she was in
    const run = await syncNow(t, 'Contoso', { incremental: true });
    expect(run).toMatchObject({ kind: 'incremental', state: 'succeeded' });
    expect(run.counts).toMatchObject({ created: 1, disabled: 1 });
    const users = await usersOf(t, 'Contoso');
    expect(users.get('hal@contoso.com')).toMatchObject({ status: 'active', key: 'hal' });
    expect(users.get('eve@contoso.com')).toMatchObject({ status: 'disabled', disabledReason: 'left-scope' });
  });

  it('an expired delta token falls back to a full sync by itself', async () => {
    const { a, t } = await syncedContoso();
    // hal joins, and an incremental run creates him without his groups (the next full run reads them).
    person(a, 'contoso.com', 'hal');
    a.setMembers('sales', ['bea', 'cal', 'dot', 'hal']);
    expect(await syncNow(t, 'Contoso', { incremental: true })).toMatchObject({ kind: 'incremental', counts: { created: 1 } });
    server.expireDeltaTokens(a.tenantId);
    a.updateUser('ann', { jobTitle: 'Buyer' });
    const run = await syncNow(t, 'Contoso', { incremental: true });
    expect(run).toMatchObject({ kind: 'full', state: 'succeeded' });
    expect(run.warnings.join(' ')).toMatch(/delta token .* has expired.*continued as a full sync/);
    // ann's new title, and hal's groups, which the incremental run that created hal could not know.
    expect(run.counts).toMatchObject({ updated: 2 });
    const users = await usersOf(t, 'Contoso');
    expect(users.get('ann@contoso.com')?.attributes.jobTitle).toBe('Buyer');
    expect(users.get('hal@contoso.com')?.groups).toEqual(['Intranet-All', 'Intranet-Sales']);
    const next = await syncNow(t, 'Contoso', { incremental: true });
    expect(next).toMatchObject({ kind: 'incremental', state: 'succeeded', counts: { updated: 0 } });
  });

  it('signs in with a certificate credential as well', async () => {
    const { cert, key } = await createTestCertificate();
    const tenant = server.addTenant(randomUUID(), { clientId: randomUUID(), certificateThumbprint: certificateThumbprint(cert) });
    tenant.addGroup({ id: 'intranet', displayName: 'Everyone', members: [] });
    const withCert = await createTestApp({ CERT_PEM: `${cert}${key}` });
    await putProfile(withCert, entraProfile('Certified', tenant, { credential: { kind: 'certificate', certificateSecret: 'CERT_PEM' } }));
    expect(await testConnection(withCert.app.deps, 'Certified')).toMatchObject({ ok: true, detail: expect.stringMatching(new RegExp(`Connected to tenant ${tenant.tenantId}.*"Everyone"`)) });
  });
});
