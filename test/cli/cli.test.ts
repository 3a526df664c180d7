import { writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cliOn } from '../support/cli.js';
import { createTestApp, usersOf, type TestApp } from '../support/test-app.js';

/** Every test starts from its own empty app (its own table prefix): any test passes alone, in any order. */
describe('usersync CLI', () => {
  let t: TestApp;
  let dir: string;
  const cli = (...args: string[]) => cliOn(t, ...args);
  /** The "Staff" profile with staff.csv (sam; sue without an email) uploaded and, unless told, synced once. */
  const staff = async ({ sync = true } = {}) => {
    expect((await cli('connection', 'put', join(dir, 'profile.json'))).code).toBe(0);
    expect((await cli('csv', 'upload', 'Staff', join(dir, 'staff.csv'))).code).toBe(0);
    if (sync) expect((await cli('sync', 'Staff')).code).toBe(0);
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'usersync-cli-'));
    const profile = {
      name: 'Staff',
      type: 'csv',
      source: { kind: 'blob', blobName: 'staff.csv' },
      defaultPasswordSecret: 'CLI_DEFAULT_PASSWORD',
      schedule: { kind: 'interval', minutes: 30 },
    };
    await writeFile(join(dir, 'profile.json'), JSON.stringify(profile));
    await writeFile(join(dir, 'guarded-profile.json'), JSON.stringify({ ...profile, disableGuard: { maxPercent: 10, minCount: 0 } }));
    await writeFile(join(dir, 'staff.csv'), 'username,email,firstName,lastName\nsam,sam@example.org,Sam,Staff\nsue,,Sue,Staff\n');
    await writeFile(join(dir, 'only-sam.csv'), 'username,email,firstName,lastName\nsam,sam@example.org,Sam,Staff\n');
    await writeFile(join(dir, 'staff-2.csv'), 'username,email,firstName,lastName\nsam,sam@example.org,Samuel,Staff\nsue,sue@example.org,Sue,Staff\n');
    await writeFile(join(dir, 'bad-profile.json'), JSON.stringify({ name: '', type: 'csv', source: { kind: 'https', url: 'ftp://x' }, schedule: { kind: 'interval', minutes: 1 } }));
  });

  beforeEach(async () => {
    t = await createTestApp({ CLI_DEFAULT_PASSWORD: 'Cli-Initial-Pa55' });
  });

  it('puts, lists and uploads, then syncs with a summary that names the skip reasons', async () => {
    expect(await cli('connection', 'put', join(dir, 'profile.json'))).toMatchObject({ code: 0, out: [expect.stringMatching(/^Created connection "Staff" \(csv, directory key dk[0-9a-f]{12}\)\.$/)] });
    expect((await cli('csv', 'upload', 'Staff', join(dir, 'staff.csv'))).out[0]).toMatch(/Uploaded .*staff\.csv \(\d+ bytes\) as "staff\.csv" for "Staff"/);
    const sync = await cli('sync', 'Staff');
    expect(sync.code).toBe(0);
    expect(sync.out.join('\n')).toMatch(/succeeded: 1 created, 0 updated, 0 unchanged, 0 disabled, 0 re-enabled, 0 blocked, 0 activated, 0 conflict, 1 skipped/);
    expect(sync.out.join('\n')).toMatch(/skipped: missing-email 1 — each row and why: usersync audit --run \S+ --action skipped/);
    const list = await cli('connection', 'list');
    expect(list.out[0]).toMatch(/^NAME\s+TYPE\s+ENABLED\s+SCHEDULE\s+LAST RUN\s+STATUS\s+ACTIVE RUN\s+NEXT RUN$/);
    // The next scheduled run: the last one's start plus the interval.
    const { state } = (await t.app.deps.connections.get('Staff'))!;
    const next = new Date(Date.parse(state.lastRunStartedAt!) + 30 * 60_000).toISOString();
    expect(list.out[1]).toMatch(new RegExp(`^Staff\\s+csv\\s+yes\\s+every 30 min\\s+${state.lastRunId}\\s+succeeded\\s+-\\s+${next.replaceAll('.', '\\.')}$`));
  });

  it('--dry-run prints the plan and changes nothing', async () => {
    await staff();
    await cli('csv', 'upload', 'Staff', join(dir, 'staff-2.csv'));
    const before = await cli('users', '--connection', 'Staff', '--json');
    const dry = await cli('sync', 'Staff', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.out).toContain('Plan:');
    expect(dry.out).toContain('  create    sue (row 3) fields: username, email, firstName, lastName');
    expect(dry.out).toContain('  update    sam (row 2) fields: firstName');
    expect(await cli('users', '--connection', 'Staff', '--json')).toEqual(before);
  });

  it('shows users and audit records as text and JSON, never a password hash', async () => {
    await staff();
    const json = await cli('users', '--json');
    const users = json.out.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(users).toEqual([expect.objectContaining({ username: 'sam', firstName: 'Sam', status: 'active', connection: 'Staff' })]);
    expect(json.out.join('')).not.toMatch(/passwordHash|scrypt/);
    const text = await cli('users');
    expect(text.out.at(-1)).toBe('1 user(s).');
    const audit = await cli('audit', '--action', 'skipped', '--json');
    expect(audit.out.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ action: 'skipped', subject: 'sue', ref: 'row 3', reason: 'missing-email' }),
    ]);
  });

  it('audit --limit N prints the newest N records and how to go on', async () => {
    await staff();
    const all = await cli('audit', '--json');
    expect(all.out.length).toBeGreaterThan(2);
    const two = await cli('audit', '--limit', '2');
    expect(two.code).toBe(0);
    expect(two.out).toHaveLength(3);
    expect(two.out.at(-1)).toMatch(/^2 record\(s\), newest first; more: the same command with --page-token \S+\.$/);
  });

  it('reset makes the profile due; status lists the runs', async () => {
    await staff();
    await cli('csv', 'upload', 'Staff', join(dir, 'staff-2.csv'));
    expect((await cli('sync', 'Staff', '--dry-run')).code).toBe(0);
    expect((await cli('reset', 'Staff')).out).toEqual(['Reset "Staff": the scheduler starts a run on its next tick.']);
    expect((await t.app.deps.connections.get('Staff'))?.state.resetRequestedAt).toBeDefined();
    const status = await cli('status', 'Staff');
    expect(status.out[0]).toMatch(/^RUN\s+CONNECTION\s+STATE/);
    expect(status.out.slice(1)).toEqual([expect.stringMatching(/\(dry\)\s+Staff\s+succeeded/), expect.stringMatching(/^\S+\s+Staff\s+succeeded\s+manual\s+1\s+1\s+0\s+0\s+0\s+0\s+0\s+0\s+0\s+1\s*$/)]);
  });

  it('exit codes: 0 succeeded, 1 failed, 2 refused, 3 held for confirmation', async () => {
    await cli('connection', 'put', join(dir, 'guarded-profile.json'));
    await cli('csv', 'upload', 'Staff', join(dir, 'staff-2.csv'));
    expect((await cli('sync', 'Staff')).code).toBe(0);
    // sue left: 1 of 2 users, more than 10% and more than this profile's minCount 0.
    await cli('csv', 'upload', 'Staff', join(dir, 'only-sam.csv'));
    const held = await cli('sync', 'Staff');
    expect(held.code).toBe(3);
    expect(held.out.join('\n')).toMatch(/needs-confirmation[\s\S]*to disable them: usersync confirm \S+/);
    expect((await cli('sync', 'Staff', '--bogus')).code).toBe(2);
    expect((await cli('sync', 'Nobody')).code).toBe(2);
    await t.app.csvFiles.deletePrefix('staff.csv');
    // The next run supersedes the held one and fails: the file is gone.
    const failed = await cli('sync', 'Staff');
    expect(failed.code).toBe(1);
    expect(failed.out.join('\n')).toMatch(/error \[source-not-found\]: The CSV file "staff\.csv" has not been uploaded/);
  });

  it('exits 2 on bad input, listing every invalid field', async () => {
    const bad = await cli('connection', 'put', join(dir, 'bad-profile.json'));
    expect(bad.code).toBe(2);
    expect(bad.err[0]).toMatch(/^error \[profile-invalid\]/);
    const fields = bad.err.slice(1).map((line) => line.trim().split(':')[0]);
    expect(fields).toEqual(expect.arrayContaining(['- name', '- source.url', '- schedule.minutes']));

    expect((await cli('sync', 'Nobody')).err).toEqual(['error [connection-not-found]: There is no connection profile named "Nobody".']);
    expect((await cli('frobnicate')).code).toBe(2);
  });

  it('adopt prints what it will do, then does it (and --dry-run only prints)', async () => {
    await staff();
    expect((await cli('user', 'add', 'sid', '--email', 'sid@intranet.example', '--first-name', 'Sid', '--last-name', 'Local')).out).toEqual(['Created local account "sid" (active).']);
    expect((await cli('user', 'add', 'SID', '--email', 'x@example.org', '--first-name', 'X', '--last-name', 'Y')).err).toEqual(['error [username-taken]: The username "SID" already belongs to a local account.']);
    await writeFile(join(dir, 'staff-3.csv'), 'username,email,firstName,lastName\nsam,sam@example.org,Samuel,Staff\nsid,sid@example.org,Sid,Staff\n');
    await cli('csv', 'upload', 'Staff', join(dir, 'staff-3.csv'));
    expect((await cli('sync', 'Staff')).out.join('\n')).toMatch(/1 conflict/);
    const dry = await cli('adopt', 'Staff', '--dry-run');
    expect(dry.out[0]).toBe('will adopt local account "sid" into "Staff"');
    expect(dry.out.at(-1)).toMatch(/^1 local account\(s\) to adopt \(from the conflicts of run \S+\); nothing changed\.$/);
    const real = await cli('adopt', 'Staff');
    expect(real.out[0]).toBe('will adopt local account "sid" into "Staff"');
    expect(real.out.at(-1)).toMatch(/^Adopted 1 local account\(s\) into "Staff"/);
    expect((await cli('sync', 'Staff')).out.join('\n')).toMatch(/0 conflict/);
  });

  it('connection test reads the CSV header without syncing; a CSV profile has no groups to pick', async () => {
    await cli('connection', 'put', join(dir, 'profile.json'));
    await cli('csv', 'upload', 'Staff', join(dir, 'staff-2.csv'));
    const ok = await cli('connection', 'test', 'Staff');
    expect(ok).toEqual({ code: 0, out: ['OK: Read the CSV file: 4 columns (username, email, firstName, lastName), utf-8, ","-separated; the required columns are there.'], err: [] });
    await writeFile(join(dir, 'no-names.csv'), 'username;email\nx;x@example.org\n');
    await cli('csv', 'upload', 'Staff', join(dir, 'no-names.csv'));
    const bad = await cli('connection', 'test', 'Staff');
    expect(bad.code).toBe(1);
    expect(bad.out[0]).toMatch(/^FAILED \[csv-header-invalid\].*firstName/);
    expect((await cli('connection', 'groups', 'Staff')).err).toEqual(['error [profile-invalid]: "Staff" is a csv profile: it has no groups to select.']);
  });

  it('prints stored control characters and bidi overrides as visible escapes, in text and in JSON', async () => {
    await staff();
    const stored = (await usersOf(t, 'Staff')).get('sam')!;
    // Written through the store: the sync itself refuses such values (another check); the CLI must not trust that.
    const firstName = 'Sam\u001b[2J\u001b]0;owned\u0007';
    const lastName = '\u202eflatS';
    const attributes = { title: 'Boss\u0085\u009b31m\u007f', office: '\u2066Room 1\u2069' };
    await t.app.deps.users.write([{ ...stored, firstName, lastName, attributes }]);
    const run = (await t.app.deps.connections.get('Staff'))!.state.lastRunId!;
    await t.app.deps.audit.write([{ runId: run, connection: 'Staff', action: 'updated', subject: 'sam', username: 'sam', detail: 'note \u001b[31mred\u202e', actor: 'cli:tester', at: new Date().toISOString() }]);

    const outputs = [await cli('users'), await cli('users', '--json'), await cli('audit', '--run', run), await cli('audit', '--run', run, '--json'), await cli('orgchart', 'sam')];
    const printed = outputs.flatMap(({ out, err }) => [...out, ...err]).join('\n');
    // eslint-disable-next-line no-control-regex -- looking for raw control characters is the point
    expect(printed).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    const [users, usersJson, audit, auditJson, orgchart] = outputs;
    expect(users!.out.join('\n')).toContain('Sam\\u001b[2J\\u001b]0;owned\\u0007  \\u202eflatS');
    expect(users!.out.join('\n')).toContain('title=Boss\\u0085\\u009b31m\\u007f');
    expect(audit!.out.join('\n')).toContain('note \\u001b[31mred\\u202e');
    expect(orgchart!.out.join('\n')).toContain('sam — Sam\\u001b[2J');
    // The escapes are JSON's own: a JSON line still parses to exactly what is stored.
    expect(JSON.parse(usersJson!.out[0]!)).toMatchObject({ firstName, lastName, attributes });
    expect(auditJson!.out.map((line) => JSON.parse(line) as { detail?: string }).map((record) => record.detail)).toContain('note \u001b[31mred\u202e');
  });
});
