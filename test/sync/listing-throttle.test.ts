import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { runView } from '../../shared/admin/runs.js';
import type { ConnectionProfileInput } from '../../shared/connections/profile.js';
import { progressLine } from '../../shared/cli/run-commands.js';
import { handleApi } from '../../shared/http/api.js';
import { LOCAL_ADMIN } from '../../shared/http/caller.js';
import type { SyncDependencies } from '../../shared/sync/dependencies.js';
import { startRun } from '../../shared/sync/pipeline/start-run.js';
import type { JobQueue, JobQueueName, SendOptions } from '../../shared/sync/ports.js';
import type { Run } from '../../shared/sync/run-model.js';
import { startGraphServer, type FakeTenant, type GraphServer } from '../fakes/graph-server.js';
import { startOktaServer, type OktaServer, type OktaThrottleOptions } from '../fakes/okta-server.js';
import { handle, outcomeOf, type Outcome, type QueuedJob } from '../support/step-driver.js';
import { auditOf, createTestApp, putProfile, fakeEntraProfile, SMALL_DIRECTORY_GUARD, type TestApp } from '../support/test-app.js';

/**
 * Issue 16: a directory's throttling slows the whole run, not the one chain that was told. The run is driven
 * message by message on a virtual clock: a message sent with a delay is delivered once the clock reaches it
 * (the clock then jumps there), so a Retry-After of 30 s costs the test nothing, and every request the fake
 * receives is stamped with the virtual time of the delivery that made it.
 */

const START = Date.parse('2026-11-21T10:00:00.000Z');

interface Sent extends QueuedJob {
  delaySeconds?: number;
  visibleAt: number;
}

class VirtualQueue implements JobQueue {
  now = START;
  readonly pending: Sent[] = [];
  readonly sent: Sent[] = [];

  async send(queue: JobQueueName, message: unknown, options: SendOptions = {}): Promise<void> {
    const job: Sent = { queue, message: structuredClone(message), visibleAt: this.now + (options.delaySeconds ?? 0) * 1000, ...(options.delaySeconds === undefined ? {} : { delaySeconds: options.delaySeconds }) };
    this.pending.push(job);
    this.sent.push(job);
  }
}

interface Driven {
  deps: SyncDependencies;
  queue: VirtualQueue;
  /** Deliveries that threw (and were delivered again, as the host would). */
  throws: unknown[];
  /** The virtual time of each request the fake received since the run started, in the fake's order. */
  requestTimes: number[];
}

function virtual(t: TestApp): Driven {
  const queue = new VirtualQueue();
  const deps: SyncDependencies = { ...t.app.deps, queue, clock: () => new Date(queue.now), log: () => undefined, runFinished: () => undefined };
  return { deps, queue, throws: [], requestTimes: [] };
}

/** Delivers the earliest visible message (first sent first) until none is left; `requests()` is the fake's request count. */
async function drive(driven: Driven, requests: () => number, afterDelivery?: (job: Sent) => Promise<void>): Promise<void> {
  const { queue } = driven;
  for (let step = 0; queue.pending.length > 0; step++) {
    if (step > 2000) throw new Error('the run does not converge');
    const at = queue.pending.reduce((best, job, index) => (job.visibleAt < queue.pending[best]!.visibleAt ? index : best), 0);
    const [job] = queue.pending.splice(at, 1);
    queue.now = Math.max(queue.now, job!.visibleAt);
    const before = requests();
    for (let attempt = 1; ; attempt++) {
      try {
        await handle(driven.deps, job!, attempt);
        break;
      } catch (error) {
        driven.throws.push(error);
        if (attempt >= 5) throw error;
      }
    }
    for (let request = before; request < requests(); request++) driven.requestTimes.push(queue.now);
    await afterDelivery?.(job!);
  }
}

const chainOf = (job: QueuedJob) => (job.message as { chain?: string }).chain;

