import { describe, expect, it } from 'vitest';
import type { StoredUser } from '../../shared/sync/model.js';
import { paths, readPlan, writePlan, type ShardPlan } from '../../shared/sync/pipeline/staging.js';
import { recordPoisonedShard } from '../../shared/sync/pipeline/reconcile-job.js';
import { shardOf } from '../../shared/sync/rules/partitioning.js';
import { createTestApp, csvProfile, putProfile, uploadCsv, usersOf } from '../support/test-app.js';
import { handle, stepped, steppedSync, type QueuedJob, type SteppedApp } from '../support/step-driver.js';

/**
 * A run acts on what it stored earlier — a shard's plan when its job is delivered again, every plan in
 * finalise, a dry run's plan when it is shown — so it reads them through readPlan, which checks them.
 */

const HEADER = 'username,email,firstName,lastName';
const csv = (names: readonly string[]) => [HEADER, ...names.map((n) => `${n},${n}@example.org,${n},Planned`)].join('\n') + '\n';
const NAMES = ['ada', 'ben', 'cai', 'dee', 'eli', 'fay', 'gus', 'hal'];
const LEAVER = 'cai';

/** A directory synced once; the next export drops LEAVER, whom the next run would disable. */
async function syncedOnce(connection: string) {
  const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Planned-Initial-1' });
  await putProfile(t, csvProfile(connection, `${connection}.csv`));
  await uploadCsv(t, `${connection}.csv`, csv(NAMES));
  const app = stepped(t);
  expect((await steppedSync(app, connection)).run).toMatchObject({ state: 'succeeded', counts: { created: NAMES.length } });
  await uploadCsv(t, `${connection}.csv`, csv(NAMES.filter((name) => name !== LEAVER)));
  return { t, app };
}

const jobOf = (job: QueuedJob) => job.message as { runId: string; shard?: number };

/**
 * Drives the second run, letting `damage` spoil a stored plan before a job is delivered (as a redelivery
 * finds it). Finalise is delivered here, once: what it throws is returned instead of being retried.
 */
async function secondRun(app: SteppedApp, connection: string, damage: (job: QueuedJob) => Promise<void>) {
  let finaliseError: unknown;
  const { run, report } = await steppedSync(app, connection, {
    intercept: async (job) => {
      await damage(job);
      if (job.queue !== 'finalise') return false;
      finaliseError = await handle(app.deps, job).catch((error: unknown) => error);
      return true;
    },
  });
  return { run, report, finaliseError };
}

