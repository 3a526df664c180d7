import { describe, expect, it } from 'vitest';
import { isAppError, type AppError } from '../../shared/errors/app-error.js';
import { handleApi } from '../../shared/http/api.js';
import { LOCAL_ADMIN } from '../../shared/http/caller.js';
import { cancelRun } from '../../shared/sync/pipeline/cancel-run.js';
import { confirmRun } from '../../shared/sync/pipeline/confirm-run.js';
import { paths } from '../../shared/sync/pipeline/staging.js';
import { startRun } from '../../shared/sync/pipeline/start-run.js';
import { drive, handle, stalled, stepped, steppedSync, type QueuedJob, type SteppedApp } from '../support/step-driver.js';
import { auditOf, createTestApp, csvProfile, putProfile, uploadCsv, usersOf, type TestApp } from '../support/test-app.js';

/**
 * `usersync run cancel` / `POST /runs/{id}/cancel`: an active run ends `cancelled`, its slot is freed, an
 * audit record says who, and no job of it disables anyone afterwards — however the jobs interleave. A held
 * run is not active; once confirmed, every worker of its finalise applies the confirm.
 */

const HEADER = 'username,email,firstName,lastName';
const NAMES = ['ada', 'ben', 'cai', 'dee', 'eli', 'fay', 'gus', 'hal'];
const csv = (names: string[]) => [HEADER, ...names.map((name) => `${name},${name}@example.org,${name},Cancel`)].join('\n') + '\n';

/** Eight users synced; the export now lacks cai and dee, so a run that finished would disable them. */
async function twoLeavers(): Promise<{ t: TestApp; app: SteppedApp }> {
  const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Cancel-Initial-1' });
  await putProfile(t, csvProfile('Cancel', 'cancel.csv'));
  await uploadCsv(t, 'cancel.csv', csv(NAMES));
  const app = stepped(t);
  expect((await steppedSync(app, 'Cancel')).run).toMatchObject({ state: 'succeeded', counts: { created: 8 } });
  await uploadCsv(t, 'cancel.csv', csv(NAMES.filter((name) => name !== 'cai' && name !== 'dee')));
  return { t, app };
}

async function statuses(t: TestApp): Promise<Record<string, string>> {
  return Object.fromEntries([...(await usersOf(t, 'Cancel')).values()].map((user) => [user.username, user.status]));
}

const EVERYONE_ACTIVE = Object.fromEntries(NAMES.map((name) => [name, 'active']));

const runIdOf = (job: QueuedJob) => (job.message as { runId: string }).runId;

/**
 * Delivers `job` to a worker that stalls where `worker` says, cancels the run while it is stalled, then
 * lets the worker go on. Returns how the cancel ended: the cancelled run, or the refusal.
 */
async function cancelWhileStalled(app: SteppedApp, job: QueuedJob, worker: ReturnType<typeof stalled>): Promise<unknown> {
  const working = handle(worker.deps, job);
  await worker.reached;
  const cancelled = await cancelRun(app.deps, runIdOf(job), 'ann').catch((error: unknown) => error);
  worker.release();
  await working;
  return cancelled;
}

async function refusal(promise: Promise<unknown>): Promise<Pick<AppError, 'code' | 'message'>> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isAppError(error)) throw new Error(`expected a refusal, got ${String(error)}`);
  return { code: error.code, message: error.message };
}

