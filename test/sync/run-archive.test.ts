import { BlobServiceClient } from '@azure/storage-blob';
import { describe, expect, it } from 'vitest';
import { confirmRun } from '../../shared/sync/pipeline/confirm-run.js';
import { verifyPassword } from '../../shared/sync/rules/passwords.js';
import { startRun } from '../../shared/sync/pipeline/start-run.js';
import { paths } from '../../shared/sync/pipeline/staging.js';
import type { Run } from '../../shared/sync/run-model.js';
import { runTimerTick } from '../../shared/sync/pipeline/timer-tick.js';
import { auditOf, createTestApp, csvProfile, putProfile, syncNow, uploadCsv, usersOf, type TestApp } from '../support/test-app.js';

const DEFAULT_PASSWORD = 'Default-Initial-9';
const DAY_MS = 24 * 3_600_000;

/** Every blob of the app's runs container, by name, as text. */
async function runsContainer(t: TestApp): Promise<Map<string, string>> {
  const container = BlobServiceClient.fromConnectionString(t.env.AzureWebJobsStorage!).getContainerClient(t.app.config.names.runsContainer);
  const blobs = new Map<string, string>();
  for await (const blob of container.listBlobsFlat()) blobs.set(blob.name, (await container.getBlobClient(blob.name).downloadToBuffer()).toString('utf8'));
  return blobs;
}

/** The error a promise rejects with. */
const rejection = (promise: Promise<unknown>): Promise<unknown> => promise.then(() => expect.unreachable('it succeeded'), (error: unknown) => error);

