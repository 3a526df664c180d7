import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { expectAccessible, openConsole, type ConsoleSession } from '../support/console-browser.js';
import { csvProfile, putProfile, syncNow, uploadCsv, usersOf } from '../support/test-app.js';

/**
 * The Runs screens in a real browser on the real app: a held run's users and its confirmation, the list's
 * filters and sorting, a running run followed live (and cancelled), and what a Reader sees of a held run.
 */

const PEOPLE = 'samples/people.csv';
const NEXT_WEEK = 'samples/people-next-week.csv';
/** The sample profile's guard (samples/hr-profile.json): next week's one leaver of six is held. */
const SAMPLE_GUARD = { disableGuard: { maxPercent: 10, minCount: 0 }, managerField: 'manager' };
const ENV = { TEST_DEFAULT_PASSWORD: 'Runs-Initial-1' };

/** The sample synced once, through the app's own use cases: the starting point of an admin's next week. */
async function sampleSynced(s: ConsoleSession): Promise<void> {
  await putProfile(s.t, csvProfile('HR export', 'hr/people.csv', SAMPLE_GUARD));
  await uploadCsv(s.t, 'hr/people.csv', await readFile(PEOPLE));
  expect((await syncNow(s.t, 'HR export')).state).toBe('succeeded');
}

/** The run whose page is open. */
function runIdOf(s: ConsoleSession): string {
  return decodeURIComponent(new URL(s.page.url()).pathname.split('/').at(-1)!);
}

describe('a run held by the disable guard', () => {
  it('is seen with the users it would disable and its plan, and confirmed from its page: they are disabled', async () => {
    const s = await openConsole({ env: ENV });
    try {
      await sampleSynced(s);
      const { page } = s;
      await page.goto(`${s.url}connections/HR%20export`);
      await page.getByLabel('CSV file').setInputFiles(NEXT_WEEK);
      await page.getByRole('button', { name: 'Upload', exact: true }).click();
      await page.getByText(/^Uploaded people-next-week\.csv/).waitFor();
      await page.getByRole('button', { name: 'Sync now' }).click();

      const held = page.getByRole('region', { name: 'Held for confirmation' });
      await held.waitFor({ timeout: 30_000 });
      expect(await page.locator('.run-state').textContent()).toContain('State: Waiting for confirmation');
      expect(await held.getByRole('list', { name: 'Users it would disable' }).getByRole('listitem').allTextContents()).toEqual(['katherine.johnson']);
      expect(await held.textContent()).toMatch(/would disable 1 of 6 enabled user\(s\)/);
      const plan = page.getByRole('table', { name: 'Planned changes' });
      await plan.getByRole('row', { name: /^disable\s*katherine\.johnson/ }).waitFor();
      expect((await usersOf(s.t, 'HR export')).get('katherine.johnson')?.status).toBe('active');
      await s.screenshot('runs-held');
      await expectAccessible(page, 'runs-held');

      await held.getByRole('button', { name: 'Confirm' }).click();
      const dialog = page.getByRole('dialog', { name: 'Disable 1 user(s)?' });
      expect(await dialog.textContent()).toContain('disabled, never deleted');
      await dialog.getByRole('button', { name: 'Disable 1 user(s)' }).click();

      await expect.poll(() => page.locator('.run-state').textContent(), { timeout: 30_000 }).toMatch(/State: Succeeded/);
      expect(await page.locator('.facts').textContent()).toContain('by an admin through the API');
      expect((await usersOf(s.t, 'HR export')).get('katherine.johnson')?.status).toBe('disabled');
      expect(await s.t.app.deps.runs.get(runIdOf(s))).toMatchObject({ state: 'succeeded', confirmedBy: 'api', counts: { disabled: 1 } });
    } finally {
      await s.close();
    }
  });

  it('a Reader sees whom it would disable, and no Confirm', async () => {
    const s = await openConsole({ env: ENV, signedInAs: { upn: 'rita@contoso.com', roles: ['UserSync.Reader'] } });
    try {
      await sampleSynced(s);
      await uploadCsv(s.t, 'hr/people.csv', await readFile(NEXT_WEEK));
      const held = await syncNow(s.t, 'HR export');
      expect(held.state).toBe('needs-confirmation');
      const { page } = s;
      await page.goto(`${s.url}runs/${held.runId}`);
      const region = page.getByRole('region', { name: 'Held for confirmation' });
      await region.getByRole('link', { name: 'katherine.johnson' }).waitFor();
      await page.getByRole('table', { name: 'Planned changes' }).waitFor();
      expect(await region.textContent()).toContain('Left unconfirmed, it disables no one');
      // The only buttons are the plan's column headers (sorting): nothing that changes anything.
      expect(await page.locator('main :not(th) > button').allTextContents()).toEqual([]);
      await expectAccessible(page, 'runs-held (reader)');
    } finally {
      await s.close();
    }
  });
});

