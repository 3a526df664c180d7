import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOktaServer, type OktaServer } from '../fakes/okta-server.js';
import { expectAccessible, openConsole, type ConsoleSession } from '../support/console-browser.js';
import { csvProfile, putProfile, syncNow, uploadCsv, usersOf } from '../support/test-app.js';

/**
 * The Connections screens in a real browser on the real app, as an admin uses them: add a CSV connection through
 * the form generated from the profile's schema, upload its file, dry run, sync; the API's refusals at the fields;
 * Test connection; Delete with its confirmation; an Okta connection's groups picked by name; what a Reader sees.
 */

const PEOPLE = 'samples/people.csv';

describe('an admin sets up a CSV connection from the browser alone', () => {
  let s: ConsoleSession;
  beforeAll(async () => {
    s = await openConsole({ env: { HR_DEFAULT_PASSWORD: 'Sample-Initial-1' } });
  });
  afterAll(() => s.close());

  it('adds it through the form, uploads the sample, dry runs (the plan shows, nothing changes), syncs (users created)', async () => {
    const { page } = s;
    // Along the way the console asks the API nothing it refuses.
    const refused: string[] = [];
    page.on('response', (response) => {
      if (response.url().includes('/api/') && response.status() >= 400) refused.push(`${response.status()} ${response.url()}`);
    });
    await page.goto(`${s.url}connections`);
    await page.getByRole('heading', { name: 'No connections yet' }).waitFor();
    for (const type of ['CSV export', 'Microsoft Entra ID', 'Okta']) await page.getByRole('link', { name: `Add a ${type} connection` }).waitFor();
    await expectAccessible(page, 'connections-empty');

    await page.getByRole('link', { name: 'Add a CSV export connection' }).click();
    await page.getByRole('textbox', { name: 'Name*', exact: true }).fill('HR export');
    await page.getByRole('textbox', { name: 'File name*' }).fill('hr/people.csv');
    await page.getByRole('combobox', { name: 'Schedule' }).selectOption({ label: 'Off (manual only)' });
    await page.getByRole('textbox', { name: 'Manager column' }).fill('manager');
    await page.getByRole('textbox', { name: 'Default password setting' }).fill('HR_DEFAULT_PASSWORD');
    // The sample's guard holds on the share alone (minCount 0), as the demo's profile does.
    await page.getByRole('spinbutton', { name: 'Minimum number of users' }).fill('0');
    await s.screenshot('connections-form');
    await expectAccessible(page, 'connections-form');
    await page.getByRole('button', { name: 'Save connection' }).click();

    await page.getByRole('heading', { name: 'HR export', level: 1 }).waitFor();
    expect((await s.t.app.deps.connections.get('HR export'))?.profile).toMatchObject({
      type: 'csv',
      source: { kind: 'blob', blobName: 'hr/people.csv' },
      schedule: { kind: 'off' },
      managerField: 'manager',
      defaultPasswordSecret: 'HR_DEFAULT_PASSWORD',
      disableGuard: { maxPercent: 10, minCount: 0, maxCount: 500 },
    });

    await page.getByLabel('CSV file').setInputFiles(PEOPLE);
    await page.getByRole('button', { name: 'Upload', exact: true }).click();
    await page.getByText(/^Uploaded people\.csv \(\d+ bytes\) as hr\/people\.csv/).waitFor();
    expect(String(await s.t.app.csvFiles.get('hr/people.csv'))).toBe(await readFile(PEOPLE, 'utf8'));

    await page.getByRole('button', { name: 'Test connection' }).click();
    await page.getByText('Connection works.').waitFor();

    await page.getByRole('button', { name: 'Dry run' }).click();
    await page.getByRole('heading', { name: 'Plan: what this dry run would do' }).waitFor();
    const plan = page.getByRole('table', { name: 'Planned changes' });
    await plan.getByRole('cell', { name: 'ada.lovelace', exact: true }).waitFor();
    expect(await plan.getByRole('row').filter({ hasText: /^create/ }).count()).toBeGreaterThan(3);
    expect((await usersOf(s.t, 'HR export')).size).toBe(0);
    await s.screenshot('runs-plan');
    await expectAccessible(page, 'runs-plan');

    await page.getByRole('link', { name: 'HR export' }).first().click();
    await page.getByRole('button', { name: 'Sync now' }).click();
    const state = page.locator('.run-state');
    await expect.poll(() => state.textContent(), { timeout: 30_000 }).toMatch(/State: Succeeded/);
    const users = await usersOf(s.t, 'HR export');
    expect(users.get('ada.lovelace')).toMatchObject({ status: 'active', email: 'ada.lovelace@example.org' });
    expect(users.get('charles.babbage')?.managerKey).toBe('ada.lovelace');
    expect(await state.textContent()).toContain(`${users.size} created`);
    expect(await page.getByRole('row', { name: /^created/ }).textContent()).toBe(`created${users.size}`);

    await page.getByRole('link', { name: 'Connections', exact: true }).click();
    const row = page.getByRole('row', { name: /HR export/ });
    await row.getByRole('link', { name: 'Succeeded' }).waitFor();
    await expect.poll(() => row.textContent()).toContain(`${users.size} created`);
    expect(await row.textContent()).toContain('Manual only');
    await s.screenshot('connections-list');
    await expectAccessible(page, 'connections-list');

    await row.getByRole('link', { name: 'HR export' }).click();
    await page.getByRole('button', { name: 'Sync now' }).waitFor();
    await s.screenshot('connections-detail');
    await expectAccessible(page, 'connections-detail');
    await page.setViewportSize({ width: 390, height: 844 });
    await s.screenshot('connections-detail-390');
    await expectAccessible(page, 'connections-detail at 390 px');
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(refused).toEqual([]);
  });

  it('a group pattern RE2 cannot run is refused by the API: its message at the field, a summary, nothing saved', async () => {
    const { page } = s;
    await page.goto(`${s.url}connections/new?type=csv`);
    await page.getByRole('textbox', { name: 'Name*', exact: true }).fill('Patterned');
    await page.getByRole('textbox', { name: 'File name*' }).fill('hr/patterned.csv');
    await page.getByRole('combobox', { name: 'Mode' }).selectOption({ label: 'Groups whose name matches a pattern' });
    await page.getByRole('textbox', { name: 'Pattern' }).fill('(a)\\1');
    await page.getByRole('button', { name: 'Save connection' }).click();

    const summary = page.getByRole('alert').filter({ hasText: 'The connection was not saved' });
    await summary.waitFor();
    expect(await summary.textContent()).toContain('groups.pattern');
    // The admin is taken to it: the Save button is at the end of a long form.
    expect(await page.locator(':focus').getByRole('alert').textContent()).toBe(await summary.textContent());
    const atField = page.locator('#profile_groups_pattern__error');
    expect(await atField.textContent()).toMatch(/back-reference/i);
    await atField.scrollIntoViewIfNeeded();
    await s.screenshot('connections-form-errors');
    await expectAccessible(page, 'connections-form with errors');
    expect(await s.t.app.deps.connections.get('Patterned')).toBeUndefined();
  });
});