describe("a run's files at rest", () => {
  it('keeps the input for roll-back without the password values; nothing else of the run stays', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: DEFAULT_PASSWORD });
    const file = [
      'username,email,firstName,lastName,password,city',
      'ana,ana@example.org,Ana,Archive,Ana-Secret-1,"Zürich, CH"',
      'ben,ben@example.org,Ben,Archive,,Bern',
      '',
      'cy,cy@example.org,Cy,Archive,"Cy;Secret""2",Chur',
      'eve,eve@example.org,Eve,Archive,Eve-Secret-4,"Multi',
      'line"',
      'dee,dee@example.org,Dee,Archive,"Dee-Secret-3,Basel',
    ].join('\n');
    await putProfile(t, csvProfile('Archived', 'archived.csv'));
    await uploadCsv(t, 'archived.csv', file);
    const run = await syncNow(t, 'Archived');
    expect(run).toMatchObject({ state: 'succeeded', counts: { created: 4 }, unreadableRecords: 1 });
    // The row passwords were used (from the run's own copy, read before it was removed).
    const users = await usersOf(t, 'Archived');
    expect(await verifyPassword('Ana-Secret-1', users.get('ana')!.passwordHash!)).toBe(true);
    expect(await verifyPassword('Cy;Secret"2', users.get('cy')!.passwordHash!)).toBe(true);
    expect(await verifyPassword(DEFAULT_PASSWORD, users.get('ben')!.passwordHash!)).toBe(true);

    const blobs = await runsContainer(t);
    expect([...blobs.keys()]).toEqual([paths.archive(run.runId)]);
    // Every line keeps its place; only password values are gone, and the unreadable line (which may hold one).
    expect(blobs.get(paths.archive(run.runId))).toBe(
      [
        '\uFEFFusername,email,firstName,lastName,password,city',
        'ana,ana@example.org,Ana,Archive,,"Zürich, CH"',
        'ben,ben@example.org,Ben,Archive,,Bern',
        '',
        'cy,cy@example.org,Cy,Archive,,Chur',
        'eve,eve@example.org,Eve,Archive,,"Multi',
        'line"',
        '"unreadable line withheld from the archive"!',
        '',
      ].join('\n'),
    );
    for (const text of blobs.values()) {
      for (const secret of ['Ana-Secret-1', 'Secret""2', 'Secret"2', 'Eve-Secret-4', 'Dee-Secret-3', DEFAULT_PASSWORD]) expect(text).not.toContain(secret);
    }
  });

  it('rolls back from an archive: users created then get the default password, or are skipped without one', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: DEFAULT_PASSWORD });
    const file = 'username,email,firstName,lastName,password\nrae,rae@example.org,Rae,Back,Rae-Own-Secret\n';
    await putProfile(t, csvProfile('WithDefault', 'rollback-a.csv'));
    await putProfile(t, csvProfile('NoDefault', 'rollback-b.csv', { defaultPasswordSecret: undefined }));
    await uploadCsv(t, 'rollback-a.csv', file);
    await uploadCsv(t, 'rollback-b.csv', file.replaceAll('rae', 'ray'));
    // A dry run archives the file and creates no one, so the roll-back creates the users.
    const restored = new Map<string, Run>();
    for (const name of ['WithDefault', 'NoDefault']) {
      const dry = await syncNow(t, name, { dryRun: true });
      restored.set(name, await syncNow(t, name, { fromRunId: dry.runId }));
    }
    expect(restored.get('WithDefault')?.state).toBe('succeeded');
    // Its only row skipped for want of a password: the run says so rather than succeeding with nothing done.
    expect(restored.get('NoDefault')).toMatchObject({ state: 'failed', error: { code: 'all-rows-skipped' } });
    const rae = (await usersOf(t, 'WithDefault')).get('rae');
    expect(await verifyPassword(DEFAULT_PASSWORD, rae!.passwordHash!)).toBe(true);
    expect(await verifyPassword('Rae-Own-Secret', rae!.passwordHash!)).toBe(false);
    expect((await usersOf(t, 'NoDefault')).size).toBe(0);
    const [noDefault] = await t.app.deps.runs.list({ connection: 'NoDefault', limit: 1 });
    expect(noDefault?.skipReasons).toEqual({ 'missing-password': 1 });
  });

  it('deletes the files of runs older than USERSYNC_ARCHIVE_DAYS; roll-back and confirmation then say so', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: DEFAULT_PASSWORD, USERSYNC_ARCHIVE_DAYS: '2' });
    await putProfile(t, csvProfile('Expiring', 'expiring.csv', { disableGuard: { maxPercent: 100, maxCount: 0 } }));
    await uploadCsv(t, 'expiring.csv', 'username,email,firstName,lastName\nema,ema@example.org,Ema,Old\nole,ole@example.org,Ole,Old\n');
    const old = await syncNow(t, 'Expiring');
    await uploadCsv(t, 'expiring.csv', 'username,email,firstName,lastName\nema,ema@example.org,Ema,Old\n');
    const held = await syncNow(t, 'Expiring');
    expect(held.state).toBe('needs-confirmation');
    expect([...(await runsContainer(t)).keys()].filter((name) => name.startsWith(held.runId)).length).toBeGreaterThan(1); // its plans

    const started = Date.parse(held.startedAt);
    t.app.deps.clock = () => new Date(started + 2 * DAY_MS - 60_000);
    await runTimerTick(t.app.deps);
    expect(await t.app.deps.runFiles.exists(paths.archive(old.runId))).toBe(true);

    t.app.deps.clock = () => new Date(started + 2 * DAY_MS + 60_000);
    await runTimerTick(t.app.deps);
    expect([...(await runsContainer(t)).keys()]).toEqual([]);
    expect(await rejection(startRun(t.app.deps, { connection: 'Expiring', trigger: 'manual', startedBy: 'cli:tester', fromRunId: old.runId }))).toMatchObject({
      code: 'run-files-expired',
      message: `The input of run ${old.runId} was deleted: a run's files are kept 2 days (USERSYNC_ARCHIVE_DAYS). Re-sync from a later run, or upload the file again.`,
    });
    expect(await rejection(confirmRun(t.app.deps, held.runId, 'cli:tester'))).toMatchObject({ code: 'run-files-expired' });
    expect((await t.app.deps.runs.get(held.runId))?.state).toBe('needs-confirmation');
    expect((await usersOf(t, 'Expiring')).get('ole')?.status).toBe('active');

    // A run whose archive is missing for another reason is refused as having none.
    const recent = await syncNow(t, 'Expiring', { dryRun: true });
    await t.app.deps.runFiles.deletePrefix(paths.archive(recent.runId));
    expect(await rejection(startRun(t.app.deps, { connection: 'Expiring', trigger: 'manual', startedBy: 'cli:tester', fromRunId: recent.runId }))).toMatchObject({ code: 'run-not-found' });
    expect((await auditOf(t, held.runId)).map((record) => record.action)).not.toContain('run-confirmed');
  });
});
