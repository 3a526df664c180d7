import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disableGuardOf } from '../../shared/connections/profile.js';
import { runCli } from '../../shared/cli/cli.js';
import { localAdminClient } from '../../shared/host/local-admin-client.js';
import { LocalHost } from '../../shared/host/local-host.js';
import { withoutActiveRun } from '../../shared/sync/pipeline/close-run.js';
import { disableGuardVerdict } from '../../shared/sync/rules/disable-guard.js';
import { paths } from '../../shared/sync/pipeline/staging.js';
import { scriptFetch } from '../support/api-host.js';
import { auditOf, awaitRunEnd, createTestApp, csvProfile, putProfile, syncNow, uploadCsv, usersOf, type TestApp } from '../support/test-app.js';

/** The profile's defaults, spelled out. */
const DEFAULT_GUARD = { maxPercent: 10, maxCount: 500, minCount: 5 };

describe('disableGuardVerdict', () => {
  it.each([
    // [maxPercent, maxCount, minCount, would disable, enabled before, trips, limit]
    [10, 500, 0, 2, 20, false, 2],
    [10, 500, 0, 3, 20, true, 2],
    // A small directory's leaver is more than 10% but not more than the minimum: noise, not an accident.
    [10, 500, 5, 1, 6, false, 5],
    [10, 500, 5, 5, 6, false, 5],
    [10, 500, 5, 6, 6, true, 5],
    // More than the minimum but within the share.
    [10, 500, 5, 10, 100, false, 10],
    [10, 500, 5, 11, 100, true, 10],
    [10, 500, 5, 0, 0, false, 5],
    [10, 500, 0, 1, 5, true, 0],
    [10, 500, 5, 500, 100_000, false, 500],
    [10, 500, 5, 501, 100_000, true, 500],
    [100, 500, 5, 20, 20, false, 20],
    // maxCount is a ceiling, whatever the share or the minimum.
    [100, 3, 0, 4, 20, true, 3],
    [10, 2, 5, 3, 6, true, 2],
    [0, 500, 0, 1, 1_000, true, 0],
    [12.5, 500, 0, 5, 40, false, 5],
  ])('maxPercent %d, maxCount %d, minCount %d: %d of %d → trips %s (limit %d)', (maxPercent, maxCount, minCount, wouldDisable, enabledBefore, trips, limit) => {
    expect(disableGuardVerdict({ maxPercent, maxCount, minCount }, wouldDisable, enabledBefore)).toEqual({ trips, limit });
  });
});

