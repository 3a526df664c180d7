import { beforeAll, describe, expect, it } from 'vitest';
import { bucketOf, shardOf } from '../../shared/sync/rules/partitioning.js';
import { paths } from '../../shared/sync/pipeline/staging.js';
import { awaitRun } from '../../shared/host/await-run.js';
import { LocalHost } from '../../shared/host/local-host.js';
import { startRun } from '../../shared/sync/pipeline/start-run.js';
import { auditOf, createTestApp, csvProfile, etags, putProfile, syncNow, uploadCsv, usersOf, type TestApp } from '../support/test-app.js';
import { waitUntil } from '../support/wait.js';

const HEADER = 'username,email,firstName,lastName,department';
const row = (name: string, department = 'Sales') => `${name},${name}@example.org,${cap(name)},Tester,${department}`;
const cap = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);
const csv = (...rows: string[]) => [HEADER, ...rows].join('\n') + '\n';
const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan'];
/** Usernames are unique across directories, so each profile of this file gets its own people. */
const people = (suffix: string) => PEOPLE.map((name) => `${name}.${suffix}`);
const DEFAULT_PASSWORD = 'Default-Pa55word!';

describe('CSV directories through the real pipeline on Azurite', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TEST_DEFAULT_PASSWORD: DEFAULT_PASSWORD });
  });

  it('creates, updates one attribute, disables a removed row and re-enables it when it returns', async () => {
    await putProfile(t, csvProfile('Lifecycle', 'lifecycle.csv'));
    await uploadCsv(t, 'lifecycle.csv', csv(...PEOPLE.map((name) => row(name))));
    const first = await syncNow(t, 'Lifecycle');
    expect(first.state).toBe('succeeded');
    expect(first.pagesFetched).toBe(3); // 9 rows at 4 per page
    expect(first.counts).toMatchObject({ created: 9, updated: 0, unchanged: 0, disabled: 0, skipped: 0 });
    let users = await usersOf(t, 'Lifecycle');
    expect([...users.keys()].sort()).toEqual([...PEOPLE].sort());
    expect(users.get('alice')).toMatchObject({ email: 'alice@example.org', firstName: 'Alice', status: 'active', attributes: { department: 'Sales' } });
    expect(users.get('alice')?.directoryControlled).toEqual(['username', 'email', 'firstName', 'lastName', 'department']);
    expect((await auditOf(t, first.runId)).filter((r) => r.action === 'created')).toHaveLength(9);

    await uploadCsv(t, 'lifecycle.csv', csv(...PEOPLE.map((name) => row(name, name === 'bob' ? 'Marketing' : 'Sales'))));
    const second = await syncNow(t, 'Lifecycle');
    expect(second.counts).toMatchObject({ created: 0, updated: 1, unchanged: 8, disabled: 0 });
    users = await usersOf(t, 'Lifecycle');
    expect(users.get('bob')?.attributes.department).toBe('Marketing');
    const updated = (await auditOf(t, second.runId)).filter((r) => r.action === 'updated');
    expect(updated).toEqual([expect.objectContaining({ subject: 'bob', username: 'bob', changedFields: ['department'] })]);

    const withoutCarol = PEOPLE.filter((name) => name !== 'carol').map((name) => row(name, name === 'bob' ? 'Marketing' : 'Sales'));
    await uploadCsv(t, 'lifecycle.csv', csv(...withoutCarol));
    const third = await syncNow(t, 'Lifecycle');
    expect(third.counts).toMatchObject({ created: 0, updated: 0, unchanged: 8, disabled: 1 });
    users = await usersOf(t, 'Lifecycle');
    expect(users.get('carol')).toMatchObject({ status: 'disabled', disabledReason: 'missing-from-source' });
    expect(users.size).toBe(9); // disabled, never deleted
    expect((await auditOf(t, third.runId)).filter((r) => r.action === 'disabled')).toEqual([
      expect.objectContaining({ subject: 'carol', reason: 'missing-from-source', changedFields: ['status'] }),
    ]);

    await uploadCsv(t, 'lifecycle.csv', csv(...PEOPLE.map((name) => row(name, name === 'bob' ? 'Marketing' : 'Sales'))));
    const fourth = await syncNow(t, 'Lifecycle');
    expect(fourth.counts).toMatchObject({ 're-enabled': 1, unchanged: 8, disabled: 0 });
    users = await usersOf(t, 'Lifecycle');
    expect(users.get('carol')).toMatchObject({ status: 'active' });
    expect(users.get('carol')?.disabledReason).toBeUndefined();
  });

  it('writes no user entity on an unchanged re-sync', async () => {
    await putProfile(t, csvProfile('Unchanged', 'unchanged.csv'));
    await uploadCsv(t, 'unchanged.csv', csv(...people('u').map((name) => row(name))));
    await syncNow(t, 'Unchanged');
    const before = await etags(t, 'usersTable');
    const again = await syncNow(t, 'Unchanged');
    expect(again.counts).toMatchObject({ created: 0, updated: 0, unchanged: 9, disabled: 0, skipped: 0 });
    expect(await etags(t, 'usersTable')).toEqual(before);
    expect((await auditOf(t, again.runId)).map((r) => r.action).sort()).toEqual(['run-started', 'run-succeeded']);
  });

  it("never touches a second profile's users", async () => {
    await putProfile(t, csvProfile('Left', 'left.csv'));
    await putProfile(t, csvProfile('Right', 'right.csv'));
    await uploadCsv(t, 'left.csv', csv(row('lena'), row('leo')));
    await uploadCsv(t, 'right.csv', csv(row('rita'), row('rob')));
    await syncNow(t, 'Left');
    await syncNow(t, 'Right');
    const rightBefore = await usersOf(t, 'Right');
    const tagsBefore = await etags(t, 'usersTable');

    // Left's file now lists only lena, with a new department: leo is disabled, Right is untouched.
    await uploadCsv(t, 'left.csv', csv(row('lena', 'Finance')));
    const run = await syncNow(t, 'Left');
    expect(run.counts).toMatchObject({ updated: 1, disabled: 1 });
    expect(await usersOf(t, 'Right')).toEqual(rightBefore);
    const tagsAfter = await etags(t, 'usersTable');
    const right = await t.app.deps.connections.get('Right');
    const rightRows = [...tagsBefore].filter(([key]) => key.startsWith(right!.directoryKey));
    expect(rightRows).toHaveLength(2);
    for (const [key, tag] of rightRows) expect(tagsAfter.get(key)).toBe(tag);
  });

  it('gives each bad row its own audit reason while the good rows sync', async () => {
    const file = [
      '\uFEFFusername;email;firstName;lastName;department', // BOM and ; delimiter (an Excel export)
      'good.one;good.one@example.org;Good;One;Sales',
      'no.email;;No;Email;Sales',
      'bad.email;not-an-address;Bad;Email;Sales',
      'broken;"broken@example.org;Broken;Quote;Sales',
      'short.row;short@example.org;Short',
      'twin;twin1@example.org;Twin;One;Sales',
      'good.two;good.two@example.org;Good;Two;Sales',
      'twin;twin2@example.org;Twin;Two;Sales',
      ';nobody@example.org;No;Username;Sales',
      'good.three;"three@example.org";Good;"Three; the third";Sales',
    ].join('\r\n');
    await putProfile(t, csvProfile('Messy', 'messy.csv'));
    await uploadCsv(t, 'messy.csv', file);
    const run = await syncNow(t, 'Messy');
    expect(run.state).toBe('succeeded');
    const users = await usersOf(t, 'Messy');
    expect([...users.keys()].sort()).toEqual(['good.one', 'good.three', 'good.two']);
    expect(users.get('good.three')).toMatchObject({ email: 'three@example.org', lastName: 'Three; the third' });

    const skipped = (await auditOf(t, run.runId)).filter((r) => r.action === 'skipped');
    const reasons = Object.fromEntries(skipped.map((r) => [`${r.ref}`, r.reason]));
    expect(reasons).toEqual({
      'row 3': 'missing-email',
      'row 4': 'invalid-email',
      'row 5': 'malformed-row',
      'row 6': 'column-count',
      'row 7': 'duplicate-match-value',
      'row 9': 'duplicate-match-value',
      'row 10': 'missing-match-value',
    });
    expect(skipped.find((r) => r.ref === 'row 5')?.detail).toMatch(/quote/i);
    expect(run.counts).toMatchObject({ created: 3, skipped: 7 });
    expect(run.skipReasons).toEqual({
      'missing-email': 1,
      'invalid-email': 1,
      'malformed-row': 1,
      'column-count': 1,
      'duplicate-match-value': 2,
      'missing-match-value': 1,
    });
    // Rows that cannot be tied to a user with certainty make the listing unreliable: no one may be disabled.
    expect(run.unreadableRecords).toBe(3);
  });

  it('reads Excel exports in Windows-1252 and UTF-16 with their accents intact', async () => {
    const text = (name: string) => `username,email,firstName,lastName,city\n${name},${name}@example.org,René,Müller,Zürich\n`;
    const windows1252 = Buffer.from(text('rene'), 'latin1'); // é, ü are the same bytes in Windows-1252
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text('rene2'), 'utf16le')]);
    await putProfile(t, csvProfile('Ansi', 'ansi.csv'));
    await putProfile(t, csvProfile('Unicode', 'unicode.csv'));
    await uploadCsv(t, 'ansi.csv', windows1252);
    await uploadCsv(t, 'unicode.csv', utf16);
    for (const [name, username] of [['Ansi', 'rene'], ['Unicode', 'rene2']] as const) {
      const run = await syncNow(t, name);
      expect(run.counts.created).toBe(1);
      expect((await usersOf(t, name)).get(username)).toMatchObject({ firstName: 'René', lastName: 'Müller', attributes: { city: 'Zürich' } });
    }
    // The archive keeps the text in UTF-8 with a byte order mark, so a roll-back reads it whatever the profile's encoding.
    const runs = await t.app.deps.runs.list({ connection: 'Ansi', limit: 1 });
    expect(await t.app.deps.runFiles.get(paths.archive(runs[0]!.runId))).toEqual(Buffer.from(`\uFEFF${text('rene')}`, 'utf8'));
    expect(await t.app.deps.runFiles.exists(paths.input(runs[0]!.runId))).toBe(false);
  });

  it('does not disable anyone while some rows are unreadable', async () => {
    await putProfile(t, csvProfile('Guarded', 'guarded.csv'));
    await uploadCsv(t, 'guarded.csv', csv(row('gina'), row('gus')));
    await syncNow(t, 'Guarded');
    await uploadCsv(t, 'guarded.csv', csv(row('gina'), 'gus,"gus@example.org,Gus,Tester,Sales'));
    const run = await syncNow(t, 'Guarded');
    expect(run.state).toBe('succeeded');
    expect(run.counts.disabled).toBe(0);
    expect(run.warnings).toEqual(['1 row(s) could not be read with certainty (malformed-row 1), so no one was disabled for being missing from the source.']);
    expect((await usersOf(t, 'Guarded')).get('gus')?.status).toBe('active');
  });

  it('disables no one when the source cannot be read, and says why', async () => {
    await putProfile(t, csvProfile('Vanishing', 'vanishing.csv'));
    await uploadCsv(t, 'vanishing.csv', csv(row('vera'), row('vic')));
    await syncNow(t, 'Vanishing');
    await t.app.csvFiles.deletePrefix('vanishing.csv');
    const run = await syncNow(t, 'Vanishing');
    expect(run.state).toBe('failed');
    expect(run.error).toMatchObject({ code: 'source-not-found' });
    expect(run.error?.message).toMatch(/vanishing\.csv/);
    expect([...(await usersOf(t, 'Vanishing')).values()].map((u) => u.status)).toEqual(['active', 'active']);
    const failed = (await auditOf(t, run.runId)).find((r) => r.action === 'run-failed');
    expect(failed).toMatchObject({ reason: 'source-not-found' });
  });

  it('treats a header-only or empty file as a failed read, not as "everyone left"', async () => {
    await putProfile(t, csvProfile('Emptied', 'emptied.csv'));
    await uploadCsv(t, 'emptied.csv', csv(row('emma')));
    await syncNow(t, 'Emptied');
    await uploadCsv(t, 'emptied.csv', csv());
    const headerOnly = await syncNow(t, 'Emptied');
    expect(headerOnly).toMatchObject({ state: 'failed', error: { code: 'csv-empty' } });
    await uploadCsv(t, 'emptied.csv', '');
    const empty = await syncNow(t, 'Emptied');
    expect(empty).toMatchObject({ state: 'failed', error: { code: 'csv-empty' } });
    expect((await usersOf(t, 'Emptied')).get('emma')?.status).toBe('active');
  });

  it('rejects a header without the required columns, naming them', async () => {
    await putProfile(t, csvProfile('Headless', 'headless.csv'));
    await uploadCsv(t, 'headless.csv', 'login,mail\nx,x@example.org\n');
    const run = await syncNow(t, 'Headless');
    expect(run).toMatchObject({ state: 'failed', error: { code: 'csv-header-invalid' } });
    expect(run.error?.message).toMatch(/username/);
    expect(run.error?.message).toMatch(/firstName|first name/i);
  });

  it('a dry run plans but changes nothing', async () => {
    await putProfile(t, csvProfile('Dry', 'dry.csv'));
    await uploadCsv(t, 'dry.csv', csv(row('dora'), row('dan')));
    await syncNow(t, 'Dry');
    const before = await etags(t, 'usersTable');
    await uploadCsv(t, 'dry.csv', csv(row('dora', 'Legal'), row('dina')));
    const run = await syncNow(t, 'Dry', { dryRun: true });
    expect(run).toMatchObject({ state: 'succeeded', dryRun: true });
    expect(run.counts).toMatchObject({ created: 1, updated: 1, disabled: 1 });
    expect(await etags(t, 'usersTable')).toEqual(before);
    expect(await auditOf(t, run.runId)).toEqual([]);
    const connection = await t.app.deps.connections.get('Dry');
    expect(connection?.state.lastRunId).not.toBe(run.runId);
  });

  it('applies a redelivered page or reconcile message once', async () => {
    await putProfile(t, csvProfile('Twice', 'twice.csv'));
    await uploadCsv(t, 'twice.csv', csv(...people('t').map((name) => row(name))));
    const started = await startRun(t.app.deps, { connection: 'Twice', trigger: 'manual', startedBy: 'cli:tester' });
    // The first page job delivered three times; a stray reconcile job before the listing ended is ignored.
    await t.app.deps.queue.send('pages', { runId: started.runId, page: 0, cursor: null });
    await t.app.deps.queue.send('pages', { runId: started.runId, page: 0, cursor: null });
    await t.app.deps.queue.send('reconcile', { runId: started.runId, shard: shardOf('alice.t') });
    const pagesOnly = t.definitions.filter((d) => d.name === 'pageJob');
    const host = new LocalHost(pagesOnly, { connectionString: t.env.AzureWebJobsStorage!, log: () => undefined, pollIntervalMs: 20, queues: { maxPollingIntervalMs: 50, visibilityTimeoutMs: 100 } });
    await host.start();
    await waitUntil(async () => (await t.app.deps.runs.get(started.runId))?.listing === 'complete', 'the listing to complete');
    await host.stop();
    // Now every reconcile job of the run arrives twice more (on top of the ones the listing queued).
    for (let copy = 0; copy < 2; copy++) {
      for (let shard = 0; shard < 16; shard++) await t.app.deps.queue.send('reconcile', { runId: started.runId, shard });
    }
    const run = await awaitRun(t.app, t.definitions, started.runId);
    expect(run.counts).toMatchObject({ created: 9, updated: 0, unchanged: 0, skipped: 0 });
    expect((await usersOf(t, 'Twice')).size).toBe(9);
    const created = (await auditOf(t, run.runId)).filter((r) => r.action === 'created');
    expect(created).toHaveLength(9);
  });

  it("re-syncs from an earlier run's archived input (roll-back)", async () => {
    await putProfile(t, csvProfile('Rollback', 'rollback.csv'));
    const good = csv(row('rosa'), row('rick'));
    await uploadCsv(t, 'rollback.csv', good);
    const goodRun = await syncNow(t, 'Rollback');
    expect(String(await t.app.deps.runFiles.get(paths.archive(goodRun.runId)))).toBe(`\uFEFF${good}`);

    await uploadCsv(t, 'rollback.csv', csv(row('rosa', 'Oops')));
    await syncNow(t, 'Rollback');
    expect((await usersOf(t, 'Rollback')).get('rick')?.status).toBe('disabled');

    const restored = await syncNow(t, 'Rollback', { fromRunId: goodRun.runId });
    expect(restored.counts).toMatchObject({ updated: 1, 're-enabled': 1 });
    const users = await usersOf(t, 'Rollback');
    expect(users.get('rick')?.status).toBe('active');
    expect(users.get('rosa')?.attributes.department).toBe('Sales');
  });

  it('refuses a second run while one is active', async () => {
    await putProfile(t, csvProfile('Busy', 'busy.csv'));
    await uploadCsv(t, 'busy.csv', csv(row('bea')));
    const first = await startRun(t.app.deps, { connection: 'Busy', trigger: 'manual', startedBy: 'cli:tester' });
    await expect(startRun(t.app.deps, { connection: 'Busy', trigger: 'manual', startedBy: 'cli:tester' })).rejects.toMatchObject({
      code: 'run-active',
      details: { runId: first.runId },
    });
    await awaitRun(t.app, t.definitions, first.runId);
    const second = await syncNow(t, 'Busy');
    expect(second.state).toBe('succeeded');
  });

  it('keeps users in the partition their key hashes to', async () => {
    const users = await usersOf(t, 'Lifecycle');
    const alice = users.get('alice')!;
    const stored = await t.table('usersTable').getEntity(`${alice.directoryKey}-${bucketOf('alice').toString(16).padStart(2, '0')}`, 'alice');
    expect(stored.username).toBe('alice');
    expect(shardOf('alice')).toBe(Math.floor(bucketOf('alice') / 16));
  });
});
