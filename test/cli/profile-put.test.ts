import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliOn } from '../support/cli.js';
import { createTestApp, csvProfile, type TestApp } from '../support/test-app.js';

/** Issue 13: `usersync connection put` says what is wrong with a profile, each problem on its own line. */
describe('usersync connection put refuses', () => {
  let t: TestApp;
  let dir: string;
  const put = async (profile: unknown) => {
    const file = join(dir, `${Math.random().toString(36).slice(2)}.json`);
    await writeFile(file, JSON.stringify(profile));
    return cliOn(t, 'connection', 'put', file);
  };

  beforeAll(async () => {
    t = await createTestApp();
    dir = await mkdtemp(join(tmpdir(), 'usersync-profile-put-'));
  });

  it('a profile with typos, printing each unknown key with the key it probably meant', async () => {
    const result = await put({ ...csvProfile('Typo', 'typo.csv'), colummMap: { Dept: 'department' }, disableGuard: { maxPercnt: 20 } });
    expect(result.code).toBe(2);
    expect(result.out).toEqual([]);
    expect(result.err[0]).toMatch(/^error \[profile-invalid\]: The connection profile is invalid: /);
    expect(result.err.slice(1).sort()).toEqual([
      '  - colummMap: unknown key (did you mean columnMap?)',
      '  - disableGuard.maxPercnt: unknown key (did you mean maxPercent?)',
    ]);
    expect(await t.app.deps.connections.get('Typo')).toBeUndefined();
  });

  it('a URL with a password, naming the field and never printing the password', async () => {
    const result = await put(csvProfile('Creds', 'x.csv', { source: { kind: 'https', url: 'https://sync:s3cret@hr.example.com/people.csv' } }));
    expect(result.code).toBe(2);
    expect(result.err.slice(1)).toEqual([
      '  - source.url: the URL must not contain a username or password; put the username in source.username and the password in an app setting named by source.passwordSecret',
    ]);
    expect([...result.out, ...result.err].join('\n')).not.toContain('s3cret');
  });

  it('a group pattern RE2 cannot run, saying why', async () => {
    const result = await put(csvProfile('Backref', 'x.csv', { groupsColumn: 'groups', groups: { mode: 'regex', pattern: '^(\\w)\\1' } }));
    expect(result.code).toBe(2);
    expect(result.err.slice(1)).toEqual(['  - groups.pattern: back-references (\\1) are not supported; group patterns use RE2 syntax (linear time) — see README']);
  });
});
