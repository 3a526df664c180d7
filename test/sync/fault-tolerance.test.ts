import { afterEach, describe, expect, it } from 'vitest';
import type { FunctionDefinition, QueueFunction } from '../../shared/app/registry.js';
import { LocalHost } from '../../shared/host/local-host.js';
import { shardOf } from '../../shared/sync/rules/partitioning.js';
import type { Run } from '../../shared/sync/run-model.js';
import { startRun } from '../../shared/sync/pipeline/start-run.js';
import { runTimerTick, STALLED_AFTER_MS } from '../../shared/sync/pipeline/timer-tick.js';
import { auditOf, awaitRunEnd, createTestApp, csvProfile, putProfile, syncNow, uploadCsv, usersOf, type TestApp } from '../support/test-app.js';

const HEADER = 'username,email,firstName,lastName';
const csv = (names: string[], lastName = 'Fault') => [HEADER, ...names.map((n) => `${n},${n}@example.org,${n},${lastName}`)].join('\n') + '\n';
const names = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

/** A local host whose failed messages come back at once, so five deliveries take moments. */
function quickHost(t: TestApp, definitions: FunctionDefinition[] = t.definitions): LocalHost {
  return new LocalHost(definitions, {
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
    const run = await awaitRunEnd(t, (await startRun(t.app.deps, { connection: 'PoisonPage', trigger: 'manual', startedBy: 'cli:tester' })).runId);

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
    const run = await awaitRunEnd(t, (await startRun(t.app.deps, { connection: 'PoisonFinalise', trigger: 'manual', startedBy: 'cli:tester' })).runId);

    expect(run).toMatchObject({ state: 'failed', error: { code: 'poison-message' } });
    expect(run.error?.message).toMatch(/Finalising the run failed 5 times/);
    expect((await usersOf(t, 'PoisonFinalise')).size).toBe(5);
    expect((await auditOf(t, run.runId)).find((r) => r.action === 'run-failed')).toMatchObject({ reason: 'poison-message' });
    const { state } = (await t.app.deps.connections.get('PoisonFinalise'))!;
    expect(state.activeRunId).toBeUndefined();
    expect(state.lastRunStatus).toBe('failed');
  });
});

