import { beforeAll, describe, expect, it } from 'vitest';
import { auditOf, createTestApp, csvProfile, putProfile, uploadCsv, type TestApp } from '../support/test-app.js';
import { drive, handle, messageId, outcomeOf, stalled, stepped, steppedSync, type DeliveryMode, type DriveOptions, type DriveReport, type Outcome, type QueuedJob, type SteppedApp } from '../support/step-driver.js';
import type { Run } from '../../shared/sync/run-model.js';
import { paths } from '../../shared/sync/pipeline/staging.js';

/**
 * Issue 7, exactly-once effect on at-least-once queues: every kind of job delivered twice in a row,
 * or to two workers at the same moment, leaves the same users, audit trail, run counts and licences
 * as a run where each message arrived once.
 */

const HEADER = 'username,email,firstName,lastName,department';
const row = (name: string, department = 'Sales') => `${name},${name}@example.org,${name.toUpperCase()},Tester,${department}`;
const csv = (...rows: string[]) => [HEADER, ...rows].join('\n') + '\n';
const NAMES = ['ada', 'ben', 'cai', 'dee', 'eli', 'fay', 'gus', 'hal'];
const FIRST = csv(...NAMES.map((name) => row(name)));
/** ben moves, cai leaves, ivy and jon join, one row is broken, one has no email: every kind of action. */
const SECOND = csv(
  ...NAMES.filter((name) => name !== 'cai').map((name) => row(name, name === 'ben' ? 'Legal' : 'Sales')),
  row('ivy'),
  row('jon'),
  'kim,,Kim,Tester,Sales',
);
/** One seat short for the second run: one newcomer is blocked, then activated when cai's seat frees up. */
const ENV = { TEST_DEFAULT_PASSWORD: 'Initial-Pa55!', USERSYNC_LICENCE_LIMIT: '9' };

async function scenario(
  modeOf: (job: QueuedJob) => DeliveryMode,
  intercept?: (app: SteppedApp) => DriveOptions['intercept'],
): Promise<{ t: TestApp; app: SteppedApp; run: Run; outcome: Outcome; finished: Run[]; report: DriveReport; sent: QueuedJob[] }> {
  const t = await createTestApp(ENV);
  await putProfile(t, csvProfile('Dup', 'dup.csv'));
  await uploadCsv(t, 'dup.csv', FIRST);
  const app = stepped(t);
  const first = await steppedSync(app, 'Dup');
  expect(first.run).toMatchObject({ state: 'succeeded', counts: { created: 8 } });
  await uploadCsv(t, 'dup.csv', SECOND);
  app.finished.length = 0;
  const sentBefore = app.queue.sent.length;
  const { run, report } = await steppedSync(app, 'Dup', { modeOf, ...(intercept ? { intercept: intercept(app) } : {}) });
  return { t, app, run, outcome: await outcomeOf(app.deps, 'Dup', run), finished: [...app.finished], report, sent: app.queue.sent.slice(sentBefore) };
}

