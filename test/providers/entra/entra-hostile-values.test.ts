import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { ConnectionProfileInput } from '../../../shared/connections/profile.js';
import { startGraphServer, type GraphServer } from '../../fakes/graph-server.js';
import { auditOf, createTestApp, putProfile, syncNow, usersOf, SMALL_DIRECTORY_GUARD, type TestApp } from '../../support/test-app.js';

/**
 * Issue 13 for a directory other than CSV: the value rules and the all-rows-skipped rule live in the
 * one decision core, so an Entra tenant gets them too (through the real Graph SDK against the fake).
 */
describe('Entra values that cannot be synced, and listings that cannot be used', () => {
  let server: GraphServer;
  let t: TestApp;

  const profile = (name: string, tenantId: string): ConnectionProfileInput =>
    ({
      name,
      type: 'entra',
      schedule: { kind: 'off' },
      disableGuard: SMALL_DIRECTORY_GUARD,
      tenantId,
      clientId: 'c3c3c3c3-0000-0000-0000-000000000003',
      credential: { kind: 'secret', secretName: 'HOSTILE_SECRET' },
      selectedGroups: ['intranet'],
      attributeMap: { department: 'department' },
      graphBaseUrl: server.url,
      authorityHost: server.url,
    }) as ConnectionProfileInput;

  /** A tenant whose selected group holds `users` (each with a UPN and mail at contoso.com unless given). */
  const tenant = (tenantId: string, users: { id: string; [property: string]: unknown }[]) => {
    const fake = server.addTenant(tenantId, { clientId: 'c3c3c3c3-0000-0000-0000-000000000003', clientSecret: 'hostile-secret-value' });
    for (const user of users) fake.addUser({ userPrincipalName: `${user.id}@contoso.com`, mail: `${user.id}@contoso.com`, givenName: user.id, surname: 'Entra', ...user });
    fake.addGroup({ id: 'intranet', displayName: 'Intranet-All', members: users.map((user) => user.id) });
    return fake;
  };

  beforeAll(async () => {
    server = await startGraphServer({ cert: inject('tlsCert'), key: inject('tlsKey') });
    t = await createTestApp({ HOSTILE_SECRET: 'hostile-secret-value' });
  });
  afterAll(() => server.close());

  it('skips users with a bidi override or escape sequence in a value, or an impossible UPN, and syncs the rest', async () => {
    tenant('dddddddd-0000-0000-0000-000000000004', [
      { id: 'ann' },
      { id: 'rtl', surname: 'Entra\u202Egnp.exe' },
      { id: 'esc', department: '\u001b[31mRed' },
      { id: 'slash', userPrincipalName: 'a/b@contoso.com' },
      { id: 'guest', userPrincipalName: "o'neil_fabrikam.com#EXT#@contoso.onmicrosoft.com" },
    ]);
    await putProfile(t, profile('Hostile', 'dddddddd-0000-0000-0000-000000000004'));
    const run = await syncNow(t, 'Hostile');
    expect(run).toMatchObject({ state: 'succeeded', counts: { created: 2, skipped: 3 }, skipReasons: { 'control-characters': 2, 'username-invalid': 1 } });
    expect([...(await usersOf(t, 'Hostile')).keys()].sort()).toEqual(['ann@contoso.com', "o'neil_fabrikam.com#EXT#@contoso.onmicrosoft.com"]);
    const skipped = (await auditOf(t, run.runId)).filter((record) => record.action === 'skipped');
    expect(Object.fromEntries(skipped.map((record) => [record.subject, record.detail?.split(';')[0]]))).toEqual({
      rtl: 'The lastName contains the control character U+202E',
      esc: 'The attribute "department" contains the control character U+001B',
      slash: 'The username "a/b@contoso.com" contains "/". A username is 1–128 letters, digits and . _ - @ \' + # ! ^ ~ (no spaces, / \\ % or ?), with at least one letter or digit.',
    });
  });

  it('fails a run whose every user is skipped (all-rows-skipped), but not one whose selected group is empty', async () => {
    tenant('eeeeeeee-0000-0000-0000-000000000005', [
      { id: 'nomail1', mail: undefined },
      { id: 'nomail2', mail: undefined },
    ]);
    await putProfile(t, profile('Mailless', 'eeeeeeee-0000-0000-0000-000000000005'));
    const run = await syncNow(t, 'Mailless');
    expect(run).toMatchObject({ state: 'failed', error: { code: 'all-rows-skipped' }, counts: { skipped: 2, created: 0 } });
    expect(run.error?.message).toMatch(/^Every user the source listed \(2\) was skipped \(missing-email 2\), so nothing was synced and no one was disabled\./);

    tenant('ffffffff-0000-0000-0000-000000000006', []);
    await putProfile(t, profile('Empty', 'ffffffff-0000-0000-0000-000000000006'));
    expect(await syncNow(t, 'Empty')).toMatchObject({ state: 'succeeded', counts: { skipped: 0, created: 0 } });
  });
});
