import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTimerTick } from '../../../shared/sync/pipeline/timer-tick.js';
import { cliOn } from '../../support/cli.js';
import { startApiHost, type ApiHost } from '../../support/api-host.js';
import { createTestApp, csvProfile, putProfile, uploadCsv } from '../../support/test-app.js';

/** A `scim` connection is pushed to: a run of it is refused before it claims a slot, and the timer never starts one. */
describe('a scim connection has nothing to run', () => {
  let host: ApiHost;
  beforeAll(async () => {
    host = await startApiHost({ PUSH_TOKEN: 'token-value-never-shown' });
    await putProfile(host.t, { name: 'Pushed', type: 'scim', tokenSecret: 'PUSH_TOKEN' });
    await putProfile(host.t, { name: 'NoToken', type: 'scim', tokenSecret: 'MISSING_TOKEN' });
  });
  afterAll(() => host.stop());

  it('usersync sync is refused with push-only, claiming no slot', async () => {
    const outcome = await cliOn(host.t, 'sync', 'Pushed');
    expect(outcome.code).not.toBe(0);
    expect(outcome.err.join('\n')).toMatch(/^error \[push-only\]: "Pushed" receives its users over SCIM: it has nothing to read\./);
    const stored = await host.t.app.deps.connections.get('Pushed');
    expect(stored?.state.activeRunId).toBeUndefined();
    expect(stored?.state.lastRunStartedAt).toBeUndefined();
    expect(await host.t.app.deps.runs.list({ connection: 'Pushed', limit: 5 })).toEqual([]);
  });

  it('POST /api/connections/{name}/sync answers 409 push-only as problem+json', async () => {
    const response = await host.api('connections/Pushed/sync', { method: 'POST' });
    expect(response.status).toBe(409);
    expect(response.headers.get('content-type')).toContain('application/problem+json');
    expect(await response.json()).toMatchObject({ code: 'push-only' });
    expect((await host.t.app.deps.connections.get('Pushed'))?.state.activeRunId).toBeUndefined();
  });

  it('the timer starts the due pull connection and skips the scim one', async () => {
    // Its own app: the host above runs its own timer.
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Timer-Initial-Pa55', PUSH_TOKEN: 'x' });
    await putProfile(t, { name: 'Pushed', type: 'scim', tokenSecret: 'PUSH_TOKEN' });
    await putProfile(t, csvProfile('Pulled', 'pulled.csv', { schedule: { kind: 'hourly' } }));
    await uploadCsv(t, 'pulled.csv', 'username,email,firstName,lastName\nann,ann@example.org,Ann,Pull\n');
    const logged: string[] = [];
    t.app.deps.log = (line) => logged.push(line);
    const { started } = await runTimerTick(t.app.deps);
    expect(logged.filter((line) => line.includes('Pushed'))).toEqual([]);
    const runs = await Promise.all(started.map((runId) => t.app.deps.runs.get(runId)));
    expect(runs.map((run) => run?.connection)).toEqual(['Pulled']);
    expect((await t.app.deps.connections.get('Pushed'))?.state).toEqual({});
  });

  it('connection list shows it as pushed, with no next run', async () => {
    const listed = await cliOn(host.t, 'connection', 'list');
    expect(listed.code).toBe(0);
    expect(listed.out.find((line) => line.startsWith('Pushed '))).toMatch(/^Pushed +scim +yes +pushed \(SCIM\) +- +- +- +-$/);
  });

  it('connection test says where the endpoint is, and whether the token setting is there (never the token)', async () => {
    const ok = await cliOn(host.t, 'connection', 'test', 'Pushed');
    expect(ok.code).toBe(0);
    expect(ok.out[0]).toMatch(/^OK: "Pushed" receives its users over SCIM at \/scim\/v2\/Pushed .*app setting is set\.$/);
    expect(ok.out.join('\n')).not.toContain('token-value-never-shown');
    const missing = await cliOn(host.t, 'connection', 'test', 'NoToken');
    expect(missing.code).toBe(1);
    expect(missing.out[0]).toMatch(/^FAILED \[secret-missing\]: .*MISSING_TOKEN/);
  });
});
