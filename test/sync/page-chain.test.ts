import { describe, expect, it } from 'vitest';
import { AppError } from '../../shared/errors/app-error.js';
import { PAGE_CHAIN_BUDGET_MS } from '../../shared/sync/pipeline/page-job.js';
import { steppedSync, stepped, type SteppedApp } from '../support/step-driver.js';
import { createTestApp, csvProfile, putProfile, uploadCsv, usersOf, type TestApp } from '../support/test-app.js';

/**
 * A page job reads on through the listing (fetching each next page while it stores the current one)
 * until its time budget is spent, then hands the rest to a new message. Pages are 4 rows in tests.
 */
const HEADER = 'username,email,firstName,lastName';
const csv = (names: string[]) => [HEADER, ...names.map((n) => `${n},${n}@example.org,${n},Chain`)].join('\n') + '\n';
const names = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

async function setUp(connection: string, rows: number): Promise<TestApp> {
  const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Chain-Initial-1' });
  await putProfile(t, csvProfile(connection, `${connection}.csv`));
  await uploadCsv(t, `${connection}.csv`, csv(names('c', rows)));
  return t;
}

const pageMessages = (app: SteppedApp) => app.queue.sent.filter((job) => job.queue === 'pages').map((job) => (job.message as { page: number }).page);

describe('the page chain: one page job reads many pages, within a time budget', () => {
  it('within the budget, one page job lists all 5 pages; every user syncs', async () => {
    const t = await setUp('ChainOne', 18);
    const app = stepped(t); // a fixed clock: the budget is never spent
    const { run } = await steppedSync(app, 'ChainOne');

    expect(run).toMatchObject({ state: 'succeeded', listing: 'complete', pagesFetched: 5, counts: { created: 18 } });
    expect(pageMessages(app)).toEqual([0]);
    expect((await usersOf(t, 'ChainOne')).size).toBe(18);
  });

  it('once the budget is spent, the job hands the next page to a new message; the outcome is the same', async () => {
    const t = await setUp('ChainHandOver', 18);
    const app = stepped(t);
    // Each reading of the clock is a budget later than the one before: every job lists one page only.
    let reads = 0;
    app.deps = { ...app.deps, clock: () => new Date(Date.UTC(2026, 10, 21, 10) + reads++ * (PAGE_CHAIN_BUDGET_MS + 1)) };
    const { run } = await steppedSync(app, 'ChainHandOver');

    expect(run).toMatchObject({ state: 'succeeded', listing: 'complete', pagesFetched: 5, counts: { created: 18 } });
    expect(pageMessages(app)).toEqual([0, 1, 2, 3, 4]);
    expect((await usersOf(t, 'ChainHandOver')).size).toBe(18);
  });

  it('a later page of the chain that fails gets its own message and retries; the run still lists everything', async () => {
    const t = await setUp('ChainRetry', 18);
    const app = stepped(t);
    const sources = app.deps.sources;
    let failures = 0;
    app.deps = {
      ...app.deps,
      sources: (profile) => {
        const source = sources(profile);
        return Object.assign(Object.create(source) as typeof source, {
          readPage: async (request: Parameters<typeof source.readPage>[0]) => {
            if (request.page === 3 && failures < 2) {
              failures++;
              throw new AppError('source-unavailable', 'The directory did not answer (simulated).', { transient: true });
            }
            return source.readPage(request);
          },
        });
      },
    };
    const { run, report } = await steppedSync(app, 'ChainRetry');

    expect(run).toMatchObject({ state: 'succeeded', listing: 'complete', pagesFetched: 5, counts: { created: 18 } });
    expect(failures).toBe(2);
    // Page 0's job read pages 0–2, then handed page 3 over; page 3's own message failed once more and was retried.
    expect(pageMessages(app)).toEqual([0, 3]);
    expect(report.retried.map(({ job }) => (job.message as { page: number }).page)).toEqual([3]);
  });
});
