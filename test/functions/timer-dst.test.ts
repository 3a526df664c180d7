import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalHost } from '../../shared/host/local-host.js';
import { awaitRunEnd, createTestApp, csvProfile, putProfile, uploadCsv, type TestApp } from '../support/test-app.js';

/**
 * The daily hour across daylight-saving changes, through the registered timer function on the local host:
 * the app's clock walks two days in 15-minute ticks, the host fires the timer at each, and every run it
 * starts is worked to its end by the host's queue workers before the next tick.
 */
describe('a daily schedule in a time zone, across DST changes, through the local host timer', () => {
  let t: TestApp;
  let host: LocalHost;

  beforeAll(async () => {
    t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Dst-Initial-1' });
    host = new LocalHost(t.definitions, { connectionString: t.env.AzureWebJobsStorage!, pollIntervalMs: 10, queues: { maxPollingIntervalMs: 50 }, log: () => undefined });
    await host.start();
    await uploadCsv(t, 'dst.csv', 'username,email,firstName,lastName\ndora,dora@example.org,Dora,Dst\n');
  });
  afterAll(() => host.stop());

  it.each<[string, string, number, string, string, string[]]>([
    // Spring forward: 01:00 London does not exist on 29 March; the run comes at 02:00 BST (01:00 UTC).
    ['Spring', 'Europe/London', 1, '2026-03-28T12:00:00Z', '2026-03-28T01:00:00Z', ['2026-03-29T01:00:00.000Z', '2026-03-30T00:00:00.000Z']],
    // Fall back: 01:00 London happens twice on 25 October (00:00 and 01:00 UTC); it runs once, at the second.
    ['Autumn', 'Europe/London', 1, '2026-10-24T12:00:00Z', '2026-10-24T00:00:00Z', ['2026-10-25T01:00:00.000Z', '2026-10-26T01:00:00.000Z']],
    ['NewYork', 'America/New_York', 3, '2026-03-07T12:00:00Z', '2026-03-07T08:00:00Z', ['2026-03-08T07:00:00.000Z', '2026-03-09T07:00:00.000Z']],
  ])('%s: %s at %i:00 runs once a day at the right instant', async (name, timeZone, hour, from, lastRun, expected) => {
    await putProfile(t, csvProfile(name, 'dst.csv', { schedule: { kind: 'daily', hour, timeZone } }));
    await t.app.deps.connections.updateState(name, (current) => ({ ...current.state, lastRunStartedAt: lastRun }));
    let now = Date.parse(from);
    t.app.deps.clock = () => new Date(now);
    for (const end = now + 48 * 3_600_000; now < end; now += 15 * 60_000) {
      await host.fireTimer('timerTick');
      const active = (await t.app.deps.connections.get(name))?.state.activeRunId;
      if (active) await awaitRunEnd(t, active);
    }
    const runs = await t.app.deps.runs.list({ connection: name, limit: 10 });
    expect(runs.map((run) => run.startedAt).sort()).toEqual(expected);
    expect(runs.map((run) => run.state)).toEqual(['succeeded', 'succeeded']);
    expect(runs.every((run) => run.trigger === 'schedule')).toBe(true);
    // 192 ticks, each a timer run on the local host and, twice, a run: ~5 s alone.
  }, 120_000);
});
