import { afterEach, describe, expect, it } from 'vitest';
import { LocalHost } from '../../shared/host/local-host.js';
import { startRun } from '../../shared/sync/start-run.js';
import { runTimerTick, STALLED_AFTER_MS } from '../../shared/sync/timer-tick.js';
import { auditOf, awaitRunEnd, createTestApp, csvProfile, putProfile, syncNow, uploadCsv, usersOf, type TestApp } from '../support/test-app.js';

const HEADER = 'username,email,firstName,lastName';
const csv = (names: string[]) => [HEADER, ...names.map((n) => `${n},${n}@example.org,${n},Fault`)].join('\n') + '\n';
const names = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

/** A local host whose failed messages come back at once, so five deliveries take moments. */
function quickHost(t: TestApp): LocalHost {
  return new LocalHost(t.definitions, {
    connectionString: t.env.AzureWebJobsStorage!,
    pollIntervalMs: 20,
    queues: { maxPollingIntervalMs: 100, visibilityTimeoutMs: 0 },
    log: () => undefined,
  });
}

describe('poison messages end the run as failed, and the rest of its work lands', () => {
  let host: LocalHost | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  it('a page job that crashes on every delivery: the pages read before it still sync, no one is disabled', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Poison-Initial-1' });
    await putProfile(t, csvProfile('PoisonPage', 'poison-page.csv'));
    const everyone = names('pp', 9);
    await uploadCsv(t, 'poison-page.csv', csv(everyone.slice(0, 6)));
    await syncNow(t, 'PoisonPage');
    // Next export: the first 4 rows change, and 2 users are gone; page 2 cannot be staged, ever.
    await uploadCsv(t, 'poison-page.csv', csv(['pp0x', 'pp1x', 'pp2x', 'pp3x', 'pp6', 'pp7', 'pp8']));
    const put = t.app.deps.runFiles.put.bind(t.app.deps.runFiles);
    t.app.deps.runFiles.put = async (path, content, metadata) => {
      if (/\/pages\/page-000001\.json$/.test(path)) throw new Error('simulated crash while staging page 2');
      return put(path, content, metadata);
    };
    host = quickHost(t);
    await host.start();
    const run = await awaitRunEnd(t, (await startRun(t.app.deps, { connection: 'PoisonPage', trigger: 'manual' })).runId);

    expect(run).toMatchObject({ state: 'failed', listing: 'failed', error: { code: 'poison-message' }, counts: { created: 4, disabled: 0 } });
    expect(run.error?.message).toMatch(/Reading page 2 of the listing failed 5 times and was moved to the poison queue/);
    expect(host.invocations.poisoned).toBe(1);
    const users = await usersOf(t, 'PoisonPage');
    expect([...users.values()].filter((u) => u.status === 'active')).toHaveLength(10);
    expect((await auditOf(t, run.runId)).find((r) => r.action === 'run-failed')).toMatchObject({ reason: 'poison-message' });
    expect((await t.app.deps.connections.get('PoisonPage'))?.state).toMatchObject({ lastRunId: run.runId, lastRunStatus: 'failed' });
  });

  it('a finalise that crashes on every delivery: the run is failed with the reason, the slot freed, users applied', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Poison-Initial-1' });
    await putProfile(t, csvProfile('PoisonFinalise', 'poison-finalise.csv'));
    await uploadCsv(t, 'poison-finalise.csv', csv(names('pf', 5)));
    const write = t.app.deps.audit.write.bind(t.app.deps.audit);
    t.app.deps.audit.write = async (records) => {
      if (records.some((r) => r.action === 'run-succeeded')) throw new Error('simulated crash while closing the run');
      return write(records);
    };
    host = quickHost(t);
    await host.start();
    const run = await awaitRunEnd(t, (await startRun(t.app.deps, { connection: 'PoisonFinalise', trigger: 'manual' })).runId);

    expect(run).toMatchObject({ state: 'failed', error: { code: 'poison-message' } });
    expect(run.error?.message).toMatch(/Finalising the run failed 5 times/);
    expect((await usersOf(t, 'PoisonFinalise')).size).toBe(5);
    expect((await auditOf(t, run.runId)).find((r) => r.action === 'run-failed')).toMatchObject({ reason: 'poison-message' });
    const { state } = (await t.app.deps.connections.get('PoisonFinalise'))!;
    expect(state.activeRunId).toBeUndefined();
    expect(state.lastRunStatus).toBe('failed');
  });
});

describe('the stalled-run watchdog', () => {
  it('fails a run whose messages were lost once it made no progress for an hour, and the profile syncs again', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Stall-Initial-1' });
    await putProfile(t, csvProfile('Stalled', 'stalled.csv', { schedule: { kind: 'interval', minutes: 15 } }));
    await uploadCsv(t, 'stalled.csv', csv(names('st', 3)));
    // No worker ever takes the first page job: as if its message was lost.
    const lost = await startRun(t.app.deps, { connection: 'Stalled', trigger: 'manual' });
    const realNow = Date.now();

    t.app.deps.clock = () => new Date(realNow + STALLED_AFTER_MS - 5 * 60_000);
    expect((await runTimerTick(t.app.deps)).started).toEqual([]);
    expect(await t.app.deps.runs.get(lost.runId)).toMatchObject({ state: 'listing' });

    t.app.deps.clock = () => new Date(realNow + STALLED_AFTER_MS + 5 * 60_000);
    const tick = await runTimerTick(t.app.deps);
    const stalled = await t.app.deps.runs.get(lost.runId);
    expect(stalled).toMatchObject({ state: 'failed', error: { code: 'run-stalled' }, counts: { disabled: 0 } });
    expect(stalled?.error?.message).toMatch(/no progress for 6[45] minutes/);
    expect((await auditOf(t, lost.runId)).find((r) => r.action === 'run-failed')).toMatchObject({ reason: 'run-stalled' });
    // The same tick found the profile due and free: a new run started.
    expect(tick.started).toHaveLength(1);
    expect((await t.app.deps.connections.get('Stalled'))?.state.activeRunId).toBe(tick.started[0]);
  });

  it('frees a slot whose run has ended or vanished (a crash between the two writes)', async () => {
    const t = await createTestApp();
    await putProfile(t, csvProfile('Orphan', 'orphan.csv'));
    const since = new Date(Date.now() - 10 * 60_000).toISOString();
    await t.app.deps.connections.updateState('Orphan', (current) => ({ ...current.state, activeRunId: '20260101T000000000Z-cccccc', activeRunSince: since }));
    await runTimerTick(t.app.deps);
    expect((await t.app.deps.connections.get('Orphan'))?.state.activeRunId).toBeUndefined();
  });
});