describe('cancelling a run', () => {
  it('ends a run nobody drives as cancelled: slot freed, audited with who, and its leftover jobs do nothing', async () => {
    const { t, app } = await twoLeavers();
    const started = await startRun(app.deps, { connection: 'Cancel', trigger: 'manual', startedBy: 'cli:tester' });
    expect((await t.app.deps.connections.get('Cancel'))?.state.activeRunId).toBe(started.runId);

    const cancelled = await cancelRun(app.deps, started.runId, 'cli:ann');
    expect(cancelled).toMatchObject({ runId: started.runId, state: 'cancelled', endedAt: expect.any(String) });
    expect(cancelled.warnings.at(-1)).toMatch(/^Cancelled by ann \(usersync CLI\), so no one was disabled/);
    const { state } = (await t.app.deps.connections.get('Cancel'))!;
    expect(state.activeRunId).toBeUndefined();
    expect(state).toMatchObject({ lastRunId: started.runId, lastRunStatus: 'cancelled' });
    expect((await auditOf(t, started.runId)).filter((record) => record.action === 'run-cancelled')).toEqual([
      expect.objectContaining({ subject: started.runId, connection: 'Cancel', actor: 'cli:ann', detail: 'Cancelled by ann (usersync CLI); no one was disabled.' }),
    ]);

    // The page job queued at the start is still delivered: it finds the run cancelled and stops.
    expect(app.queue.pending.map((job) => job.queue)).toEqual(['pages']);
    await drive(app);
    expect(await t.app.deps.runs.get(started.runId)).toMatchObject({ state: 'cancelled', pagesFetched: 0, shardsDone: 0 });
    expect(await t.app.deps.runFiles.list(paths.pages(started.runId))).toEqual([]);
    expect(await statuses(t)).toEqual(EVERYONE_ACTIVE);

    expect(await refusal(cancelRun(app.deps, started.runId, 'ann'))).toMatchObject({ code: 'run-not-active', message: expect.stringMatching(/has already ended \(cancelled\)/) });
    // The profile is free: the next run starts and, complete, disables the two leavers.
    expect((await steppedSync(app, 'Cancel')).run).toMatchObject({ state: 'succeeded', counts: { disabled: 2 } });
  });

  it('a cancel while the page job records the last page: the listing does not revive the run', async () => {
    const { t, app } = await twoLeavers();
    let runId = '';
    const { run } = await steppedSync(app, 'Cancel', {
      intercept: async (job: QueuedJob) => {
        if (job.queue !== 'pages') return false;
        runId = runIdOf(job);
        // The page job has read and recorded the last page (six users, four a page: the second), and
        // stalls before it ends the listing.
        await cancelWhileStalled(app, job, stalled(app.deps, 'update', 2));
        return true;
      },
    });
    expect(run).toMatchObject({ runId, state: 'cancelled', listing: 'in-progress' });
    expect(app.queue.sent.filter((job) => job.queue === 'reconcile' && (job.message as { runId: string }).runId === runId)).toEqual([]);
    expect(await statuses(t)).toEqual(EVERYONE_ACTIVE);
  });

  it('a cancel while the last shard is applied: the run stays cancelled and finalise never runs', async () => {
    const { t, app } = await twoLeavers();
    let runId = '';
    const { run } = await steppedSync(app, 'Cancel', {
      intercept: async (job: QueuedJob) => {
        const { shard } = job.message as { shard?: number };
        if (job.queue !== 'reconcile' || shard !== 15) return false;
        runId = runIdOf(job);
        // The last shard's worker has planned and checked the run, and stalls before applying and counting.
        await cancelWhileStalled(app, job, stalled(app.deps, 'listShardResults', 2));
        return true;
      },
    });
    expect(run).toMatchObject({ runId, state: 'cancelled' });
    expect(app.queue.sent.filter((job) => job.queue === 'finalise' && (job.message as { runId: string }).runId === runId)).toEqual([]);
    expect(await statuses(t)).toEqual(EVERYONE_ACTIVE);
    expect((await auditOf(t, runId)).map((record) => record.action)).not.toContain('disabled');
  });

  it('a cancel that gets in while finalise reads the plans: finalise stops before disabling anyone', async () => {
    const { t, app } = await twoLeavers();
    let runId = '';
    const { run } = await steppedSync(app, 'Cancel', {
      intercept: async (job: QueuedJob) => {
        if (job.queue !== 'finalise') return false;
        runId = runIdOf(job);
        // Finalise has read every shard's plan (the disables in them) and stalls before acting on them.
        await cancelWhileStalled(app, job, stalled(app.deps, 'get', 16, 'runFiles'));
        return true;
      },
    });
    expect(run).toMatchObject({ runId, state: 'cancelled', counts: { disabled: 0 } });
    expect(await statuses(t)).toEqual(EVERYONE_ACTIVE);
    expect((await auditOf(t, runId)).map((record) => record.action)).not.toContain('disabled');
    expect((await t.app.deps.connections.get('Cancel'))?.state).toMatchObject({ lastRunStatus: 'cancelled' });
  });

  it('once finalise has begun to act the cancel is refused, and the run ends as it would have', async () => {
    const { t, app } = await twoLeavers();
    let refused: unknown;
    const { run } = await steppedSync(app, 'Cancel', {
      intercept: async (job: QueuedJob) => {
        if (job.queue !== 'finalise') return false;
        // Stalls right after finalise marked the run (its first write).
        refused = await cancelWhileStalled(app, job, stalled(app.deps, 'update', 1));
        return true;
      },
    });
    expect(isAppError(refused) && { code: refused.code, message: refused.message }).toMatchObject({ code: 'run-not-active', message: expect.stringMatching(/is finishing \(finalise began at .*\) and can no longer be cancelled/) });
    expect(run).toMatchObject({ state: 'succeeded', counts: { disabled: 2 } });
    expect(await statuses(t)).toMatchObject({ cai: 'disabled', dee: 'disabled', ada: 'active' });
  });

  it('POST /runs/{id}/cancel: 200 with the cancelled run; 409 once it has ended; 404 for no such run', async () => {
    const { t, app } = await twoLeavers();
    const started = await startRun(app.deps, { connection: 'Cancel', trigger: 'manual', startedBy: 'cli:tester' });
    const post = (id: string) => handleApi(t.app, { method: 'POST', path: `runs/${id}/cancel`, query: new URLSearchParams() }, LOCAL_ADMIN);
    const cancelled = await post(started.runId);
    expect(cancelled).toMatchObject({ status: 200, jsonBody: { runId: started.runId, state: 'cancelled' } });
    expect((await auditOf(t, started.runId)).find((record) => record.action === 'run-cancelled')?.detail).toBe('Cancelled by an admin through the API; no one was disabled.');
    expect(await post(started.runId)).toMatchObject({ status: 409, headers: { 'content-type': 'application/problem+json' }, jsonBody: { code: 'run-not-active' } });
    expect(await post('20260101T000000000Z-aaaaaa')).toMatchObject({ status: 404, jsonBody: { code: 'run-not-found' } });
    expect(await handleApi(t.app, { method: 'GET', path: `runs/${started.runId}/cancel`, query: new URLSearchParams() }, LOCAL_ADMIN)).toMatchObject({ status: 405 });
  });

  it('a run held for confirmation is not active: cancelling it is refused, saying it disables no one unless confirmed', async () => {
    const { t, app } = await twoLeavers();
    await putProfile(t, csvProfile('Cancel', 'cancel.csv', { disableGuard: { maxPercent: 10, minCount: 0 } }));
    const { run } = await steppedSync(app, 'Cancel');
    expect(run.state).toBe('needs-confirmation');
    expect(await refusal(cancelRun(app.deps, run.runId, 'ann'))).toMatchObject({ code: 'run-not-active', message: expect.stringMatching(/disables no one unless confirmed/) });
  });

  it('a finalise that read the run before it was held and wakes after the confirm applies the confirm, not a second hold', async () => {
    const { t, app } = await twoLeavers();
    await putProfile(t, csvProfile('Cancel', 'cancel.csv', { disableGuard: { maxPercent: 10, minCount: 0 } }));
    const started = await startRun(app.deps, { connection: 'Cancel', trigger: 'manual', startedBy: 'cli:tester' });
    // The finalise message reaches two workers: one reads the run and stalls, the other holds the run.
    let late: { working: Promise<void>; release: () => void } | undefined;
    await drive(app, {
      intercept: async (job) => {
        if (job.queue !== 'finalise') return false;
        const worker = stalled(app.deps, 'get');
        late = { working: handle(worker.deps, job), release: worker.release };
        await worker.reached;
        await handle(app.deps, job);
        return true;
      },
    });
    expect(await app.deps.runs.get(started.runId)).toMatchObject({ state: 'needs-confirmation', heldDisables: { count: 2 } });
    expect(await statuses(t)).toEqual(EVERYONE_ACTIVE);

    await confirmRun(app.deps, started.runId, 'cli:ann');
    late!.release();
    await late!.working;
    await drive(app);
    expect(await app.deps.runs.get(started.runId)).toMatchObject({ state: 'succeeded', confirmedBy: 'cli:ann', counts: { disabled: 2 } });
    expect(await statuses(t)).toEqual({ ...EVERYONE_ACTIVE, cai: 'disabled', dee: 'disabled' });
    const disabled = (await auditOf(t, started.runId)).filter((record) => record.action === 'disabled');
    expect(disabled.map((record) => record.actor)).toEqual(['cli:ann', 'cli:ann']);
  });
});
