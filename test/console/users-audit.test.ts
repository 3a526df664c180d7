import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAccessible, openConsole, type ConsoleSession } from '../support/console-browser.js';
import { csvProfile, putProfile, syncNow, uploadCsv } from '../support/test-app.js';
import { eventually, pageWidth, rowsOf } from './console-support.js';

/**
 * The Users and Audit screens in a real browser, on a directory synced twice from the sample HR exports:
 * next week's export leaves Katherine out (she is disabled) and moves Alan to Research, with a `door pin`
 * column whose values the trail withholds.
 */

const WEEK_ONE = readFileSync('samples/people.csv', 'utf8');
/** Next week's sample with a column named like a secret: its changes are recorded without values. */
const WEEK_TWO = readFileSync('samples/people-next-week.csv', 'utf8')
  .trim()
  .split('\n')
  .map((line, index) => `${line},${index === 0 ? 'door pin' : `${1000 + index}`}`)
  .join('\n');

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10);

describe('the Users and Audit screens', () => {
  let s: ConsoleSession;
  beforeAll(async () => {
    s = await openConsole({ env: { TEST_DEFAULT_PASSWORD: 'Console-Initial-1' } });
    await putProfile(s.t, csvProfile('HR', 'hr/people.csv', { managerField: 'manager' }));
    await uploadCsv(s.t, 'hr/people.csv', WEEK_ONE);
    expect((await syncNow(s.t, 'HR')).state).toBe('succeeded');
    await uploadCsv(s.t, 'hr/people.csv', WEEK_TWO);
    expect((await syncNow(s.t, 'HR')).state).toBe('succeeded');
    // A directory matched by email: its users' records are filed under their email, not their username.
    await putProfile(s.t, csvProfile('Agency', 'agency.csv', { matchField: 'email' }));
    await uploadCsv(s.t, 'agency.csv', 'username,email,first name,last name\nsam.agency,Sam@Agency.example,Sam,Agency\n');
    expect((await syncNow(s.t, 'Agency')).state).toBe('succeeded');
  });
  afterAll(() => s?.close());

  const auditTable = () => s.page.getByRole('table', { name: 'Audit records, newest first' });

  it('answers "why was this user disabled?" in two clicks: Users → the user → History shows the disabled record first, with its reason and actor', async () => {
    const { page } = s;
    await page.goto(`${s.url}users`);
    await page.getByLabel('Search', { exact: true }).fill('katherine');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await eventually(() => page.url()).toContain('q=katherine');
    await eventually(() => rowsOf(page.getByRole('table', { name: 'Users' }))).toEqual([['katherine.johnson', 'Katherine Johnson', 'katherine.johnson@example.org', 'disabled', 'HR']]);
    await s.screenshot('users-list');
    await expectAccessible(page, 'users-list');

    await page.getByRole('link', { name: 'katherine.johnson' }).click();
    await page.getByRole('heading', { level: 1, name: 'Katherine Johnson' }).waitFor();
    const stored = await s.t.app.deps.users.get((await s.t.app.deps.connections.get('HR'))!.directoryKey, 'katherine.johnson');
    expect(stored).toMatchObject({ status: 'disabled', disabledReason: 'missing-from-source' });
    await eventually(() => page.locator('dl.details').first().innerText()).toContain('disabled — not in the last complete listing of its directory (missing-from-source)');
    const [newest] = await rowsOf(page.getByRole('table', { name: 'History of katherine.johnson, newest first' }));
    const [time, action, connection, by, what] = newest!;
    expect({ action, connection, by }).toEqual({ action: 'disabled', connection: 'HR', by: 'tester (usersync CLI)' });
    expect(what).toContain('not in the last complete listing of its directory (missing-from-source)');
    expect(what).toContain('status: active → disabled');
    expect(time).not.toBe('');
    await s.screenshot('users-detail');
    await expectAccessible(page, 'users-detail');
  });

  it("shows a user's manager and direct reports, each a link to that person's page", async () => {
    const { page } = s;
    await page.goto(`${s.url}users/alan.turing`);
    await page.getByRole('heading', { level: 1, name: 'Alan Turing' }).waitFor();
    const orgChart = page.getByRole('region', { name: 'Manager and reports' });
    await orgChart.getByRole('link', { name: 'Ada Lovelace' }).click();
    await page.getByRole('heading', { level: 1, name: 'Ada Lovelace' }).waitFor();
    const reports = page.getByRole('region', { name: 'Manager and reports' }).getByRole('listitem');
    await eventually(() => reports.allInnerTexts()).toEqual(['Alan Turing (alan.turing)', 'Barbara Liskov (barbara.liskov)', 'Charles Babbage (charles.babbage)', 'Edsger Dijkstra (edsger.dijkstra)']);
    await eventually(() => page.locator('dl.details').nth(1).innerText()).toContain('Head of Research');
  });

  it('pages through users with a small limit, in username order, until no page follows', async () => {
    const { page } = s;
    await page.goto(`${s.url}users?limit=4`);
    const table = page.getByRole('table', { name: 'Users' });
    expect(await rowsOf(table)).toHaveLength(4);
    const more = page.getByRole('button', { name: 'More users' });
    await more.click();
    await eventually(async () => (await rowsOf(table)).length).toBe(8);
    await more.click();
    await eventually(async () => (await rowsOf(table)).length).toBe(10);
    await page.getByText('10 users shown.').waitFor();
    expect(await more.count()).toBe(0);
    const stored: string[] = [];
    for await (const user of s.t.app.deps.users.list()) stored.push(user.username);
    expect((await rowsOf(table)).map(([username]) => username)).toEqual(stored.sort());
  });

  it("finds a user's records by username wherever the directory files them (here under the email it matches by)", async () => {
    const { page } = s;
    await page.goto(`${s.url}users`);
    await page.getByLabel('Connection', { exact: true }).selectOption('Agency');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await eventually(() => new URL(page.url()).searchParams.get('connection')).toBe('Agency');
    await eventually(() => rowsOf(page.getByRole('table', { name: 'Users' }))).toEqual([['sam.agency', 'Sam Agency', 'Sam@Agency.example', 'active', 'Agency']]);
    await page.getByRole('link', { name: 'sam.agency' }).click();
    expect((await rowsOf(page.getByRole('table', { name: 'History of sam.agency, newest first' }))).map((row) => row[1])).toEqual(['created']);

    await page.getByRole('link', { name: "Search this user's records in Audit" }).click();
    await eventually(() => new URL(page.url()).searchParams.get('user')).toBe('sam.agency');
    await eventually(async () => (await rowsOf(auditTable())).map((row) => [row[1], row[2], row[3]])).toEqual([['created', 'sam.agency', 'Agency']]);
  });

  it("exports the filtered users as a CSV download with the export's header", async () => {
    const { page } = s;
    await page.goto(`${s.url}users?status=disabled`);
    await page.getByRole('table', { name: 'Users' }).waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
    expect(download.suggestedFilename()).toMatch(/^users-\d{4}-\d{2}-\d{2}\.csv$/);
    const rows = parse(await readFile(await download.path()), { bom: true }) as string[][];
    expect(rows[0]!.slice(0, 9)).toEqual(['username', 'email', 'firstName', 'lastName', 'status', 'connection', 'manager', 'groups', 'localGroups']);
    expect(rows.slice(1).map((row) => [row[0], row[4]])).toEqual([['katherine.johnson', 'disabled']]);
  });

  it('filters the trail by action and by date range: the list and the address change, and Back returns to the filters before', async () => {
    const { page } = s;
    await page.goto(`${s.url}audit`);
    const everything = await rowsOf(auditTable());
    expect(new Set(everything.map((row) => row[1]))).toContain('created');

    await page.getByLabel('Action', { exact: true }).selectOption('disabled');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await eventually(() => new URL(page.url()).searchParams.get('action')).toBe('disabled');
    await eventually(async () => (await rowsOf(auditTable())).map((row) => [row[1], row[2]])).toEqual([['disabled', 'katherine.johnson']]);

    await page.getByLabel('From', { exact: true }).fill(day(1));
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await eventually(() => new URL(page.url()).searchParams.get('since')).toBe(day(1));
    await page.getByText('No record matches these filters.').waitFor();

    await page.getByLabel('From', { exact: true }).fill(day(-1));
    await page.getByLabel('To', { exact: true }).fill(day(1));
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await eventually(() => new URL(page.url()).searchParams.get('until')).toBe(day(1));
    await eventually(async () => (await rowsOf(auditTable())).map((row) => row[2])).toEqual(['katherine.johnson']);

    await page.goBack();
    await page.getByText('No record matches these filters.').waitFor();
    expect(await page.getByLabel('From', { exact: true }).inputValue()).toBe(day(1));
    await page.goBack();
    await page.goBack();
    await eventually(async () => (await rowsOf(auditTable())).length).toBe(everything.length);
    expect(await page.getByLabel('Action', { exact: true }).inputValue()).toBe('');
  });

  it("shows an update's changed fields old → new, withholds a secret-named field's values, and names the actor", async () => {
    const { page } = s;
    await page.goto(`${s.url}audit?user=alan.turing&action=updated`);
    const rows = await rowsOf(auditTable());
    expect(rows).toHaveLength(1);
    const [, action, user, connection, by, what, run] = rows[0]!;
    expect({ action, user, connection, by }).toEqual({ action: 'updated', user: 'alan.turing', connection: 'HR', by: 'tester (usersync CLI)' });
    expect(what).toContain('manager: grace.hopper → ada.lovelace');
    expect(what).toContain('department: Engineering → Research');
    expect(what).toContain('door pin: changed (not shown)');
    expect(what).not.toMatch(/100\d/);
    const runs = await s.t.app.deps.runs.list({ connection: 'HR', limit: 10 });
    expect(run).toBe(runs[0]!.runId);
    expect(await auditTable().getByRole('link', { name: run! }).getAttribute('href')).toBe(`/runs/${run}`);
    expect(await auditTable().getByRole('link', { name: 'alan.turing' }).getAttribute('href')).toBe('/users/alan.turing');
  });

  it('pages the trail with a small limit: "Older records" follows the token, newest first throughout', async () => {
    const { page } = s;
    await page.goto(`${s.url}audit?limit=5`);
    expect(await rowsOf(auditTable())).toHaveLength(5);
    await page.getByRole('button', { name: 'Older records' }).click();
    await eventually(async () => (await rowsOf(auditTable())).length).toBe(10);
    const times = await Promise.all((await auditTable().locator('tbody time').all()).map(async (cell) => (await cell.getAttribute('datetime')) ?? ''));
    const expected = (await s.t.app.deps.audit.query({ limit: 10 })).records.map((record) => record.at);
    expect(times).toEqual(expected);
    expect([...times].sort().reverse()).toEqual(times);
    await s.screenshot('audit');
    await expectAccessible(page, 'audit');
  });

  it('is readable at 390 px: the user page and its history, tables scrolling inside the page', async () => {
    const { page } = s;
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${s.url}users/katherine.johnson`);
    await page.getByRole('table', { name: 'History of katherine.johnson, newest first' }).waitFor();
    await page.getByRole('heading', { name: 'Reports to' }).waitFor();
    // The page itself does not scroll sideways: only a table's own region does.
    expect(await pageWidth(page)).toBeLessThanOrEqual(390);
    await s.screenshot('users-detail-390');
    await expectAccessible(page, 'users-detail-390');
    await page.setViewportSize({ width: 1280, height: 800 });
  });
});
