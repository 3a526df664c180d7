import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../shared/audit/audit-log.js';
import type { Run } from '../../shared/sync/run-model.js';
import { isTerminal } from '../../shared/sync/run-model.js';
import { startRun } from '../../shared/sync/start-run.js';
import { startHostProcess } from '../support/local-host-process.js';
import { auditOf, createTestApp, csvProfile, putProfile, syncNow, uploadCsv, usersOf, type TestApp } from '../support/test-app.js';

const HEADER = 'username,email,firstName,lastName,department,manager';
const row = (i: number, department: string) => `kr${i},kr${i}@example.org,First${i},Last${i},${department},${i === 0 ? '' : `kr${Math.floor((i - 1) / 4)}`}`;
/** This week's export: 300 people in a manager tree. */
const WEEK_1 = [HEADER, ...Array.from({ length: 300 }, (_, i) => row(i, 'Sales'))].join('\n') + '\n';
/** Next week's: 20 left (disabled), 26 changed department, 20 joined. */
const WEEK_2 =
  [HEADER, ...Array.from({ length: 320 }, (_, i) => i).filter((i) => i < 260 || i >= 280).map((i) => row(i, i % 10 === 3 ? 'Legal' : 'Sales'))].join('\n') + '\n';

/** What a run leaves behind, without what differs between two runs anyway (ids, times, ETags). */
async function outcome(t: TestApp, run: Run) {
  const users = [...(await usersOf(t, 'Resume')).values()]
    .map((u) => ({ username: u.username, email: u.email, status: u.status, attributes: u.attributes, manager: u.managerKey ?? null, groups: u.groups ?? [] }))
    .sort((a, b) => a.username.localeCompare(b.username));
  const audit = (await auditOf(t, run.runId)).map((r: AuditRecord) => `${r.action} ${r.subject === run.runId ? 'run' : r.subject} ${r.reason ?? ''}`).sort();
  return { state: run.state, listing: run.listing, counts: run.counts, warnings: run.warnings, users, audit };
}

function startHost(t: TestApp): ChildProcess {
  return startHostProcess({ ...t.env, USERSYNC_LOCAL_WORKERS: '4', USERSYNC_LOCAL_LEASE_SECONDS: '3' }).child;
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('kill -9 the local host mid-run, start it again', () => {
  const children: ChildProcess[] = [];
  afterEach(() => {
    for (const child of children) child.kill('SIGKILL');
  });

  async function prepare(): Promise<TestApp> {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Resume-Initial-1', USERSYNC_PAGE_SIZE: '10' });
    await putProfile(t, csvProfile('Resume', 'resume.csv', { managerField: 'manager' }));
    await uploadCsv(t, 'resume.csv', WEEK_1);
    expect(await syncNow(t, 'Resume')).toMatchObject({ state: 'succeeded', counts: { created: 300 } });
    await uploadCsv(t, 'resume.csv', WEEK_2);
    return t;
  }

  it('the run completes with the same final state as an undisturbed run', async () => {
    const undisturbed = await prepare();
    const reference = await outcome(undisturbed, await syncNow(undisturbed, 'Resume'));
    expect(reference.counts).toMatchObject({ created: 20, disabled: 20 });
    expect(reference.counts.updated).toBeGreaterThanOrEqual(26);

    const t = await prepare();
    const { runId } = await startRun(t.app.deps, { connection: 'Resume', trigger: 'manual' });
    const progress = async () => (await t.app.deps.runs.get(runId))!;

    // Kill once while the directory is being listed, and once while shards are being applied.
    let host = startHost(t);
    children.push(host);
    const listing = await waitFor(async () => ((await progress()).pagesFetched >= 8 ? await progress() : undefined), 'page 8');
    host.kill('SIGKILL');
    expect(isTerminal(listing.state)).toBe(false);
    expect(listing.listing).toBe('in-progress');

    host = startHost(t);
    children.push(host);
    const reconciling = await waitFor(async () => {
      const run = await progress();
      return run.shardsDone >= 3 || isTerminal(run.state) ? run : undefined;
    }, 'three shards');
    host.kill('SIGKILL');
    expect(reconciling.state).not.toBe('succeeded');

    host = startHost(t);
    children.push(host);
    const finished = await waitFor(async () => {
      const run = await progress();
      return isTerminal(run.state) ? run : undefined;
    }, 'the run to end');
    expect(await outcome(t, finished)).toEqual(reference);
  }, 300_000);
});