describe('duplicate and concurrent delivery of the same job (CSV run on Azurite)', () => {
  let baseline: Outcome;
  beforeAll(async () => {
    ({ outcome: baseline } = await scenario(() => 'once'));
  });

  it('the baseline run did every kind of action once', () => {
    expect(baseline.run).toMatchObject({
      state: 'succeeded',
      shardsDone: 16,
      pagesFetched: 3,
      listing: 'complete',
      counts: { created: 1, blocked: 1, updated: 1, unchanged: 6, disabled: 1, activated: 0, skipped: 1 },
      skipReasons: { 'missing-email': 1 },
    });
    // 8 active, then cai's seat freed and one newcomer's taken; the other newcomer waits, blocked.
    expect(baseline.licencesUsed).toBe(8);
    expect(baseline.users.map((user) => user.status).sort()).toEqual([...Array<string>(8).fill('active'), 'blocked', 'disabled']);
    expect(baseline.shards.reduce((sum: number, shard) => sum + (shard as { counts: { created: number } }).counts.created, 0)).toBe(1);
  });

  // Each scenario is two full runs on Azurite (~4 s), so the kinds of jobs are duplicated together.
  const cases: [string, DeliveryMode][] = [
    ['every job (page, reconcile, finalise) delivered twice in a row', 'twice'],
    ['every job handled by two workers at once', 'concurrent'],
  ];
  it.concurrent.each(cases)('%s: same rows, audit records, counts, shard results and licences as once', async (_name, mode) => {
    const { t, run, outcome, finished, report, sent } = await scenario(() => mode);
    expect(outcome).toEqual(baseline);
    // Every message of the run (its page job, the 16 shards, finalise) was handled twice, not once.
    const messages = [...new Set(sent.map(messageId))].sort();
    expect(messages.filter((id) => id.startsWith('pages:'))).toHaveLength(1);
    expect(messages.filter((id) => id.startsWith('reconcile:'))).toHaveLength(16);
    expect(messages.filter((id) => id.startsWith('finalise:'))).toHaveLength(1);
    // A delivery that failed (two workers uploading the same blob at once) was delivered again, as a queue would.
    const retries = (id: string) => report.retried.filter(({ job }) => messageId(job) === id).length;
    expect(Object.fromEntries(report.handled)).toEqual(Object.fromEntries(messages.map((id) => [id, 2 + retries(id)])));
    // One run summary (telemetry) per run, with the counts the run row holds.
    expect(finished).toHaveLength(1);
    expect(finished[0]?.counts).toEqual(run.counts);
    const audit = await auditOf(t, run.runId);
    expect(audit.filter((record) => record.action === 'created')).toHaveLength(1);
    expect(audit.filter((record) => record.action === 'run-succeeded')).toHaveLength(1);
  });

  /**
   * A worker that read the run, then stalled while another worker did the same job and the run went
   * on to its end, must not change or count anything when it wakes.
   */
  it('workers that stalled mid-job (page, reconcile, finalise), woken after the run ended, change and count nothing', async () => {
    // Two workers of the first page job (which reads on through the whole listing) stall: one after it
    // found page 1 not yet recorded, one right after reading the run. One shard stalls after its "is my
    // shard done?" check, and finalise after reading the run. Each time a second worker does the same job
    // at once and the run goes on to its end before the stalled ones wake up.
    const plan: Record<string, [method: 'get' | 'getPage' | 'listShardResults', nth: number][]> = {
      'pages:0': [
        ['getPage', 1],
        ['get', 1],
      ],
      'reconcile:5': [['listShardResults', 1]],
      finalise: [['get', 1]],
    };
    const late: { queue: string; promise: Promise<void>; release: () => void }[] = [];
    const { t, app, run, outcome, finished } = await scenario(
      () => 'once',
      (app) => async (job) => {
        const message = job.message as { page?: number; shard?: number };
        const id = job.queue === 'finalise' ? 'finalise' : `${job.queue}:${message.page ?? message.shard}`;
        const stalls = plan[id];
        if (!stalls) return false;
        delete plan[id];
        for (const [method, nth] of stalls) {
          const worker = stalled(app.deps, method, nth);
          const promise = handle(worker.deps, job);
          late.push({ queue: job.queue, promise, release: worker.release });
          // A worker that ends (or fails) before its stall point would leave the test waiting: say so instead.
          await Promise.race([worker.reached, promise.then(() => Promise.reject(new Error(`${id} ended before its ${method} #${nth}`)))]);
        }
        await handle(app.deps, job);
        return true;
      },
    );
    expect(Object.keys(plan)).toEqual([]);
    expect(outcome).toEqual(baseline);
    for (const worker of late) {
      worker.release();
      await worker.promise;
      // A late page worker staged its page again after the run ended: it removed it itself.
      if (worker.queue === 'pages') expect(await t.app.deps.runFiles.list(paths.pages(run.runId))).toEqual([]);
    }
    // Whatever the late workers sent is handled too, as the queue would.
    await drive(app);
    expect(await outcomeOf(app.deps, 'Dup', (await app.deps.runs.get(run.runId))!)).toEqual(baseline);
    expect(finished).toHaveLength(1);
    expect(app.finished).toHaveLength(1);
    // Nothing of the run is left in the runs container but the archived input (the input as read and staged pages may hold passwords).
    expect((await t.app.deps.runFiles.list(`${run.runId}/`)).map((file) => file.path)).toEqual([`${run.runId}/archive.csv`]);
  });
});
