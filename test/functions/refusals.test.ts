import azureFunctions from '@azure/functions';
import { QueueServiceClient } from '@azure/storage-queue';
import { afterEach, describe, expect, it } from 'vitest';
import { isQueueFunction, type QueueFunction } from '../../shared/app/registry.js';
import { LocalHost } from '../../shared/host/local-host.js';
import { LOCAL_DIRECTORY } from '../../shared/sync/model.js';
import { runTimerTick } from '../../shared/sync/pipeline/timer-tick.js';
import { startRun } from '../../shared/sync/pipeline/start-run.js';
import { scriptFetch } from '../support/api-host.js';
import { cliOn } from '../support/cli.js';
import { auditOf, awaitRunEnd, createTestApp, csvProfile, putProfile, syncNow, uploadCsv, usersOf, type TestApp } from '../support/test-app.js';
import { waitUntil } from '../support/wait.js';

/**
 * Requests the app refuses: each reaches its error code through the surface an admin uses (HTTP, the
 * CLI, a run's error, the function logs) and changes nothing.
 */

const FILE = 'username,email,firstName,lastName\nrae,rae@example.org,Rae,Refused\nroy,roy@example.org,Roy,Refused\n';

let host: LocalHost | undefined;
afterEach(async () => {
  await host?.stop();
  host = undefined;
});

async function startHost(t: TestApp, log: (line: string) => void = () => undefined): Promise<LocalHost> {
  host = new LocalHost(t.definitions, {
    connectionString: t.env.AzureWebJobsStorage!,
    httpPort: 0,
    pollIntervalMs: 20,
    queues: { maxPollingIntervalMs: 100, visibilityTimeoutMs: 0 },
    log,
  });
  await host.start();
  return host;
}

/** No run was started for the connection (none recorded, the slot free) and no audit record written. */
async function expectNoRun(t: TestApp, connection: string, runsBefore: string[] = []): Promise<void> {
  expect((await t.app.deps.runs.list({ connection, limit: 50 })).map((run) => run.runId)).toEqual(runsBefore);
  expect((await t.app.deps.connections.get(connection))?.state.activeRunId).toBeUndefined();
  expect((await t.app.deps.audit.query({ connection, limit: 100 })).records.filter((record) => !runsBefore.includes(record.runId))).toEqual([]);
}

describe('connection-disabled', () => {
  it('a sync of a disabled profile is refused with 409 and starts nothing; a dry run is allowed', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Refused-Initial-1' });
    await putProfile(t, csvProfile('Off', 'off.csv', { enabled: false }));
    await uploadCsv(t, 'off.csv', FILE);
    const { httpUrl } = await startHost(t);

    const refused = await scriptFetch(`${httpUrl}/api/connections/Off/sync`, { method: 'POST' });
    expect(refused.status).toBe(409);
    expect(refused.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await refused.json()).toMatchObject({ code: 'connection-disabled', detail: expect.stringMatching(/"Off" is disabled; enable it to sync/) });
    await expectNoRun(t, 'Off');
    expect((await usersOf(t, 'Off')).size).toBe(0);

    const dry = await scriptFetch(`${httpUrl}/api/connections/Off/sync?dryRun=true`, { method: 'POST' });
    expect(dry.status).toBe(202);
    const run = await awaitRunEnd(t, ((await dry.json()) as { runId: string }).runId);
    expect(run).toMatchObject({ state: 'succeeded', dryRun: true, counts: { created: 2 } });
    expect((await usersOf(t, 'Off')).size).toBe(0);
  });
});

