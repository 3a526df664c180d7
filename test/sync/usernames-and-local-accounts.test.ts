import { beforeAll, describe, expect, it } from 'vitest';
import { addLocalAccount, adopt } from '../../shared/admin/local-accounts.js';
import { awaitRun } from '../../shared/host/await-run.js';
import { LOCAL_DIRECTORY } from '../../shared/sync/model.js';
import { startRun } from '../../shared/sync/pipeline/start-run.js';
import { auditOf, createTestApp, csvProfile, etags, putProfile, syncNow, uploadCsv, usersOf, type TestApp } from '../support/test-app.js';

const HEADER = 'username,email,firstName,lastName,department';
const row = (name: string, department = 'Sales') => `${name},${name.toLowerCase()}@example.org,${name},Person,${department}`;
const csv = (...rows: string[]) => [HEADER, ...rows].join('\n') + '\n';

describe('usernames are unique across directories and local accounts', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Unique-Initial-1' });
  });

  it('two profiles syncing one username at the same moment: exactly one wins, the other reports a conflict', async () => {
    await putProfile(t, csvProfile('North', 'north.csv'));
    await putProfile(t, csvProfile('South', 'south.csv'));
    await uploadCsv(t, 'north.csv', csv(row('nora'), row('Sam')));
    await uploadCsv(t, 'south.csv', csv(row('sol'), row('sam')));
    const [north, south] = await Promise.all([
      startRun(t.app.deps, { connection: 'North', trigger: 'manual', startedBy: 'cli:tester' }),
      startRun(t.app.deps, { connection: 'South', trigger: 'manual', startedBy: 'cli:tester' }),
    ]);
    // Both runs' jobs are worked at once by the same pool of workers.
    const [northRun, southRun] = await Promise.all([awaitRun(t.app, t.definitions, north!.runId), awaitRun(t.app, t.definitions, south!.runId)]);
    expect(northRun.state).toBe('succeeded');
    expect(southRun.state).toBe('succeeded');
    expect(northRun.counts.created + southRun.counts.created).toBe(3);
    expect(northRun.counts.conflict + southRun.counts.conflict).toBe(1);

    const northUsers = await usersOf(t, 'North');
    const southUsers = await usersOf(t, 'South');
    expect(northUsers.has('nora') && southUsers.has('sol')).toBe(true); // the rest still sync
    const winners = [northUsers.has('Sam') ? 'North' : undefined, southUsers.has('sam') ? 'South' : undefined].filter(Boolean);
    expect(winners).toHaveLength(1);
    const loserRun = winners[0] === 'North' ? southRun : northRun;
    const conflict = (await auditOf(t, loserRun.runId)).find((r) => r.action === 'conflict');
    expect(conflict).toMatchObject({ reason: 'username-owned-by-directory', username: expect.stringMatching(/^sam$/i) });
    expect(conflict?.detail).toContain(`the directory "${winners[0]}"`);
    expect((await t.app.deps.usernames.find('SAM'))?.connection).toBe(winners[0]);
  });

  it('a renamed user frees its old username for others', async () => {
    await putProfile(t, csvProfile('Renames', 'renames.csv', { matchField: 'employeeId' }));
    await putProfile(t, csvProfile('Takers', 'takers.csv'));
    const withId = (username: string) => `username,email,firstName,lastName,employeeId\n${username},${username}@example.org,Rae,Person,E1\n`;
    await uploadCsv(t, 'renames.csv', withId('rae.old'));
    await syncNow(t, 'Renames');
    await uploadCsv(t, 'takers.csv', csv(row('rae.old')));
    expect((await syncNow(t, 'Takers')).counts.conflict).toBe(1);

    await uploadCsv(t, 'renames.csv', withId('rae.new'));
    const renamed = await syncNow(t, 'Renames');
    expect(renamed.counts.updated).toBe(1);
    expect((await t.app.deps.usernames.find('rae.old'))).toBeUndefined();
    expect((await t.app.deps.usernames.find('rae.new'))?.connection).toBe('Renames');
    const retry = await syncNow(t, 'Takers');
    expect(retry.counts).toMatchObject({ created: 1, conflict: 0 });
  });
});