describe('throttling of one chain slows every chain of the run (Microsoft Graph)', () => {
  let server: GraphServer;
  let tenant: FakeTenant;
  const SECRET = 'throttle-secret-value';
  beforeAll(async () => {
    server = await startGraphServer({ cert: inject('tlsCert'), key: inject('tlsKey') });
    tenant = server.addTenant(randomUUID(), { clientId: randomUUID(), clientSecret: SECRET });
    const ids = Array.from({ length: 10 }, (_, i) => `p${i}`);
    for (const id of ids) tenant.addUser({ id, userPrincipalName: `${id}@contoso.com`, mail: `${id}@contoso.com`, givenName: id, surname: 'Slow', department: 'Sales' });
    for (const id of ids.slice(1)) tenant.updateUser(id, { managerId: 'p0' });
    tenant.addGroup({ id: 'all', displayName: 'Intranet-All', members: ids });
    for (let g = 0; g < 4; g++) tenant.addGroup({ id: `team${g}`, displayName: `Intranet-Team${g}`, members: ids.filter((_, i) => i % 4 === g) });
  });
  afterAll(() => server.close());
  afterEach(() => server.heal());

  async function appWith(): Promise<TestApp> {
    const t = await createTestApp({ THROTTLE_SECRET: SECRET, USERSYNC_PAGE_SIZE: '2' });
    await putProfile(
      t,
      fakeEntraProfile('Throttled', { ...tenant, graphUrl: server.url, secretName: 'THROTTLE_SECRET' }, {
        attributeMap: { department: 'department' },
        groups: { mode: 'regex', pattern: '^Intranet-', keepLocalGroups: false },
        listingConcurrency: 4,
      }),
    );
    return t;
  }

  /** How many Graph requests (not the sign-in's) the fake has received. */
  const graphRequests = () => server.requests.filter((request) => request.path.startsWith('/v1.0/')).length;

  /** The run after each delivery, and how GET /runs/{id} answered after the first. */
  async function syncThrottled(arm: (driven: Driven) => void): Promise<{ t: TestApp; driven: Driven; run: Run; seen: Run[]; firstAnswer: unknown }> {
    const t = await appWith();
    const driven = virtual(t);
    const started = await startRun(driven.deps, { connection: 'Throttled', trigger: 'manual', startedBy: 'cli:tester' });
    // The first managers chain is delivered first, and its first request is the one throttled.
    driven.queue.pending.sort((a, b) => Number(chainOf(b) === 'managers-0') - Number(chainOf(a) === 'managers-0'));
    arm(driven);
    const seen: Run[] = [];
    let firstAnswer: unknown;
    const before = graphRequests();
    await drive(driven, () => graphRequests() - before, async () => {
      seen.push((await driven.deps.runs.get(started.runId))!);
      firstAnswer ??= await handleApi({ ...t.app, deps: driven.deps }, { method: 'GET', path: `runs/${started.runId}`, query: new URLSearchParams() }, LOCAL_ADMIN);
    });
    return { t, driven, run: (await driven.deps.runs.get(started.runId))!, seen, firstAnswer };
  }

  /** What must not depend on throttling: the run's bookkeeping of pages and throttles left out. */
  function comparable(outcome: Outcome): unknown {
    const { pagesFetched: _pages, chains: _chains, throttledUntil: _until, ...run } = outcome.run as Partial<Run>;
    const audit = outcome.audit.filter((record) => record.action !== 'listing-throttled');
    // The throttled run's later work happens 30 s later on the virtual clock: times are left out too.
    const text = JSON.stringify({ ...outcome, audit, run })
      .replace(/"(ref|sourceRef)":"[^"]*"/g, '"$1":""')
      .replace(/"\d{4}-\d\d-\d\dT[\d:.]+Z"/g, '"TIME"');
    return JSON.parse(text) as unknown;
  }

  it('after a 429 with Retry-After on one chain, no chain reads before the retry time; the run ends with the same users', async () => {
    const plain = await syncThrottled(() => undefined);
    expect(plain.run).toMatchObject({ state: 'succeeded', counts: { created: 10 } });
    expect(Object.keys(plain.run.chains ?? {})).toEqual(['users', 'groups-0', 'groups-1', 'managers-0', 'managers-1', 'managers-2', 'managers-3']);

    const { t, driven, run, seen, firstAnswer } = await syncThrottled(() => server.throttle(1, 30));
    expect(run).toMatchObject({ state: 'succeeded', listing: 'complete', counts: { created: 10 } });
    expect(driven.throws).toEqual([]);
    expect(comparable(await outcomeOf(driven.deps, 'Throttled', run))).toEqual(comparable(await outcomeOf(plain.driven.deps, 'Throttled', plain.run)));

    // The first Graph request (the first managers chain's) was throttled; every later one waited the 30 s.
    const retryAt = START + 30_000;
    expect(driven.requestTimes[0]).toBe(START);
    expect(driven.requestTimes.slice(1).length).toBeGreaterThan(5);
    expect(driven.requestTimes.slice(1).every((time) => time >= retryAt)).toBe(true);
    // Each listing chain's page waited in a message delayed until then, not in a failed delivery (the waiting ones start later).
    const delayed = driven.queue.sent.filter((job) => job.delaySeconds !== undefined);
    expect(delayed.map(chainOf).sort()).toEqual(['groups-0', 'groups-1', 'managers-0', 'users']);
    expect(delayed.every((job) => job.delaySeconds === 30 && job.visibleAt === retryAt)).toBe(true);

    // While throttled, the run says so: on its row, over GET /runs/{id}, in the CLI's status line.
    const throttledRun = seen[0]!;
    expect(throttledRun.throttledUntil).toBe('2026-11-21T10:00:30.000Z');
    expect(firstAnswer).toMatchObject({ status: 200, jsonBody: { throttledUntil: '2026-11-21T10:00:30.000Z', progress: { throttledUntil: '2026-11-21T10:00:30.000Z' } } });
    driven.queue.now = START + 10_000;
    expect(progressLine(await runView(driven.deps, throttledRun))).toMatch(/^listing, throttled by Microsoft Graph until 10:00:30 UTC: /);
    driven.queue.now = retryAt;
    expect(progressLine(await runView(driven.deps, throttledRun))).not.toMatch(/throttled/);

    // Reported once, not once per chain or page.
    const reported = (await auditOf(t, run.runId)).filter((record) => record.action === 'listing-throttled');
    expect(reported).toHaveLength(1);
    expect(reported[0]?.detail).toMatch(/Microsoft Graph is throttling .*Every chain of the listing waits until 10:00:30 UTC\./);
  });

  it('a throttled page is not a failed delivery: many throttles in a row still end succeeded', async () => {
    const { t, driven, run } = await syncThrottled(() => server.throttle(8, 5));
    expect(run).toMatchObject({ state: 'succeeded', listing: 'complete', counts: { created: 10 } });
    expect(driven.throws).toEqual([]);
    // Eight throttles one after the other: eight waits of 5 s before anything else was read.
    expect(driven.requestTimes.slice(8).every((time) => time >= START + 40_000)).toBe(true);
    expect((await auditOf(t, run.runId)).filter((record) => record.action === 'listing-throttled')).toHaveLength(8);
  });

  it('a Retry-After longer than 15 minutes is waited out 15 minutes at a time', async () => {
    const { driven, run, seen } = await syncThrottled(() => server.throttle(1, 3600));
    expect(run).toMatchObject({ state: 'succeeded', counts: { created: 10 } });
    expect(seen[0]?.throttledUntil).toBe('2026-11-21T10:15:00.000Z');
    const delayed = driven.queue.sent.filter((job) => job.delaySeconds !== undefined);
    expect(delayed).toHaveLength(4);
    expect(delayed.every((job) => job.delaySeconds === 900)).toBe(true);
  });

  it('a chain between two pages waits for a throttle another chain met meanwhile', async () => {
    const t = await appWith();
    const driven = virtual(t);
    const started = await startRun(driven.deps, { connection: 'Throttled', trigger: 'manual', startedBy: 'cli:tester' });
    const users = driven.queue.pending.find((job) => chainOf(job) === 'users')!;
    driven.queue.pending.length = 0;
    driven.queue.sent.length = 0;
    // Another instance's chain is throttled while this job stores its first page.
    const runs = driven.deps.runs;
    let armed = false;
    const update: typeof runs.update = async (id, change) => {
      if (!armed) {
        armed = true;
        await runs.update(id, (current) => ({ ...current, throttledUntil: '2026-11-21T10:01:00.000Z' }));
      }
      return runs.update(id, change);
    };
    const withThrottle = new Proxy(runs, {
      get(target, property) {
        if (property === 'update') return update;
        const value = Reflect.get(target, property) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const deps: SyncDependencies = { ...driven.deps, runs: withThrottle };
    await handle(deps, users);
    expect((await runs.get(started.runId))?.chains?.users).toMatchObject({ state: 'listing', pages: 1 });
    expect(driven.queue.sent).toEqual([{ queue: 'pages', message: { runId: started.runId, chain: 'users', page: 1, cursor: expect.anything() }, delaySeconds: 60, visibleAt: START + 60_000 }]);
  });
});

describe('Okta rate limits slow every chain of the run', () => {
  let server: OktaServer;
  const TOKEN = '00okta-throttle-token';
  beforeAll(async () => {
    server = await startOktaServer();
    server.addToken(TOKEN);
    const ids = Array.from({ length: 6 }, (_, i) => `00uslow${i}`);
    for (const id of ids) server.addUser({ id, status: 'ACTIVE', profile: { login: `${id}@okta.example`, email: `${id}@okta.example`, firstName: id, lastName: 'Okta' } } as never);
    server.addGroup({ id: '00gslow', name: 'Intranet-Slow', members: ids });
  });
  afterAll(() => server.close());
  afterEach(() => server.heal());

  /** A run whose first Okta request meets `throttle`, driven to its end; the run after its first delivery. */
  async function syncThrottled(throttle: OktaThrottleOptions): Promise<{ driven: Driven; run: Run; first: Run }> {
    const t = await createTestApp({ OKTA_TOKEN: TOKEN, USERSYNC_ALLOW_INSECURE_HTTP: 'true', USERSYNC_PAGE_SIZE: '2' });
    await putProfile(t, {
      name: 'OktaSlow',
      type: 'okta',
      schedule: { kind: 'off' },
      orgUrl: server.url,
      credential: { kind: 'token', tokenSecret: 'OKTA_TOKEN' },
      selectedGroups: ['00gslow'],
      disableGuard: SMALL_DIRECTORY_GUARD,
    } as ConnectionProfileInput);
    const driven = virtual(t);
    const started = await startRun(driven.deps, { connection: 'OktaSlow', trigger: 'manual', startedBy: 'cli:tester' });
    server.throttle(1, throttle);
    const seen: Run[] = [];
    const before = server.requests.length;
    await drive(driven, () => server.requests.length - before, async () => {
      seen.push((await driven.deps.runs.get(started.runId))!);
    });
    const run = (await driven.deps.runs.get(started.runId))!;
    expect(run).toMatchObject({ state: 'succeeded', counts: { created: 6 } });
    expect(driven.throws).toEqual([]);
    return { driven, run, first: seen[0]! };
  }

  it("a 429 with X-Rate-Limit-Remaining 0 and X-Rate-Limit-Reset sets the run's throttledUntil, and the run waits it out", async () => {
    // Reset 30 s after the fake's Date: the SDK's reckoning adds a second for clocks that differ below one.
    const { driven, first } = await syncThrottled({ resetSeconds: 30 });
    expect(first.throttledUntil).toBe('2026-11-21T10:00:31.000Z');
    expect(driven.requestTimes.slice(1).every((time) => time >= START + 31_000)).toBe(true);
    expect(driven.queue.sent.filter((job) => job.delaySeconds === 31)).not.toHaveLength(0);
  });

  it('an answer with the budget spent (X-Rate-Limit-Remaining 0) makes the run wait for the reset before the next request', async () => {
    const { driven, first } = await syncThrottled({ resetSeconds: 30, answer: true });
    // The first request was answered; the next one waited for the reset (31 s by the fake's Date, less the moments since).
    const until = Date.parse(first.throttledUntil ?? '');
    expect(until).toBeGreaterThan(START + 30_000);
    expect(until).toBeLessThanOrEqual(START + 31_000);
    expect(driven.requestTimes[0]).toBe(START);
    expect(driven.requestTimes.slice(1).every((time) => time >= until)).toBe(true);
  });
});