describe('secret-missing', () => {
  it('a sync whose profile names an app setting that is not set is refused with 422 naming the setting; the timer starts nothing either', async () => {
    const t = await createTestApp();
    await putProfile(t, csvProfile('NoSecret', 'no-secret.csv', { defaultPasswordSecret: 'UNSET_DEFAULT_PASSWORD', schedule: { kind: 'hourly' } }));
    await uploadCsv(t, 'no-secret.csv', FILE);
    const { httpUrl } = await startHost(t);

    const refused = await scriptFetch(`${httpUrl}/api/connections/NoSecret/sync`, { method: 'POST' });
    expect(refused.status).toBe(422);
    expect(await refused.json()).toMatchObject({ code: 'secret-missing', secret: 'UNSET_DEFAULT_PASSWORD', detail: expect.stringContaining('"UNSET_DEFAULT_PASSWORD"') });

    // The profile is due (hourly, never run): the timer tries, logs why, and starts nothing.
    const logged: string[] = [];
    const tick = await runTimerTick({ ...t.app.deps, log: (line) => logged.push(line) });
    expect(tick.started).toEqual([]);
    expect(logged).toContainEqual(expect.stringMatching(/NoSecret not started: secret-missing: .*"UNSET_DEFAULT_PASSWORD"/));
    await expectNoRun(t, 'NoSecret');
    expect((await usersOf(t, 'NoSecret')).size).toBe(0);
  });
});

describe('account-invalid', () => {
  it('usersync user add with an invalid email and an empty first name names both problems and creates nothing', async () => {
    const t = await createTestApp();
    const { code, out, err } = await cliOn(t, 'user', 'add', 'ivan.invalid', '--email', 'not-an-email', '--first-name', ' ', '--last-name', 'Invalid');
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join('\n')).toMatch(/\[account-invalid\]/);
    expect(err.join('\n')).toMatch(/email: a valid email address is required/);
    expect(err.join('\n')).toMatch(/firstName: a first name is required/);
    expect(await t.app.deps.users.get(LOCAL_DIRECTORY, 'ivan.invalid')).toBeUndefined();
    expect(await t.app.deps.usernames.find('ivan.invalid')).toBeUndefined();
    expect(await t.app.deps.licences.used()).toBe(0);
  });
});

describe('sync --from-run refusals (roll-back to an earlier run’s input)', () => {
  /** A CSV profile synced once (two users), and a second profile with a run of its own. */
  async function prepare(): Promise<{ t: TestApp; first: string; other: string }> {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Refused-Initial-1' });
    await putProfile(t, csvProfile('Roll', 'roll.csv'));
    await uploadCsv(t, 'roll.csv', FILE);
    const first = (await syncNow(t, 'Roll')).runId;
    await putProfile(t, csvProfile('Other', 'other.csv'));
    await uploadCsv(t, 'other.csv', FILE);
    const other = (await syncNow(t, 'Other')).runId;
    return { t, first, other };
  }

  it('refuses a run that does not exist, one of another connection, and one whose input was not kept', async () => {
    const { t, first, other } = await prepare();
    const users = await usersOf(t, 'Roll');
    const refusals: [string, RegExp][] = [
      ['20200101T000000000Z-abcdef', /Run 20200101T000000000Z-abcdef is not a run of "Roll"/],
      [other, new RegExp(`Run ${other} is not a run of "Roll"`)],
    ];
    for (const [runId, message] of refusals) {
      const { code, err } = await cliOn(t, 'sync', 'Roll', '--from-run', runId);
      expect([code, err.join('\n')]).toEqual([2, expect.stringMatching(/\[run-not-found\]/)]);
      expect(err.join('\n')).toMatch(message);
    }
    // The first run's files are gone (removed by hand), its archived input with them.
    await t.app.deps.runFiles.deletePrefix(`${first}/`);
    const gone = await cliOn(t, 'sync', 'Roll', '--from-run', first);
    expect([gone.code, gone.err.join('\n')]).toEqual([2, expect.stringMatching(new RegExp(`\\[run-not-found\\]: Run ${first} kept no archived input`))]);

    await expectNoRun(t, 'Roll', [first]);
    expect(await usersOf(t, 'Roll')).toEqual(users);
  });

  it('refuses the run of a profile that archives no input (an Entra run)', async () => {
    const t = await createTestApp({ ENTRA_SECRET: 'entra-secret-value' });
    await putProfile(t, {
      name: 'Tenant',
      type: 'entra',
      schedule: { kind: 'off' },
      tenantId: '00000000-0000-0000-0000-00000000000a',
      clientId: '00000000-0000-0000-0000-00000000000b',
      credential: { kind: 'secret', secretName: 'ENTRA_SECRET' },
      selectedGroups: ['all'],
    });
    // A run of that profile, as the sync leaves one behind (its row only: Entra runs archive nothing).
    const run = await startRun(t.app.deps, { connection: 'Tenant', trigger: 'manual', startedBy: 'cli:tester', dryRun: true });
    await t.app.deps.runs.update(run.runId, (current) => ({ ...current, state: 'succeeded', endedAt: current.startedAt }));
    await t.app.deps.connections.updateState('Tenant', ({ state: { activeRunId: _active, activeRunSince: _since, ...state } }) => state);

    const { code, err } = await cliOn(t, 'sync', 'Tenant', '--from-run', run.runId);
    expect([code, err.join('\n')]).toEqual([2, expect.stringMatching(new RegExp(`\\[run-not-found\\]: Run ${run.runId} kept no archived input`))]);
    expect((await t.app.deps.runs.list({ connection: 'Tenant', limit: 10 })).map((r) => r.runId)).toEqual([run.runId]);
  });

  it('an archive that disappears after the run started fails the run, changing and disabling no one', async () => {
    const { t, first } = await prepare();
    const users = await usersOf(t, 'Roll');
    const started = await startRun(t.app.deps, { connection: 'Roll', trigger: 'manual', startedBy: 'cli:tester', fromRunId: first });
    await t.app.deps.runFiles.deletePrefix(`${first}/`);
    await startHost(t);
    const run = await awaitRunEnd(t, started.runId);
    expect(run).toMatchObject({ state: 'failed', listing: 'failed', error: { code: 'run-not-found' }, counts: { disabled: 0, created: 0, updated: 0 } });
    expect(run.error?.message).toMatch(new RegExp(`Run ${first} kept no archived input`));
    expect(await usersOf(t, 'Roll')).toEqual(users);
    expect((await auditOf(t, run.runId)).map((record) => record.action).sort()).toEqual(['run-failed', 'run-started']);
  });
});

