import { beforeAll, describe, expect, it } from 'vitest';
import { testConnection } from '../../shared/admin/connection-checks.js';
import { auditOf, createTestApp, csvProfile, putProfile, syncNow, uploadCsv, usersOf, type TestApp } from '../support/test-app.js';

/**
 * Issue 13: CSV files an admin cannot trust — mixed line endings, the wrong delimiter, literal quotes,
 * control characters, impossible usernames — through the real pipeline on Azurite. A row that cannot
 * be tied to a user with certainty must never get anyone disabled, and a run that could use no row fails.
 */

const HEADER = 'username,email,firstName,lastName,department';
const row = (name: string, department = 'Sales') => `${name},${name}@example.org,${name.charAt(0).toUpperCase()}${name.slice(1)},Tester,${department}`;
const csv = (names: string[]) => [HEADER, ...names.map((name) => row(name))].join('\n') + '\n';
const DEFAULT_PASSWORD = 'Default-Pa55word!';

describe('CSV input that cannot be trusted, through the real pipeline on Azurite', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TEST_DEFAULT_PASSWORD: DEFAULT_PASSWORD });
  });

  const statuses = async (connection: string) => Object.fromEntries([...(await usersOf(t, connection))].map(([name, user]) => [name, user.status]));

  it('reads a file with CRLF, LF and lone CR line endings uploaded over a good one as the same users: none merged, none disabled', async () => {
    const names = ['mia', 'max', 'mel', 'mo', 'meg', 'mick'];
    await putProfile(t, csvProfile('Mixed', 'mixed.csv'));
    await uploadCsv(t, 'mixed.csv', csv(names));
    expect((await syncNow(t, 'Mixed')).counts.created).toBe(6);

    // Saved by several tools in turn: lone CRs (classic Mac), CRLF, LF; mel changed department.
    const endings = ['\r', '\r\n', '\r', '\n', '\r', '\r\n'];
    const mixed = HEADER + '\r\n' + names.map((name, i) => row(name, name === 'mel' ? 'Legal' : 'Sales') + endings[i]).join('');
    await uploadCsv(t, 'mixed.csv', mixed);
    const run = await syncNow(t, 'Mixed');
    expect(run).toMatchObject({ state: 'succeeded', unreadableRecords: 0, warnings: [] });
    expect(run.counts).toMatchObject({ updated: 1, unchanged: 5, disabled: 0, skipped: 0 });
    const users = await usersOf(t, 'Mixed');
    expect(Object.fromEntries([...users].map(([name, user]) => [name, [user.status, user.attributes.department]]))).toEqual({
      mia: ['active', 'Sales'],
      max: ['active', 'Sales'],
      mel: ['active', 'Legal'],
      mo: ['active', 'Sales'],
      meg: ['active', 'Sales'],
      mick: ['active', 'Sales'],
    });
  });

  it('disables no one while a row cannot be tied to a user with certainty, and says why', async () => {
    await putProfile(t, csvProfile('Uncertain', 'uncertain.csv'));
    await uploadCsv(t, 'uncertain.csv', csv(['una', 'uri', 'uma', 'udo']));
    await syncNow(t, 'Uncertain');

    // udo left; uri's row has a column too many (a value with an unquoted comma): the file says nothing certain about who is missing.
    await uploadCsv(t, 'uncertain.csv', `${HEADER}\n${row('una')}\r${'uri,uri@example.org,Uri,Tester,Sales, Europe'}\n${row('uma')}\n`);
    const run = await syncNow(t, 'Uncertain');
    expect(run).toMatchObject({ state: 'succeeded', unreadableRecords: 1, skipReasons: { 'column-count': 1 } });
    expect(run.counts).toMatchObject({ unchanged: 2, skipped: 1, disabled: 0 });
    expect(run.warnings).toEqual(['1 row(s) could not be read with certainty (column-count 1), so no one was disabled for being missing from the source.']);
    expect(await statuses('Uncertain')).toEqual({ una: 'active', uri: 'active', uma: 'active', udo: 'active' });
  });

  it('a "," header with ";" rows, with a guard that allows disabling everyone: the run fails (all-rows-skipped) and disables no one', async () => {
    const names = Array.from({ length: 30 }, (_, i) => `sem${i}`);
    await putProfile(t, csvProfile('Semicolons', 'semicolons.csv', { disableGuard: { maxPercent: 100, maxCount: 500 } }));
    await uploadCsv(t, 'semicolons.csv', csv(names));
    await syncNow(t, 'Semicolons');

    await uploadCsv(t, 'semicolons.csv', [HEADER, ...names.map((name) => row(name).replaceAll(',', ';'))].join('\n') + '\n');
    const run = await syncNow(t, 'Semicolons');
    expect(run).toMatchObject({ state: 'failed', error: { code: 'all-rows-skipped' }, unreadableRecords: 30 });
    expect(run.counts).toMatchObject({ skipped: 30, disabled: 0, created: 0, updated: 0, unchanged: 0 });
    expect(run.error?.message).toMatch(/^Every row the source listed \(30\) was skipped \(column-count 30\), so nothing was synced and no one was disabled\. /);
    expect(run.error?.message).toMatch(/check the delimiter/);
    expect(run.warnings).toEqual(['30 row(s) could not be read with certainty (column-count 30), so no one was disabled for being missing from the source.']);
    expect(new Set(Object.values(await statuses('Semicolons')))).toEqual(new Set(['active']));
    expect((await auditOf(t, run.runId)).find((record) => record.action === 'run-failed')).toMatchObject({ reason: 'all-rows-skipped' });
  });

  it('a profile with no default password and a file with no password column: the run fails (all-rows-skipped) saying what to fix', async () => {
    await putProfile(t, csvProfile('Passwordless', 'passwordless.csv', { defaultPasswordSecret: undefined }));
    await uploadCsv(t, 'passwordless.csv', csv(['pia', 'pat']));
    const run = await syncNow(t, 'Passwordless');
    expect(run).toMatchObject({ state: 'failed', error: { code: 'all-rows-skipped' }, counts: { skipped: 2, created: 0 }, skipReasons: { 'missing-password': 2 } });
    expect(run.error?.message).toContain('name a default password in the profile (defaultPasswordSecret) or add a password column');
    expect(await usersOf(t, 'Passwordless')).toEqual(new Map());
  });

  it('syncs a tab-separated row whose value holds quotes it does not start with, as written', async () => {
    await putProfile(t, csvProfile('Tabs', 'tabs.csv'));
    const tsv = ['username\temail\tfirstName\tlastName\tjob title', 'tia\ttia@example.org\tTia\tTester\tLead, Marketing "Ops"', 'tom\ttom@example.org\tTom\t"Tester"\t5" floppy'].join('\n');
    await uploadCsv(t, 'tabs.csv', `${tsv}\n`);
    const run = await syncNow(t, 'Tabs');
    expect(run).toMatchObject({ state: 'succeeded', counts: { created: 2, skipped: 0 } });
    const users = await usersOf(t, 'Tabs');
    expect(users.get('tia')?.attributes['job title']).toBe('Lead, Marketing "Ops"');
    expect(users.get('tom')).toMatchObject({ lastName: 'Tester', attributes: { 'job title': '5" floppy' } });
  });

  it('takes the delimiter from a header ended by a lone CR (connection test and run), not from the rows after it', async () => {
    await putProfile(t, csvProfile('OldMac', 'oldmac.csv'));
    // More commas in the rows than semicolons in the header: counted over the whole file, "," would win.
    const title = 'Sales, Marketing, Ops, PR, IT, Legal, HR and Finance';
    const file = ['username;email;firstName;lastName;title', `ola;ola@example.org;Ola;Tester;${title}`, `oli;oli@example.org;Oli;Tester;${title}`].join('\r');
    await uploadCsv(t, 'oldmac.csv', `${file}\r`);
    expect((await testConnection(t.app.deps, 'OldMac')).detail).toMatch(/5 columns .*";"-separated/);
    const run = await syncNow(t, 'OldMac');
    expect(run).toMatchObject({ state: 'succeeded', counts: { created: 2 } });
    expect((await usersOf(t, 'OldMac')).get('ola')?.attributes.title).toBe(title);
  });

  it('skips rows with control characters or an impossible username, each with its reason, without disabling their users', async () => {
    await putProfile(t, csvProfile('Hostile', 'hostile.csv'));
    await uploadCsv(t, 'hostile.csv', csv(['hal', 'hana', 'hugo']));
    await syncNow(t, 'Hostile');

    const file = [
      HEADER,
      'hal,hal@example.org,Hal,"\u001b[2J\u001b[HTester",Sales', // an ANSI escape that would clear the terminal
      'hana,hana@example.org,Hana,Tester\u202Egnp.exe,Sales', // a bidi override
      'hugo,hugo@example.org,Hu\u0000go,Tester,Sales', // a NUL
      'a/b,ab@example.org,A,B,Sales',
      '..,dots@example.org,Dot,Dot,Sales',
      'josé.garcía,jose@example.org,José,García,"Line one\nLine two"', // fine, a multi-line value too
    ].join('\n');
    await uploadCsv(t, 'hostile.csv', `${file}\n`);
    const run = await syncNow(t, 'Hostile');
    expect(run).toMatchObject({ state: 'succeeded', counts: { created: 1, skipped: 5, disabled: 0 }, skipReasons: { 'control-characters': 3, 'username-invalid': 2 } });
    const skipped = (await auditOf(t, run.runId)).filter((record) => record.action === 'skipped');
    expect(Object.fromEntries(skipped.map((record) => [record.ref, [record.subject, record.reason]]))).toEqual({
      'row 2': ['hal', 'control-characters'],
      'row 3': ['hana', 'control-characters'],
      'row 4': ['hugo', 'control-characters'],
      'row 5': ['a/b', 'username-invalid'],
      'row 6': ['..', 'username-invalid'],
    });
    expect(skipped.find((record) => record.ref === 'row 2')?.detail).toMatch(/^The lastName contains the control character U\+001B;/);
    // Nothing raw reaches the audit trail or the users, and the users whose rows were skipped stay as they were.
    const raw = /\\u0000|\\u001b|\u202e/; // as JSON writes them
    expect(JSON.stringify(await auditOf(t, run.runId))).not.toMatch(raw);
    const users = await usersOf(t, 'Hostile');
    expect(JSON.stringify([...users.values()])).not.toMatch(raw);
    expect(Object.fromEntries([...users].map(([name, user]) => [name, user.status]))).toEqual({ hal: 'active', hana: 'active', hugo: 'active', 'josé.garcía': 'active' });
    expect(users.get('josé.garcía')?.attributes.department).toBe('Line one\nLine two');
  });
});
