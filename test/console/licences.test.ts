import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OutputOf } from '../../shared/admin/operations.js';
import { expectAccessible, openConsole, type ConsoleSession } from '../support/console-browser.js';
import { csvProfile, putProfile, syncNow, uploadCsv } from '../support/test-app.js';
import { eventually, pageWidth, rowsOf, ADMIN, READER } from './console-support.js';

/**
 * The Licences screen in a real browser: the sample HR export (six users it can create) synced with four
 * licences, so two users wait, blocked, for one.
 */
describe('the Licences screen', () => {
  let s: ConsoleSession;
  beforeAll(async () => {
    s = await openConsole({ signedInAs: ADMIN, env: { USERSYNC_LICENCE_LIMIT: '4', TEST_DEFAULT_PASSWORD: 'Console-Initial-1' } });
    await putProfile(s.t, csvProfile('HR', 'hr/people.csv'));
    await uploadCsv(s.t, 'hr/people.csv', readFileSync('samples/people.csv'));
    expect((await syncNow(s.t, 'HR')).state).toBe('succeeded');
  });
  afterAll(() => s?.close());

  const queueTable = () => s.page.getByRole('table', { name: 'Blocked users, in the order they get a licence' });

  it('shows licences used of the limit, per connection, and the blocked users in the order they get a licence', async () => {
    const { page } = s;
    await page.goto(`${s.url}licences`);
    await page.getByText('4 of 4 licences in use').waitFor();
    expect(await rowsOf(page.getByRole('table', { name: 'Licences per connection' }))).toEqual([['HR', '4', '2']]);

    const blocked: string[] = [];
    for await (const user of s.t.app.deps.users.list()) if (user.status === 'blocked') blocked.push(user.username);
    expect(blocked).toHaveLength(2);
    const answer = (await (await page.request.get(`${s.url}api/licences`)).json()) as OutputOf<'licences.show'>;
    const queue = await rowsOf(queueTable());
    expect(queue.map(([order, username, connection]) => [order, username, connection])).toEqual(answer.blocked.map((user, index) => [String(index + 1), user.username, 'HR']));
    expect(queue.map(([, username]) => username).sort()).toEqual(blocked.sort());
    await s.screenshot('licences');
    await expectAccessible(page, 'licences');

    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.getByText('4 of 4 licences in use').waitFor();
      expect(await pageWidth(page)).toBeLessThanOrEqual(390);
      await s.screenshot('licences-390');
      await expectAccessible(page, 'licences-390');
    } finally {
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('sorts a table by a column header, saying how it is sorted', async () => {
    const { page } = s;
    await page.goto(`${s.url}licences`);
    const header = queueTable().getByRole('columnheader', { name: 'Username' });
    const inApiOrder = (await rowsOf(queueTable())).map((row) => row[1]!);
    await header.getByRole('button').click();
    await eventually(() => header.getAttribute('aria-sort')).toBe('ascending');
    expect((await rowsOf(queueTable())).map((row) => row[1])).toEqual([...inApiOrder].sort());
    await header.getByRole('button').click();
    await eventually(() => header.getAttribute('aria-sort')).toBe('descending');
    expect((await rowsOf(queueTable())).map((row) => row[1])).toEqual([...inApiOrder].sort().reverse());
  });

  it("recounts the ledger from the users when it is off, for an admin; a Reader has no Recount", async () => {
    const { page } = s;
    await s.t.app.deps.licences.reset(1);
    await page.goto(`${s.url}licences`);
    await page.getByText('The users count 4 active, the ledger the sync hands licences out by says 1').waitFor();
    await page.getByRole('button', { name: 'Recount' }).click();
    await page.getByText('Recounted: 4 licences in use.').waitFor();
    expect(await s.t.app.deps.licences.used()).toBe(4);
    await page.getByText('4 of 4 licences in use').waitFor();

    await s.signIn(READER);
    try {
      await page.reload();
      await page.getByText('Signed in as rita@example.org').waitFor();
      await page.getByText('4 of 4 licences in use').waitFor();
      expect(await page.locator('button:not(.sort)').count()).toBe(0);
    } finally {
      await s.signIn(ADMIN);
    }
  });
});