describe('a connection page', () => {
  it("shows Test connection's failure, and deletes only after the admin types the name: users disabled, never deleted", async () => {
    const s = await openConsole({ env: { TEST_DEFAULT_PASSWORD: 'Delete-Initial-1' } });
    try {
      await putProfile(s.t, csvProfile('Leavers', 'leavers.csv'));
      await uploadCsv(s.t, 'leavers.csv', 'username,email,firstName,lastName\nann,ann@example.org,Ann,Lee\nbob,bob@example.org,Bob,Ray\n');
      await syncNow(s.t, 'Leavers');
      const { directoryKey } = (await s.t.app.deps.connections.get('Leavers'))!;
      await putProfile(s.t, csvProfile('Nowhere', 'missing.csv'));

      const { page } = s;
      await page.goto(`${s.url}connections/Nowhere`);
      await page.getByRole('button', { name: 'Test connection' }).click();
      const failure = page.getByRole('alert').filter({ hasText: 'Connection failed.' });
      await failure.waitFor();
      expect(await failure.textContent()).toContain('Code: source-not-found');

      await page.goto(`${s.url}connections/Leavers`);
      await page.getByRole('button', { name: 'Delete' }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete Leavers?' });
      expect(await dialog.textContent()).toContain('disabled, never deleted');
      const confirm = dialog.getByRole('button', { name: 'Delete connection' });
      expect(await confirm.isDisabled()).toBe(true);
      await expectAccessible(page, 'connections-delete dialog');
      await dialog.getByLabel('Type “Leavers” to confirm').fill('Leavers');
      await confirm.click();

      await page.getByText('Deleted Leavers: 2 user(s) disabled, none deleted.').waitFor();
      expect(await s.t.app.deps.connections.get('Leavers')).toBeUndefined();
      const statuses = [];
      for await (const user of s.t.app.deps.users.list(directoryKey)) statuses.push([user.username, user.status]);
      expect(statuses.sort()).toEqual([
        ['ann', 'disabled'],
        ['bob', 'disabled'],
      ]);
    } finally {
      await s.close();
    }
  });
});

describe('Entra and Okta connections', () => {
  const TOKEN = 'okta-console-token';
  let okta: OktaServer;
  beforeAll(async () => {
    okta = await startOktaServer();
    okta.addToken(TOKEN);
    okta.addGroup({ id: '00gstaff', name: 'Staff', members: [] });
    okta.addGroup({ id: '00gcontract', name: 'Contractors', members: [] });
    okta.addGroup({ id: '00gstartup', name: 'Startup team', members: [] });
  });
  afterAll(() => okta.close());

  it('an Okta connection added through its form; its groups picked by name from the org, with a search box', async () => {
    const s = await openConsole({ env: { OKTA_TOKEN: TOKEN, USERSYNC_ALLOW_INSECURE_HTTP: 'true' } });
    try {
      const { page } = s;
      await page.goto(`${s.url}connections/new?type=okta`);
      await page.getByRole('textbox', { name: 'Name*', exact: true }).fill('Okta');
      await page.getByRole('textbox', { name: 'Org URL*' }).fill(okta.url);
      await page.getByRole('textbox', { name: 'API token setting*' }).fill('OKTA_TOKEN');
      await page.getByRole('button', { name: 'Save connection' }).click();
      await page.getByRole('heading', { name: 'Okta', level: 1 }).waitFor();
      expect((await s.t.app.deps.connections.get('Okta'))?.profile).toMatchObject({ type: 'okta', orgUrl: okta.url, credential: { kind: 'token', tokenSecret: 'OKTA_TOKEN' }, selectedGroups: [] });

      await page.getByRole('button', { name: 'Choose groups' }).click();
      const search = page.getByRole('searchbox', { name: 'Search groups' });
      await search.fill('sta');
      const choices = page.getByRole('group', { name: /matching group/ });
      await expect.poll(async () => (await choices.getByRole('checkbox').all()).length).toBe(2);
      await choices.getByRole('checkbox', { name: /^Staff/ }).check();
      await page.getByRole('button', { name: 'Save selection' }).click();
      await page.getByText('Saved: 1 group(s) selected.').waitFor();
      expect((await s.t.app.deps.connections.get('Okta'))?.profile).toMatchObject({ selectedGroups: ['00gstaff'] });
      await s.screenshot('connections-groups');
      await expectAccessible(page, 'connections-groups');
    } finally {
      await s.close();
    }
  });

  it('the form takes each shape a profile has: an Entra tenant with a certificate, a CSV file from a web server', async () => {
    const s = await openConsole();
    try {
      const { page } = s;
      await page.goto(`${s.url}connections/new?type=entra`);
      await page.getByRole('textbox', { name: 'Name*', exact: true }).fill('Contoso');
      await page.getByRole('textbox', { name: 'Tenant*' }).fill('contoso.onmicrosoft.com');
      await page.getByRole('textbox', { name: 'Application (client) id*' }).fill('00000000-0000-0000-0000-000000000001');
      await page.getByRole('combobox', { name: 'Credential' }).selectOption({ label: 'Certificate' });
      await page.getByRole('textbox', { name: /^Certificate setting/ }).fill('CONTOSO_CERT');
      await expectAccessible(page, 'connections-form (entra)');
      await page.getByRole('button', { name: 'Save connection' }).click();
      await page.getByRole('heading', { name: 'Contoso', level: 1 }).waitFor();
      expect((await s.t.app.deps.connections.get('Contoso'))?.profile).toMatchObject({
        type: 'entra',
        tenantId: 'contoso.onmicrosoft.com',
        credential: { kind: 'certificate', certificateSecret: 'CONTOSO_CERT' },
      });

      await page.goto(`${s.url}connections/new?type=csv`);
      await page.getByRole('textbox', { name: 'Name*', exact: true }).fill('Remote HR');
      await page.getByRole('combobox', { name: 'Where the file comes from' }).selectOption({ label: 'A web server (HTTPS)' });
      await page.getByRole('textbox', { name: 'URL*' }).fill('https://hr.example.org/export.csv');
      await page.getByRole('textbox', { name: 'Username (basic authentication)' }).fill('sync');
      await page.getByRole('textbox', { name: 'Password setting', exact: true }).fill('HR_PASSWORD');
      await page.getByRole('button', { name: 'Save connection' }).click();
      await page.getByRole('heading', { name: 'Remote HR', level: 1 }).waitFor();
      expect((await s.t.app.deps.connections.get('Remote HR'))?.profile).toMatchObject({
        source: { kind: 'https', url: 'https://hr.example.org/export.csv', username: 'sync', passwordSecret: 'HR_PASSWORD' },
      });
      // No upload for a file the app fetches; editing keeps the name and shows what was saved.
      expect(await page.getByLabel('CSV file').count()).toBe(0);
      await page.getByRole('link', { name: 'Edit' }).click();
      expect(await page.getByRole('textbox', { name: 'URL*' }).inputValue()).toBe('https://hr.example.org/export.csv');
      expect(await page.getByRole('textbox', { name: 'Name*', exact: true }).isEditable()).toBe(false);
    } finally {
      await s.close();
    }
  });
});

describe('a Reader', () => {
  it('sees connections and their runs, and no control that changes anything', async () => {
    const s = await openConsole({ signedInAs: { upn: 'rita@contoso.com', roles: ['UserSync.Reader'] }, env: { TEST_DEFAULT_PASSWORD: 'Reader-Initial-1' } });
    try {
      await putProfile(s.t, csvProfile('HR export', 'people.csv'));
      await uploadCsv(s.t, 'people.csv', await readFile(PEOPLE));
      await syncNow(s.t, 'HR export');
      const { page } = s;
      await page.goto(`${s.url}connections`);
      await page.getByText('Signed in as rita@contoso.com · Reader').waitFor();
      await page.getByRole('row', { name: /HR export/ }).getByRole('link', { name: 'Succeeded' }).waitFor();
      expect(await page.getByRole('link', { name: 'Add a connection' }).count()).toBe(0);

      await page.getByRole('link', { name: 'HR export' }).click();
      await page.getByRole('link', { name: 'All runs of HR export' }).waitFor();
      for (const name of ['Sync now', 'Dry run', 'Test connection', 'Reset', 'Delete', 'Upload']) expect([name, await page.getByRole('button', { name }).count()]).toEqual([name, 0]);
      expect(await page.getByRole('link', { name: 'Edit' }).count()).toBe(0);
      await expectAccessible(page, 'connections-detail (reader)');
    } finally {
      await s.close();
    }
  });
});