describe('stored plans are read through readPlan, which checks them', () => {
  it('a plan reads back as it was written, with user columns this version does not know', async () => {
    const { app } = await createTestApp();
    const runId = '20261122T080000Z-ffffff';
    const user = {
      directoryKey: 'dk1',
      key: 'ada',
      connection: 'HR',
      username: 'ada',
      email: 'ada@example.org',
      firstName: 'Ada',
      lastName: 'L',
      status: 'disabled',
      attributes: { office: '東京' },
      directoryControlled: ['username'],
      sourceHash: 'h',
      sourceRef: 'row 2',
      createdAt: '2026-11-21T10:00:00.000Z',
      updatedAt: '2026-11-22T08:00:00.000Z',
      disabledReason: 'missing-from-source',
      // Written by the intranet or a later version: a disable carries the row over and writes it back whole.
      intranetNote: 'keep me',
    } as StoredUser;
    const plan: ShardPlan = {
      shard: 3,
      plannedAt: '2026-11-22T08:00:00.000Z',
      decisions: [{ action: 'skip', ref: 'row 9', reason: 'missing-email', detail: 'Row 9 has no email address.' }, { action: 'unchanged', key: 'ben' }],
      sourceDisables: [],
      pendingDisables: [{ action: 'disable', key: 'ada', ref: 'row 2', user, changedFields: ['status'], reason: 'missing-from-source', seat: -1 }],
      enabledBefore: 2,
      unchanged: 1,
      unreadable: 0,
      unreadableReasons: {},
      blockedInScope: [{ key: 'gus', createdAt: '2026-11-20T10:00:00.000Z' }],
    };

    expect(await writePlan(app.deps.runFiles, runId, plan)).toBe(true);
    expect(await writePlan(app.deps.runFiles, runId, { ...plan, enabledBefore: 7 })).toBe(false);
    expect(await readPlan(app.deps.runFiles, runId, 3)).toEqual(plan);
    expect(await readPlan(app.deps.runFiles, runId, 4)).toBeUndefined();
  });

  it.each([
    ['cut short (a damaged blob)', () => '{"shard":', /is not valid JSON; start a new run\.$/],
    [
      'of another shape (another version)',
      (shard: number) => JSON.stringify({ shard, plannedAt: 'x', decisions: [{ action: 'create', key: 'zed', ref: 'row 99', user: { username: 'zed', status: 'zombie' }, changedFields: [] }] }),
      /is not one this version can read \(decisions\.0\.user\.\w+: [^)]+\); start a new run\.$/,
    ],
  ])('a stored plan %s fails its shard as run-file-invalid instead of being applied; the run disables no one', async (_what, damaged, message) => {
    const { t, app } = await syncedOnce('DamagedPlan');
    const shard = shardOf('ada');
    const { run, report, finaliseError } = await secondRun(app, 'DamagedPlan', async (job) => {
      if (job.queue === 'reconcile' && jobOf(job).shard === shard) await app.deps.runFiles.put(paths.plan(jobOf(job).runId, shard), damaged(shard));
    });

    const refusal = { code: 'run-file-invalid', message: expect.stringMatching(new RegExp(`^The plan of shard ${shard} stored for run ${run.runId} `)) };
    expect(report.retried.map(({ error }) => error)).toEqual(Array(4).fill(expect.objectContaining(refusal)));
    const results = await app.deps.runs.listShardResults(run.runId);
    expect(results.find((result) => result.shard === shard)?.error).toEqual({ code: 'run-file-invalid', message: expect.stringMatching(message) });
    // Finalise does not read a failed shard's plan: the run fails with the shard's own reason.
    expect(finaliseError).toBeUndefined();
    expect(run).toMatchObject({ state: 'failed', error: { code: 'run-file-invalid' }, counts: { disabled: 0 } });
    const users = await usersOf(t, 'DamagedPlan');
    expect(users.get(LEAVER)?.status).toBe('active');
    expect(users.has('zed')).toBe(false);
  });

  it('finalise refuses a plan that is not one, and disables no one', async () => {
    const { t, app } = await syncedOnce('DamagedFinalise');
    const { run, finaliseError } = await secondRun(app, 'DamagedFinalise', async (job) => {
      if (job.queue !== 'finalise') return;
      const { runId } = jobOf(job);
      const shard = shardOf(LEAVER);
      const plan = JSON.parse(String(await app.deps.runFiles.get(paths.plan(runId, shard)))) as Record<string, unknown>;
      // Another version's plan: its disable holds half a user, which must not be written over the row.
      const half = { action: 'disable', key: 'ada', ref: 'row 2', user: { key: 'ada', username: 'ada' }, changedFields: ['status'] };
      await app.deps.runFiles.deletePrefix(paths.plan(runId, shard));
      await app.deps.runFiles.put(paths.plan(runId, shard), JSON.stringify({ ...plan, pendingDisables: [half] }));
    });

    expect(finaliseError).toMatchObject({ code: 'run-file-invalid', message: expect.stringMatching(/\(pendingDisables\.0\.user\.\w+: /) });
    expect(run.state).toBe('finalising');
    const users = await usersOf(t, 'DamagedFinalise');
    expect([users.get('ada')?.status, users.get('ada')?.email, users.get(LEAVER)?.status]).toEqual(['active', 'ada@example.org', 'active']);
  });

  it("a failed shard's plan is not applied: a disable the source asked for in it waits for a run whose shards all land", async () => {
    const { t, app } = await syncedOnce('FailedShardPlan');
    const shard = shardOf('ada');
    const stored = await usersOf(t, 'FailedShardPlan');
    const ada = stored.get('ada')!;
    const { run } = await steppedSync(app, 'FailedShardPlan', {
      intercept: async (job) => {
        if (job.queue !== 'reconcile' || jobOf(job).shard !== shard) return false;
        const { runId } = jobOf(job);
        // The shard's worker stored a plan in which the source marks ada inactive, then died on every delivery.
        const disable = { action: 'disable' as const, key: ada.key, ref: ada.sourceRef, user: { ...ada, status: 'disabled' as const, disabledReason: 'inactive-in-source' }, changedFields: ['status'], reason: 'inactive-in-source', seat: -1 as const };
        const plan: ShardPlan = { shard, plannedAt: ada.updatedAt, decisions: [], sourceDisables: [disable], pendingDisables: [], enabledBefore: 1, unchanged: 0, unreadable: 0, unreadableReasons: {}, blockedInScope: [] };
        await writePlan(app.deps.runFiles, runId, plan);
        await recordPoisonedShard(app.deps, { runId, shard }, { code: 'poison-message', message: 'The reconcile job of this shard failed on every delivery.' });
        return true;
      },
    });

    expect(run).toMatchObject({ state: 'failed', error: { code: 'poison-message' }, counts: { disabled: 0 } });
    const users = await usersOf(t, 'FailedShardPlan');
    expect([users.get('ada')?.status, users.get(LEAVER)?.status]).toEqual(['active', 'active']);
  });
});