describe('message-invalid', () => {
  const context = (functionName: string) => new azureFunctions.InvocationContext({ functionName, invocationId: 'test', triggerMetadata: { dequeueCount: 1 } });

  it('each job trigger refuses a malformed message with message-invalid', async () => {
    const t = await createTestApp();
    const queueFunctions = t.definitions.filter(isQueueFunction);
    const malformed: Record<string, unknown[]> = {
      pageJob: [{ runId: '20261121T100000000Z-abcdef' }, 'not json', { runId: 'not-a-run-id', page: 0 }],
      reconcileJob: [{ runId: '20261121T100000000Z-abcdef', shard: 256 }, { runId: '20261121T100000000Z-abcdef', shard: -1 }],
      finaliseJob: [{}, 42],
    };
    for (const [name, messages] of Object.entries(malformed)) {
      const { handler } = queueFunctions.find((definition) => definition.name === name) as QueueFunction;
      for (const message of messages) {
        await expect(handler(message, context(name)), `${name} ${JSON.stringify(message)}`).rejects.toMatchObject({ code: 'message-invalid', message: expect.stringMatching(/^Malformed job message: /) });
      }
    }
  });

  it('a malformed page message is retried, then parked in the poison queues; nothing changes', async () => {
    const t = await createTestApp();
    const logs: string[] = [];
    const poisoned = `${t.app.config.names.pagesQueue}-poison-poison`;
    await startHost(t, (line) => logs.push(line));
    const queues = QueueServiceClient.fromConnectionString(t.env.AzureWebJobsStorage!);
    await queues.getQueueClient(t.app.config.names.pagesQueue).sendMessage(Buffer.from(JSON.stringify({ runId: 'not-a-run-id', page: 0 })).toString('base64'));

    // Its poison trigger cannot tell whose run it was either: after its own retries it moves it on, for an admin to inspect.
    await waitUntil(() => logs.some((line) => line.includes(`moved to ${poisoned}`)), 'the malformed message to reach the last poison queue');
    expect(logs.filter((line) => /^pageJob failed .*Malformed job message: runId: a run id/.test(line))).toHaveLength(host!.queueSettings.maxDequeueCount);
    const parked = await queues.getQueueClient(poisoned).peekMessages();
    expect(parked.peekedMessageItems).toHaveLength(1);
    expect(await t.app.deps.runs.list({ limit: 10 })).toEqual([]);
    expect((await t.app.deps.audit.query({ limit: 10 })).records).toEqual([]);
  });
});
