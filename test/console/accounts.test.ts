import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_DIRECTORY } from '../../shared/sync/model.js';
import { verifyPassword } from '../../shared/sync/rules/passwords.js';
import { expectAccessible, openConsole, type ConsoleSession } from '../support/console-browser.js';
import { eventually, rowsOf, ADMIN, READER } from './console-support.js';

/** Local accounts and groups in a real browser: what an admin does, checked against what the app stored. */
describe('the Local accounts & groups screen', () => {
  let s: ConsoleSession;
  beforeAll(async () => {
    s = await openConsole({ signedInAs: ADMIN });
  });
  afterAll(() => s?.close());

  const stored = (username: string) => s.t.app.deps.users.get(LOCAL_DIRECTORY, username);
  const accountsTable = () => s.page.getByRole('table', { name: 'Local accounts' });

  it('creates a local account from the form, showing what the API refuses at the field it is about', async () => {
    const { page } = s;
    await page.goto(`${s.url}accounts`);
    await page.getByText('There are no local accounts.').waitFor();
    await page.getByLabel('Username', { exact: true }).fill('kim.contractor');
    await page.getByLabel('Email', { exact: true }).fill('not an address');
    await page.getByLabel('First name').fill('Kim');
    await page.getByLabel('Last name').fill('Contractor');
    await page.getByRole('button', { name: 'Add account' }).click();
    const email = page.getByLabel('Email', { exact: true });
    await eventually(() => email.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await email.getAttribute('aria-describedby'))!.split(' ');
    expect(await page.locator(`#${describedBy.at(-1)}`).innerText()).toBe('a valid email address is required');
    await page.getByRole('alert').first().waitFor();
    expect(await stored('kim.contractor')).toBeUndefined();

    await email.fill('kim@example.org');
    await page.getByRole('button', { name: 'Add account' }).click();
    await page.getByText('Local account kim.contractor created.').waitFor();
    expect(await stored('kim.contractor')).toMatchObject({ username: 'kim.contractor', email: 'kim@example.org', firstName: 'Kim', lastName: 'Contractor', status: 'active' });
    await eventually(() => rowsOf(accountsTable())).toEqual([['kim.contractor', 'Kim Contractor', 'kim@example.org', 'active', '', expect.any(String)]]);
    expect(await email.getAttribute('aria-invalid')).toBeNull();
  });

  it('sets a one-time password: shown once in its dialog, stored only as a hash to change at the next sign-in', async () => {
    const { page } = s;
    await page.goto(`${s.url}accounts`);
    await page.getByRole('button', { name: 'Set one-time password for kim.contractor' }).click();
    const dialog = page.getByRole('dialog', { name: 'Set a one-time password for kim.contractor' });
    await dialog.getByRole('button', { name: 'Set password' }).click();
    const shown = page.getByRole('dialog', { name: 'One-time password for kim.contractor' });
    const field = shown.getByLabel('One-time password');
    const password = await field.inputValue();
    // Focus is on the password, ready to copy, once it is shown.
    await eventually(() => field.evaluate((input) => input === (input as unknown as { ownerDocument: { activeElement: unknown } }).ownerDocument.activeElement)).toBe(true);
    expect(password).toMatch(/^[A-Za-z2-9]{16}$/);
    await shown.getByText('kim.contractor must change it at the next sign-in.').waitFor();
    await s.screenshot('accounts-one-time-password');

    const account = await stored('kim.contractor');
    expect(account?.mustChangePassword).toBe(true);
    expect(await verifyPassword(password, account!.passwordHash!)).toBe(true);

    await shown.getByRole('button', { name: 'Done' }).click();
    await eventually(() => page.getByRole('dialog').count()).toBe(0);
    // Once the dialog is closed the password is nowhere in the page.
    expect(await page.content()).not.toContain(password);
    await eventually(async () => (await rowsOf(accountsTable()))[0]?.[4]).toBe('One-time: to change at next sign-in');
  });

  it('disables and enables a local account: the stored status follows', async () => {
    const { page } = s;
    await page.goto(`${s.url}accounts`);
    await page.getByRole('button', { name: 'Disable kim.contractor' }).click();
    await page.getByText('kim.contractor is now disabled.').waitFor();
    expect(await stored('kim.contractor')).toMatchObject({ status: 'disabled', disabledReason: 'disabled-by-admin' });
    await eventually(async () => (await rowsOf(accountsTable()))[0]?.[3]).toBe('disabled');

    await page.getByRole('button', { name: 'Enable kim.contractor' }).click();
    await page.getByText('kim.contractor is now active.').waitFor();
    expect((await stored('kim.contractor'))?.status).toBe('active');
  });

  it('creates a local group, adds a member by username and takes them out again', async () => {
    const { page } = s;
    await page.goto(`${s.url}accounts`);
    await page.getByLabel('Group name').fill('Contractors');
    await page.getByRole('button', { name: 'Add group' }).click();
    await page.getByText('Local group Contractors created.').waitFor();
    expect(await s.t.app.deps.groups.get('Contractors')).toMatchObject({ name: 'Contractors', origin: LOCAL_DIRECTORY });
    await s.screenshot('accounts');
    await expectAccessible(page, 'accounts');

    await page.getByRole('table', { name: 'Groups' }).getByRole('link', { name: 'Contractors' }).click();
    await page.getByRole('heading', { level: 1, name: 'Group Contractors' }).waitFor();
    await page.getByLabel('Username').fill('nobody.here');
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.getByText('There is no user "nobody.here".').first().waitFor();

    await page.getByLabel('Username').fill('kim.contractor');
    await page.getByRole('button', { name: 'Add member' }).click();
    await page.getByText('kim.contractor added to Contractors.').waitFor();
    expect((await stored('kim.contractor'))?.localGroups).toEqual(['Contractors']);
    await eventually(() => rowsOf(page.getByRole('table', { name: 'Members of Contractors' }))).toEqual([['kim.contractor', 'Kim Contractor', 'active', 'Local', 'Remove kim.contractor']]);
    await s.screenshot('accounts-group');
    await expectAccessible(page, 'accounts-group');

    await page.getByRole('button', { name: 'Remove kim.contractor' }).click();
    await page.getByText('kim.contractor left Contractors.').waitFor();
    expect((await stored('kim.contractor'))?.localGroups).toEqual([]);
  });

  it('deletes a group and an account only after a confirmation saying what it does', async () => {
    const { page } = s;
    await page.goto(`${s.url}accounts`);
    await page.getByRole('button', { name: 'Delete group Contractors' }).click();
    const confirmGroup = page.getByRole('dialog', { name: 'Delete the group Contractors?' });
    await confirmGroup.getByText('the users themselves are not changed').waitFor();
    // Escape closes it, as Cancel does: nothing is deleted.
    await page.keyboard.press('Escape');
    await eventually(() => page.getByRole('dialog').count()).toBe(0);
    expect(await s.t.app.deps.groups.get('Contractors')).toBeDefined();
    await page.getByRole('button', { name: 'Delete group Contractors' }).click();
    await confirmGroup.getByRole('button', { name: 'Delete group' }).click();
    await page.getByText('Local group Contractors deleted').waitFor();
    expect(await s.t.app.deps.groups.get('Contractors')).toBeUndefined();

    await page.getByRole('button', { name: 'Delete kim.contractor' }).click();
    const confirmAccount = page.getByRole('dialog', { name: 'Delete kim.contractor?' });
    await confirmAccount.getByText('To stop someone signing in for now, disable the account instead.').waitFor();
    await confirmAccount.getByRole('button', { name: 'Delete account' }).click();
    await page.getByText('Local account kim.contractor deleted; its username is free.').waitFor();
    expect(await stored('kim.contractor')).toBeUndefined();
    await page.getByText('There are no local accounts.').waitFor();
  });

  it('shows a Reader the accounts and groups, and no control that changes them', async () => {
    const { page } = s;
    // Something to see: an account and a group an admin made.
    await page.goto(`${s.url}accounts`);
    await page.getByLabel('Username', { exact: true }).fill('rae.reader');
    await page.getByLabel('Email', { exact: true }).fill('rae@example.org');
    await page.getByLabel('First name').fill('Rae');
    await page.getByLabel('Last name').fill('Reader');
    await page.getByRole('button', { name: 'Add account' }).click();
    await page.getByText('Local account rae.reader created.').waitFor();
    await page.getByLabel('Group name').fill('Readers');
    await page.getByRole('button', { name: 'Add group' }).click();
    await page.getByText('Local group Readers created.').waitFor();

    await s.signIn(READER);
    try {
      await page.reload();
      await page.getByText('Signed in as rita@example.org').waitFor();
      await page.getByRole('table', { name: 'Local accounts' }).getByRole('link', { name: 'rae.reader' }).waitFor();
      await page.getByRole('table', { name: 'Groups' }).getByRole('link', { name: 'Readers' }).waitFor();
      // Only the tables' sort buttons: nothing that changes state, and no form.
      expect(await page.locator('button:not(.sort)').allInnerTexts()).toEqual([]);
      expect(await page.locator('form').count()).toBe(0);

      await page.getByRole('link', { name: 'Readers' }).click();
      await page.getByRole('heading', { level: 1, name: 'Group Readers' }).waitFor();
      await page.getByText('No members yet.').waitFor();
      expect(await page.locator('button:not(.sort), form').count()).toBe(0);
    } finally {
      await s.signIn(ADMIN);
    }
  });
});
