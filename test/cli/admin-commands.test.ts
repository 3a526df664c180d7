import { beforeEach, describe, expect, it } from 'vitest';
import { startRun } from '../../shared/sync/pipeline/start-run.js';
import { cliOn } from '../support/cli.js';
import { createTestApp, csvProfile, putProfile, uploadCsv, type TestApp } from '../support/test-app.js';

/** The operations the CLI lacked while only the HTTP API had them: deleting a profile, reading a run's plan again. */
const CSV = 'username,email,firstName,lastName\nann,ann@example.org,Ann,Cli\nbob,bob@example.org,Bob,Cli\n';

describe('usersync connection delete and run plan', () => {
  let t: TestApp;
  beforeEach(async () => {
    t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Cli-Initial-Pa55' });
    await uploadCsv(t, 'cli.csv', CSV);
    await putProfile(t, csvProfile('Doomed', 'cli.csv'));
  });

  it('connection delete NAME --yes disables its users, never deleting them; without --yes it asks for it', async () => {
    expect((await cliOn(t, 'sync', 'Doomed')).code).toBe(0);
    const unsure = await cliOn(t, 'connection', 'delete', 'Doomed');
    expect(unsure).toMatchObject({ code: 2, out: [], err: expect.arrayContaining(['error [usage-invalid]: Missing --yes.']) });
    expect(await t.app.deps.connections.get('Doomed')).toBeDefined();

    const deleted = await cliOn(t, 'connection', 'delete', 'Doomed', '--yes');
    expect(deleted).toEqual({ code: 0, out: ['Deleted connection "Doomed": 2 user(s) disabled, none deleted (their usernames and history stay).'], err: [] });
    expect(await t.app.deps.connections.get('Doomed')).toBeUndefined();
    for (const username of ['ann', 'bob']) {
      const owner = await t.app.deps.usernames.find(username);
      expect(await t.app.deps.users.get(owner!.directoryKey, owner!.key)).toMatchObject({ status: 'disabled', disabledReason: 'connection-deleted' });
    }
    expect((await cliOn(t, 'connection', 'delete', 'Doomed', '--yes')).err).toEqual(['error [connection-not-found]: There is no connection profile named "Doomed".']);
  });

  it('connection delete is refused while the profile runs', async () => {
    const going = await startRun(t.app.deps, { connection: 'Doomed', trigger: 'manual', startedBy: 'cli:tester' });
    const refused = await cliOn(t, 'connection', 'delete', 'Doomed', '--yes');
    expect(refused).toMatchObject({ code: 2, err: [expect.stringMatching(new RegExp(`^error \\[run-active\\]: A run of "Doomed" is active \\(${going.runId}\\)`))] });
    expect(await t.app.deps.connections.get('Doomed')).toBeDefined();
  });

  it("run plan RUN_ID prints a dry run's plan again, as sync --dry-run printed it; a run that keeps none is refused", async () => {
    const dry = await cliOn(t, 'sync', 'Doomed', '--dry-run');
    expect(dry.code).toBe(0);
    const runId = /^Run (\S+) /.exec(dry.out[0]!)![1]!;
    const printed = dry.out.slice(dry.out.indexOf('Plan:'));
    expect(printed).toEqual(['Plan:', '  create    ann (row 2) fields: username, email, firstName, lastName', '  create    bob (row 3) fields: username, email, firstName, lastName']);
    expect(await cliOn(t, 'run', 'plan', runId)).toEqual({ code: 0, out: printed, err: [] });

    const real = await cliOn(t, 'sync', 'Doomed');
    const realId = /^Run (\S+) /.exec(real.out[0]!)![1]!;
    expect(await cliOn(t, 'run', 'plan', realId)).toMatchObject({ code: 2, err: [expect.stringMatching(/^error \[not-found\]: Run \S+ keeps no plan/)] });
    expect(await cliOn(t, 'run', 'plan', 'nonsense')).toMatchObject({ code: 2, err: ['error [run-not-found]: There is no run nonsense.'] });
  });
});