describe('local accounts and adoption', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Adopt-Initial-1' });
  });

  it('a local account is never changed by sync, and its username is reported as a conflict', async () => {
    const local = await addLocalAccount(t.app.deps, { username: 'Lou', email: 'lou@intranet.example', firstName: 'Lou', lastName: 'Local' }, 'cli:tester');
    await expect(addLocalAccount(t.app.deps, { username: 'lou', email: 'x@example.org', firstName: 'X', lastName: 'Y' }, 'cli:tester')).rejects.toMatchObject({ code: 'username-taken' });
    await putProfile(t, csvProfile('Office', 'office.csv'));
    await uploadCsv(t, 'office.csv', csv(row('lou', 'Finance'), row('olga')));
    const before = await etags(t, 'usersTable');
    const run = await syncNow(t, 'Office');
    expect(run.counts).toMatchObject({ created: 1, conflict: 1 });
    const conflict = (await auditOf(t, run.runId)).find((r) => r.action === 'conflict');
    expect(conflict).toMatchObject({ subject: 'lou', username: 'lou', reason: 'username-owned-by-local-account' });
    expect(conflict?.detail).toContain('usersync adopt "Office"');
    // The local row is exactly as the admin created it.
    const localRows = [...before].filter(([key]) => key.startsWith(`${LOCAL_DIRECTORY}-`));
    expect(localRows).toHaveLength(1);
    const after = await etags(t, 'usersTable');
    for (const [key, tag] of localRows) expect(after.get(key)).toBe(tag);
    expect(await t.app.deps.users.get(LOCAL_DIRECTORY, 'lou')).toEqual(local);
  });

  it('adopt --dry-run lists what it would do and changes nothing; adopt moves the account and the next sync updates it', async () => {
    const dry = await adopt(t.app.deps, 'Office', { dryRun: true }, 'cli:tester');
    expect(dry.adoptions).toEqual([{ username: 'Lou', sourceKey: 'lou' }]);
    expect(await t.app.deps.users.get(LOCAL_DIRECTORY, 'lou')).toBeDefined();
    expect((await t.app.deps.usernames.find('lou'))?.directoryKey).toBe(LOCAL_DIRECTORY);

    const done = await adopt(t.app.deps, 'Office', { dryRun: false }, 'cli:tester');
    expect(done.adoptions).toHaveLength(1);
    expect(await t.app.deps.users.get(LOCAL_DIRECTORY, 'lou')).toBeUndefined();
    const office = await t.app.deps.connections.get('Office');
    expect((await t.app.deps.usernames.find('lou'))).toMatchObject({ directoryKey: office!.directoryKey, key: 'lou', connection: 'Office' });
    const adopted = (await t.app.deps.audit.query({ action: 'adopted', limit: 10 })).records;
    expect(adopted).toEqual([expect.objectContaining({ connection: 'Office', subject: 'lou', username: 'Lou' })]);

    const next = await syncNow(t, 'Office');
    expect(next.counts).toMatchObject({ created: 0, updated: 1, conflict: 0, unchanged: 1 });
    const lou = (await usersOf(t, 'Office')).get('lou');
    expect(lou).toMatchObject({ email: 'lou@example.org', attributes: { department: 'Finance' }, connection: 'Office', status: 'active' });
    // Adopted, not recreated: the account keeps its creation time.
    expect(lou?.createdAt).toBe((await t.app.deps.audit.query({ action: 'local-account-created', limit: 10 })).records[0]?.at);
  });

  it('a local account follows the username rule of synced users (account-invalid), and names have no control characters', async () => {
    const account = (username: string, firstName = 'Val') => addLocalAccount(t.app.deps, { username, email: 'val@intranet.example', firstName, lastName: 'Local' }, 'cli:tester');
    for (const [username, problem] of [
      ['a/b', 'it contains "/"'],
      ['..', 'it has no letter or digit'],
      ['val local', 'it contains U+0020'],
      ['val\u001b[2J', 'it contains U+001B'],
      ['v'.repeat(129), 'it is 129 characters long'],
    ] as const) {
      const error = await account(username).catch((failure: unknown) => failure);
      expect(error).toMatchObject({ code: 'account-invalid', details: { problems: [{ field: 'username', message: expect.stringContaining(problem) }] } });
      expect((error as Error).message).not.toContain(username);
    }
    await expect(account('val.ok', 'V\u202Eal')).rejects.toMatchObject({ code: 'account-invalid', details: { problems: [{ field: 'firstName', message: 'control characters are not allowed' }] } });
    for (const username of ["o'neil", 'josé.garcía', 'jo_contoso.com#EXT#@tenant.onmicrosoft.com']) expect((await account(username)).username).toBe(username);
    expect(await t.app.deps.usernames.find('a/b')).toBeUndefined();
  });

  it('with nothing to adopt it says so', async () => {
    await putProfile(t, csvProfile('Fresh', 'fresh.csv'));
    const plan = await adopt(t.app.deps, 'Fresh', { dryRun: false }, 'cli:tester');
    expect(plan.adoptions).toEqual([]);
    expect(plan.notes[0]).toMatch(/no completed run yet/);
  });
});
