import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost } from '../../shared/host/local-host.js';
import { scriptFetch } from '../support/api-host.js';
import { awaitRunEnd, createTestApp, csvProfile, putProfile, uploadCsv, type TestApp } from '../support/test-app.js';

const FILE = 'username,email,firstName,lastName\nhal,hal@example.org,Hal,Http\nhope,hope@example.org,Hope,Http\n';

describe('the registered functions on the local host: HTTP API and timer', () => {
  let t: TestApp;
  let host: LocalHost;
  const api = (path: string, init?: RequestInit) => scriptFetch(`${host.httpUrl}/api/${path}`, init);
  beforeAll(async () => {
    t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Http-Initial-1' });
    host = new LocalHost(t.definitions, {
      connectionString: t.env.AzureWebJobsStorage!,
      httpPort: 0,
      pollIntervalMs: 20,
      queues: { maxPollingIntervalMs: 100, visibilityTimeoutMs: 200 },
      log: () => undefined,
    });
    await host.start();
    await putProfile(t, csvProfile('Web', 'web.csv'));
    await uploadCsv(t, 'web.csv', FILE);
  });
  afterAll(() => host.stop());

  it('starts a manual sync with 202 and a Location, refuses a second with 409 naming the active run', async () => {
    const started = await api('connections/Web/sync', { method: 'POST' });
    expect(started.status).toBe(202);
    const body = (await started.json()) as { runId: string };
    expect(started.headers.get('location')).toBe(`/api/runs/${body.runId}`);

    const second = await api('connections/Web/sync', { method: 'POST' });
    expect(second.status).toBe(409);
    expect(second.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await second.json()).toMatchObject({ code: 'run-active', runId: body.runId, status: 409 });

    await awaitRunEnd(t, body.runId);
    expect(await (await api(`runs/${body.runId}`)).json()).toMatchObject({ state: 'succeeded', counts: { created: 2 } });
    const list = (await (await api('runs?connection=Web')).json()) as { runId: string }[];
    expect(list.map((r) => r.runId)).toContain(body.runId);
  });

  it('answers unknown routes, wrong methods and unknown names with problem+json', async () => {
    const missing = await api('nothing/here');
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'not-found' });
    const wrongMethod = await api('connections/Web/sync', { method: 'GET' });
    expect(wrongMethod.status).toBe(405);
    expect(await wrongMethod.json()).toMatchObject({ code: 'method-not-allowed' });
    const unknown = await api('connections/Nobody/sync', { method: 'POST' });
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'connection-not-found' });
  });

  it('reset, then one timer tick, starts exactly one run; a second tick while it runs starts none', async () => {
    const before = (await t.app.deps.runs.list({ connection: 'Web', limit: 100 })).length;
    const reset = await api('connections/Web/reset', { method: 'POST' });
    expect(reset.status).toBe(202);
    await host.fireTimer('timerTick');
    await host.fireTimer('timerTick');
    const runs = await t.app.deps.runs.list({ connection: 'Web', limit: 100 });
    expect(runs.length).toBe(before + 1);
    expect(runs[0]).toMatchObject({ trigger: 'schedule' });
    await awaitRunEnd(t, runs[0]!.runId);
    // Done, and not due again: its schedule is off and the reset was consumed.
    await host.fireTimer('timerTick');
    expect((await t.app.deps.runs.list({ connection: 'Web', limit: 100 })).length).toBe(before + 1);
    expect((await t.app.deps.connections.get('Web'))?.state.resetRequestedAt).toBeUndefined();
  });

  it('the timer starts an interval profile that has never run, and leaves a disabled one alone', async () => {
    await putProfile(t, csvProfile('Every5', 'web.csv', { schedule: { kind: 'interval', minutes: 5 } }));
    await putProfile(t, csvProfile('Off', 'web.csv', { enabled: false, schedule: { kind: 'interval', minutes: 5 } }));
    await host.fireTimer('timerTick');
    expect(await t.app.deps.runs.list({ connection: 'Every5', limit: 10 })).toHaveLength(1);
    expect(await t.app.deps.runs.list({ connection: 'Off', limit: 10 })).toHaveLength(0);
  });
});

describe('daily schedule: a manual sync replaces the next daily run, and the run list says so', () => {
  it('lists the skipped slot once and starts no run', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Skip-Initial-1' });
    const host = new LocalHost(t.definitions, { connectionString: t.env.AzureWebJobsStorage!, pollIntervalMs: 20, queues: { maxPollingIntervalMs: 100 }, log: () => undefined });
    await host.start();
    try {
      // A daily slot one hour ago, and a manual sync three hours before it.
      const now = new Date();
      const hour = new Date(now.getTime() - 3_600_000).getUTCHours();
      await putProfile(t, csvProfile('Daily', 'web.csv', { schedule: { kind: 'daily', hour, timeZone: 'UTC' } }));
      const manual = new Date(now.getTime() - 4 * 3_600_000).toISOString();
      await t.app.deps.connections.updateState('Daily', (current) => ({ ...current.state, lastRunStartedAt: manual, lastManualRunAt: manual }));
      await host.fireTimer('timerTick');
      await host.fireTimer('timerTick');
      const runs = await t.app.deps.runs.list({ connection: 'Daily', limit: 10 });
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ state: 'skipped', trigger: 'schedule' });
      expect(runs[0]!.warnings[0]).toMatch(/daily run of .* was skipped: a manual sync ran at .*within the 24 hours before it/);
    } finally {
      await host.stop();
    }
  });
});