const HEADER = 'username,email,firstName,lastName,department';
const people = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(2, '0')}`);
const csv = (names: string[], department = 'Sales') => [HEADER, ...names.map((n) => `${n},${n}@example.org,${n},Guarded,${department}`)].join('\n') + '\n';

describe('the accidental-disable guard through the real pipeline', () => {
  let t: TestApp;
  let host: LocalHost;
  const api = (path: string, init?: RequestInit) => scriptFetch(`${host.httpUrl}/api/${path}`, init);
  const activeCount = async (connection: string) => [...(await usersOf(t, connection)).values()].filter((u) => u.status === 'active').length;

  beforeAll(async () => {
    t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Guard-Initial-1' });
    host = new LocalHost(t.definitions, { connectionString: t.env.AzureWebJobsStorage!, httpPort: 0, pollIntervalMs: 20, queues: { maxPollingIntervalMs: 100 }, log: () => undefined });
    await host.start();
  });
  afterAll(() => host.stop());

  it('a truncated export stops before disabling anyone, says how many and who; POST /runs/{id}/confirm disables them', async () => {
    const everyone = people('trunc', 20);
    await putProfile(t, csvProfile('Truncated', 'truncated.csv', { disableGuard: DEFAULT_GUARD }));
    await uploadCsv(t, 'truncated.csv', csv(everyone));
    expect((await syncNow(t, 'Truncated')).counts.created).toBe(20);

    // The export broke off after 8 rows, and one of those rows changed: that change still lands.
    const kept = everyone.slice(0, 8);
    await uploadCsv(t, 'truncated.csv', csv(kept).replace('trunc00,trunc00@example.org,trunc00,Guarded,Sales', 'trunc00,trunc00@example.org,trunc00,Guarded,Legal'));
    const held = await syncNow(t, 'Truncated');
    expect(held.state).toBe('needs-confirmation');
    expect(held.heldDisables).toEqual({ count: 12, enabledBefore: 20, limit: 5, usernames: everyone.slice(8) });
    expect(held.counts).toMatchObject({ updated: 1, disabled: 0 });
    expect(held.warnings.join(' ')).toMatch(/would disable 12 of 20 enabled users.*\(5\); no one was disabled/);
    expect(await activeCount('Truncated')).toBe(20);
    expect((await usersOf(t, 'Truncated')).get('trunc00')?.attributes).toMatchObject({ department: 'Legal' });
    const ended = (await auditOf(t, held.runId)).find((r) => r.action === 'run-needs-confirmation');
    expect(ended).toMatchObject({ reason: 'disable-guard', subject: held.runId });
    expect(ended?.detail).toContain('trunc08, trunc09');
    const connection = await t.app.deps.connections.get('Truncated');
    expect(connection?.state).toMatchObject({ lastRunId: held.runId, lastRunStatus: 'needs-confirmation' });
    expect(connection?.state.activeRunId).toBeUndefined();

    const confirmed = await api(`runs/${held.runId}/confirm`, { method: 'POST' });
    expect(confirmed.status).toBe(202);
    expect(confirmed.headers.get('location')).toBe(`/api/runs/${held.runId}`);
    expect(await confirmed.json()).toMatchObject({ runId: held.runId, state: 'finalising', disabling: 12 });
    const done = await awaitRunEnd(t, held.runId);
    expect(done).toMatchObject({ state: 'succeeded', confirmedAt: expect.any(String), counts: { updated: 1, disabled: 12 } });
    // The held warning ("no one was disabled") is no longer true: the run says it was confirmed instead.
    expect(done.warnings.join(' ')).not.toMatch(/no one was disabled/);
    expect(done.warnings.at(-1)).toBe(`The disable guard held 12 disable(s); an admin through the API confirmed them at ${done.confirmedAt}.`);
    const users = await usersOf(t, 'Truncated');
    expect(everyone.slice(8).map((name) => users.get(name)?.status)).toEqual(Array(12).fill('disabled'));
    expect(kept.map((name) => users.get(name)?.status)).toEqual(Array(8).fill('active'));
    const audit = await auditOf(t, held.runId);
    expect(audit.filter((r) => r.action === 'disabled')).toHaveLength(12);
    expect(audit.map((r) => r.action)).toEqual(expect.arrayContaining(['run-confirmed', 'run-succeeded']));
    expect((await t.app.deps.connections.get('Truncated'))?.state).toMatchObject({ lastRunStatus: 'succeeded' });
    expect(await t.app.deps.runFiles.list(paths.plans(held.runId))).toEqual([]);

    const again = await api(`runs/${held.runId}/confirm`, { method: 'POST' });
    expect(again.status).toBe(409);
    expect(await again.json()).toMatchObject({ code: 'run-not-awaiting-confirmation' });
    expect((await api('runs/20260101T000000000Z-aaaaaa/confirm', { method: 'POST' })).status).toBe(404);
  });

  it('the next run re-evaluates: the held run is superseded and can no longer be confirmed', async () => {
    const everyone = people('super', 10);
    await putProfile(t, csvProfile('Superseded', 'superseded.csv', { disableGuard: DEFAULT_GUARD }));
    await uploadCsv(t, 'superseded.csv', csv(everyone));
    await syncNow(t, 'Superseded');
    await uploadCsv(t, 'superseded.csv', csv([]).concat(`${everyone[0]},${everyone[0]}@example.org,x,y,Sales\n`));
    const held = await syncNow(t, 'Superseded');
    expect(held).toMatchObject({ state: 'needs-confirmation', heldDisables: { count: 9 } });

    // HR fixed the export: the next run disables no one, and the held run cannot be confirmed any more.
    await uploadCsv(t, 'superseded.csv', csv(everyone));
    const fixed = await syncNow(t, 'Superseded');
    expect(fixed).toMatchObject({ state: 'succeeded', counts: { disabled: 0 } });
    expect(await t.app.deps.runs.get(held.runId)).toMatchObject({ state: 'superseded' });
    expect((await auditOf(t, held.runId)).map((r) => r.action)).toContain('run-superseded');
    const refused = await api(`runs/${held.runId}/confirm`, { method: 'POST' });
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ code: 'run-superseded' });
    expect(await activeCount('Superseded')).toBe(10);
    expect(await t.app.deps.runFiles.list(paths.plans(held.runId))).toEqual([]);
  });

  it('disables within the limit go ahead; more than maxCount trips it whatever the share', async () => {
    const everyone = people('within', 20);
    await putProfile(t, csvProfile('Within', 'within.csv', { disableGuard: DEFAULT_GUARD }));
    await uploadCsv(t, 'within.csv', csv(everyone));
    await syncNow(t, 'Within');
    await uploadCsv(t, 'within.csv', csv(everyone.slice(2)));
    expect(await syncNow(t, 'Within')).toMatchObject({ state: 'succeeded', counts: { disabled: 2 } });
    expect(await activeCount('Within')).toBe(18);

    await putProfile(t, csvProfile('Within', 'within.csv', { disableGuard: { maxPercent: 100, maxCount: 3 } }));
    await uploadCsv(t, 'within.csv', csv(everyone.slice(6)));
    expect(await syncNow(t, 'Within')).toMatchObject({ state: 'needs-confirmation', heldDisables: { count: 4, limit: 3 } });
    expect(await activeCount('Within')).toBe(18);
  });

  it('with the default guard, a small directory\'s leaver goes ahead; more than the minimum and the share is held', async () => {
    const everyone = people('small', 6);
    await putProfile(t, csvProfile('Small', 'small.csv', { disableGuard: undefined }));
    expect(disableGuardOf((await t.app.deps.connections.get('Small'))!.profile)).toEqual(DEFAULT_GUARD);
    await uploadCsv(t, 'small.csv', csv(everyone));
    await syncNow(t, 'Small');
    // 1 of 6 is 17%, more than 10%, but not more than minCount 5: no confirmation for a routine leaver.
    await uploadCsv(t, 'small.csv', csv(everyone.slice(1)));
    expect(await syncNow(t, 'Small')).toMatchObject({ state: 'succeeded', counts: { disabled: 1 } });

    const more = people('more', 10);
    await uploadCsv(t, 'small.csv', csv([...everyone.slice(1), ...more]));
    await syncNow(t, 'Small');
    // 6 of 15: more than 10% (1) and more than minCount (5).
    await uploadCsv(t, 'small.csv', csv(more.slice(0, 9)));
    expect(await syncNow(t, 'Small')).toMatchObject({ state: 'needs-confirmation', heldDisables: { count: 6, enabledBefore: 15, limit: 5 } });
    expect(await activeCount('Small')).toBe(15);
  });

  it('usersync confirm RUN disables the held users; a run is not confirmed while another is active', async () => {
    const everyone = people('cli', 10);
    await putProfile(t, csvProfile('Cli', 'cli.csv', { disableGuard: DEFAULT_GUARD }));
    await uploadCsv(t, 'cli.csv', csv(everyone));
    await syncNow(t, 'Cli');
    await uploadCsv(t, 'cli.csv', csv(everyone.slice(0, 4)));
    const out: string[] = [];
    const io = { out: (line: string) => out.push(line), err: (line: string) => out.push(line) };
    // Exit code 3: held for confirmation (not 1, the run did not fail).
    expect(await runCli(['sync', 'Cli'], { client: localAdminClient(t.app, t.definitions), io })).toBe(3);
    const runId = /Run (\S+) needs-confirmation/.exec(out.join('\n'))?.[1];
    expect(out.join('\n')).toContain(`usersync confirm ${runId}`);
    expect(out.join('\n')).toMatch(/held: 6 user\(s\) to disable: cli04, cli05, cli06, cli07, cli08, cli09/);

    await t.app.deps.connections.updateState('Cli', (current) => ({ ...current.state, activeRunId: '20260101T000000000Z-bbbbbb' }));
    out.length = 0;
    expect(await runCli(['confirm', runId!], { client: localAdminClient(t.app, t.definitions), io })).toBe(2);
    expect(out.join('\n')).toMatch(/error \[run-active\]/);
    await t.app.deps.connections.updateState('Cli', (current) => withoutActiveRun(current.state));

    out.length = 0;
    expect(await runCli(['confirm', runId!], { client: localAdminClient(t.app, t.definitions), io })).toBe(0);
    expect(out.join('\n')).toMatch(/Run \S+ confirmed: disabling 6 user\(s\)[\s\S]*succeeded: .*6 disabled/);
    expect(await activeCount('Cli')).toBe(4);
  });

  it('an empty export fails before anything is planned, so it can neither disable nor be confirmed', async () => {
    const everyone = people('empty', 10);
    await putProfile(t, csvProfile('Empty', 'empty.csv', { disableGuard: { maxPercent: 100, maxCount: 500 } }));
    await uploadCsv(t, 'empty.csv', csv(everyone));
    await syncNow(t, 'Empty');
    for (const content of [`${HEADER}\n`, '']) {
      await uploadCsv(t, 'empty.csv', content);
      const run = await syncNow(t, 'Empty');
      expect(run).toMatchObject({ state: 'failed', error: { code: 'csv-empty' }, counts: { disabled: 0 } });
      expect(await activeCount('Empty')).toBe(10);
    }
  });
});