describe('the runs list', () => {
  it('filters by connection and state (kept in the address) and sorts by a column', async () => {
    const s = await openConsole({ env: ENV });
    try {
      await putProfile(s.t, csvProfile('Alpha', 'alpha.csv'));
      await uploadCsv(s.t, 'alpha.csv', 'username,email,firstName,lastName\nann,ann@example.org,Ann,Alpha\n');
      await syncNow(s.t, 'Alpha');
      await syncNow(s.t, 'Alpha', { dryRun: true });
      // Beta's file was never uploaded: its run fails.
      await putProfile(s.t, csvProfile('Beta', 'beta.csv'));
      expect((await syncNow(s.t, 'Beta')).state).toBe('failed');

      const { page } = s;
      await page.goto(`${s.url}runs`);
      const table = page.getByRole('table', { name: 'Runs' });
      const rows = table.getByRole('row');
      await expect.poll(() => rows.count()).toBe(4); // the header and three runs
      await s.screenshot('runs-list');
      await expectAccessible(page, 'runs-list');

      await page.getByRole('combobox', { name: 'Connection' }).selectOption('Alpha');
      await expect.poll(() => rows.count()).toBe(3);
      expect(new URL(page.url()).searchParams.get('connection')).toBe('Alpha');
      expect(await table.textContent()).not.toContain('Beta');

      await page.getByRole('combobox', { name: 'Connection' }).selectOption('');
      await page.getByRole('combobox', { name: 'State' }).selectOption({ label: 'Failed' });
      await expect.poll(() => rows.count()).toBe(2);
      expect(await rows.nth(1).textContent()).toContain('Beta');
      await page.getByRole('combobox', { name: 'State' }).selectOption({ label: 'Succeeded' });
      await expect.poll(() => rows.count()).toBe(3);

      // Sorting: by connection, then the other way round; the header says which.
      await page.goBack();
      await page.goBack();
      await expect.poll(() => rows.count()).toBe(4);
      const connectionHeader = table.getByRole('columnheader', { name: /Connection/ });
      await connectionHeader.getByRole('button').click();
      expect(await connectionHeader.getAttribute('aria-sort')).toBe('ascending');
      expect((await table.getByRole('row').allTextContents()).slice(1).map((row) => row.includes('Alpha'))).toEqual([true, true, false]);
      await connectionHeader.getByRole('button').click();
      expect(await connectionHeader.getAttribute('aria-sort')).toBe('descending');
      expect((await table.getByRole('row').allTextContents()).slice(1).map((row) => row.includes('Alpha'))).toEqual([false, true, true]);
    } finally {
      await s.close();
    }
  });
});

/** An HR web server that holds every request until the test lets it answer: meanwhile the run is still reading. */
async function gatedCsvServer(csv: string) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let arrived!: () => void;
  const requested = new Promise<void>((resolve) => (arrived = resolve));
  const server = http.createServer((_request, response) => {
    arrived();
    void released.then(() => response.writeHead(200, { 'content-type': 'text/csv' }).end(csv));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/export.csv`,
    requested,
    release,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('a running run', () => {
  type Gate = Awaited<ReturnType<typeof gatedCsvServer>>;

  /** A sync started from the connection's page, its run page open while the HR server holds the file back. */
  async function whileRunning(check: (s: ConsoleSession, gate: Gate) => Promise<void>): Promise<void> {
    const s = await openConsole({ env: { ...ENV, USERSYNC_ALLOW_INSECURE_HTTP: 'true', USERSYNC_ALLOW_PRIVATE_SOURCES: 'true' } });
    const gate = await gatedCsvServer('username,email,firstName,lastName\nann,ann@example.org,Ann,Live\nbob,bob@example.org,Bob,Live\n');
    try {
      await putProfile(s.t, csvProfile('Live', 'unused.csv', { source: { kind: 'https', url: gate.url } }));
      await s.page.goto(`${s.url}connections/Live`);
      await s.page.getByRole('button', { name: 'Sync now' }).click();
      await s.page.waitForURL(/\/runs\/\d/);
      await gate.requested;
      await check(s, gate);
    } finally {
      gate.release();
      await gate.close();
      await s.close();
    }
  }

  it('updates live on its page (announced): reading, then succeeded with its counts, without a reload', () =>
    whileRunning(async (s, gate) => {
      const { page } = s;
      const live = page.locator('.run-state');
      expect(await live.getAttribute('aria-live')).toBe('polite');
      await expect.poll(() => live.textContent()).toMatch(/State: Reading the directory0 page\(s\) read · 0 of 16 shards done/);
      await page.getByRole('button', { name: 'Cancel run' }).waitFor();
      await s.screenshot('runs-detail');
      await expectAccessible(page, 'runs-detail (running)');
      // Marks this page: a reload would lose the mark.
      await page.evaluate(() => Object.assign(globalThis, { stillTheSamePage: true }));

      gate.release();
      await expect.poll(() => live.textContent(), { timeout: 30_000 }).toMatch(/State: Succeeded/);
      expect(await live.textContent()).toContain('2 created');
      expect(await page.evaluate(() => (globalThis as { stillTheSamePage?: boolean }).stillTheSamePage)).toBe(true);
      expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
      expect([...(await usersOf(s.t, 'Live')).keys()].sort()).toEqual(['ann', 'bob']);
    }));

  it('says until when the directory throttles the listing, while it does', () =>
    whileRunning(async (s) => {
      const live = s.page.locator('.run-state');
      // What a page job records when the directory answers 429 (listing-throttle.ts), ten minutes ahead.
      const until = new Date(Date.now() + 10 * 60_000);
      await s.t.app.deps.runs.update(runIdOf(s), (run) => ({ ...run, throttledUntil: until.toISOString() }));
      await expect.poll(() => live.textContent()).toMatch(/0 of 16 shards done · so far: .* · throttled by the directory until /);
      expect(await live.locator('time').last().getAttribute('datetime')).toBe(until.toISOString());
    }));

  it('is cancelled from its page after a confirmation: it ends cancelled and disables no one', () =>
    whileRunning(async (s) => {
      const { page } = s;
      await page.getByRole('button', { name: 'Cancel run' }).click();
      const dialog = page.getByRole('dialog', { name: 'Cancel this run?' });
      expect(await dialog.textContent()).toContain('disables no one');
      await dialog.getByRole('button', { name: 'Cancel the run' }).click();
      await expect.poll(() => page.locator('.run-state').textContent()).toMatch(/State: Cancelled/);
      expect(await s.t.app.deps.runs.get(runIdOf(s))).toMatchObject({ state: 'cancelled', counts: { disabled: 0 } });
    }));
});