describe('a shard whose reconcile job fails on every delivery: the run fails, the other shards land, no one is disabled', () => {
  let host: LocalHost | undefined;
  afterEach(async () => {
    await host?.stop();
    host = undefined;
  });

  /**
   * A directory of 12 users synced once; the next export drops one (who would be disabled), adds one and
   * renames everyone else. One shard then cannot be reconciled; the leaver and the newcomer are in others.
   */
  async function prepare(connection: string) {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Poison-Initial-1' });
    await putProfile(t, csvProfile(connection, `${connection}.csv`));
    const everyone = names('ps', 12);
    await uploadCsv(t, `${connection}.csv`, csv(everyone));
    expect(await syncNow(t, connection)).toMatchObject({ state: 'succeeded', counts: { created: 12 } });
    const poisoned = shardOf(everyone[0]!);
    const leaver = everyone.find((name) => shardOf(name) !== poisoned)!;
    const joiner = names('pj', 50).find((name) => shardOf(name) !== poisoned)!;
    const stayers = everyone.filter((name) => name !== leaver);
    await uploadCsv(t, `${connection}.csv`, csv([...stayers, joiner], 'Renamed'));
    return { t, poisoned, leaver, joiner, stayers };
  }

  async function expectFailedShardDisabledNoOne(scenario: Awaited<ReturnType<typeof prepare>>, connection: string, run: Run): Promise<void> {
    const { t, poisoned, leaver, joiner, stayers } = scenario;
    const healthy = stayers.filter((name) => shardOf(name) !== poisoned);
    expect(run).toMatchObject({ state: 'failed', listing: 'complete', counts: { created: 1, updated: healthy.length, disabled: 0 } });
    expect(run.warnings.join(' ')).toMatch(/could not be reconciled, so no one was disabled/);
    const shards = await t.app.deps.runs.listShardResults(run.runId);
    expect(shards).toHaveLength(16);
    expect(shards.filter((shard) => shard.error).map((shard) => shard.shard)).toEqual([poisoned]);
    const users = await usersOf(t, connection);
    expect(users.get(leaver)?.status).toBe('active');
    expect(users.get(joiner)?.status).toBe('active');
    // The other shards' changes landed; the failed shard's users are as they were.
    for (const name of stayers) expect([name, users.get(name)?.lastName]).toEqual([name, shardOf(name) === poisoned ? 'Fault' : 'Renamed']);
    const audit = await auditOf(t, run.runId);
    expect(audit.filter((record) => record.action === 'disabled')).toEqual([]);
    expect(audit.find((record) => record.action === 'run-failed')).toMatchObject({ reason: run.error?.code });
    const { state } = (await t.app.deps.connections.get(connection))!;
    expect(state).toMatchObject({ lastRunId: run.runId, lastRunStatus: 'failed' });
    expect(state.activeRunId).toBeUndefined();
  }

  it('its job records the failure on its last delivery', async () => {
    const scenario = await prepare('FailingShard');
    const { t, poisoned } = scenario;
    // The shard's plan can never be stored: each of its deliveries fails, and the queue delivers it again.
    const putIfAbsent = t.app.deps.runFiles.putIfAbsent.bind(t.app.deps.runFiles);
    let attempts = 0;
    t.app.deps.runFiles.putIfAbsent = async (path, content) => {
      if (path.endsWith(`/plans/shard-${String(poisoned).padStart(2, '0')}.json`)) {
        attempts++;
        throw new Error(`simulated failure storing the plan of shard ${poisoned}`);
      }
      return putIfAbsent(path, content);
    };
    host = quickHost(t);
    await host.start();
    const run = await awaitRunEnd(t, (await startRun(t.app.deps, { connection: 'FailingShard', trigger: 'manual', startedBy: 'cli:tester' })).runId);

    expect(attempts).toBe(host.queueSettings.maxDequeueCount);
    expect(host.invocations.poisoned).toBe(0);
    expect(run.error).toEqual({ code: 'internal-error', message: `simulated failure storing the plan of shard ${poisoned}` });
    await expectFailedShardDisabledNoOne(scenario, 'FailingShard', run);
  });

  it('its worker crashes before it can record anything: the poison trigger records the shard as failed', async () => {
    const scenario = await prepare('PoisonShard');
    const { t, poisoned } = scenario;
    // As a worker that dies (out of memory, the function timeout) on that shard every time.
    const crashes: unknown[] = [];
    const definitions = t.definitions.map((definition): FunctionDefinition => {
      if (definition.name !== 'reconcileJob') return definition;
      const reconcile = definition as QueueFunction;
      const crashing: QueueFunction = {
        ...reconcile,
        handler: async (message, context) => {
          if ((message as { shard?: unknown }).shard !== poisoned) return reconcile.handler(message, context);
          crashes.push(context.triggerMetadata?.dequeueCount);
          throw new Error(`simulated crash reconciling shard ${poisoned}`);
        },
      };
      return crashing;
    });
    host = quickHost(t, definitions);
    await host.start();
    const run = await awaitRunEnd(t, (await startRun(t.app.deps, { connection: 'PoisonShard', trigger: 'manual', startedBy: 'cli:tester' })).runId);

    expect(crashes).toEqual(Array.from({ length: host.queueSettings.maxDequeueCount }, (_, i) => i + 1));
    expect(host.invocations.poisoned).toBe(1);
    expect(run.error).toMatchObject({ code: 'poison-message' });
    expect(run.error?.message).toMatch(new RegExp(`Reconciling shard ${poisoned} failed ${host.queueSettings.maxDequeueCount} times and was moved to the poison queue`));
    await expectFailedShardDisabledNoOne(scenario, 'PoisonShard', run);
  });
});

describe('the stalled-run watchdog', () => {
  it('fails a run whose messages were lost once it made no progress for an hour, and the profile syncs again', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Stall-Initial-1' });
    await putProfile(t, csvProfile('Stalled', 'stalled.csv', { schedule: { kind: 'interval', minutes: 15 } }));
    await uploadCsv(t, 'stalled.csv', csv(names('st', 3)));
    // No worker ever takes the first page job: as if its message was lost.
    const lost = await startRun(t.app.deps, { connection: 'Stalled', trigger: 'manual', startedBy: 'cli:tester' });
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
