import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../shared/audit/audit-log.js';
import type { Run } from '../../shared/sync/run-model.js';
import { startRun } from '../../shared/sync/pipeline/start-run.js';
import { startBlobProxy, type BlobProxy } from '../support/blob-proxy.js';
import { startHostProcess } from '../support/local-host-process.js';
import { auditOf, awaitRunEnd, createTestApp, csvProfile, putProfile, syncNow, uploadCsv, usersOf, type TestApp } from '../support/test-app.js';
import { within } from '../support/wait.js';

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

/** The host reaches blob storage through `proxy`, so a test can stop it at the write it chooses. */
function startHost(t: TestApp, proxy: BlobProxy): ChildProcess {
  return startHostProcess({ ...t.env, AzureWebJobsStorage: proxy.connectionString, USERSYNC_LOCAL_WORKERS: '4', USERSYNC_LOCAL_LEASE_SECONDS: '3' }).child;
}

describe('kill -9 the local host mid-run, start it again', () => {
  const children: ChildProcess[] = [];
  let proxy: BlobProxy | undefined;
  afterEach(async () => {
    for (const child of children) child.kill('SIGKILL');
    await proxy?.close();
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
    proxy = await startBlobProxy(t.env.AzureWebJobsStorage!);
    const { runId } = await startRun(t.app.deps, { connection: 'Resume', trigger: 'manual', startedBy: 'cli:tester' });
    const progress = async () => (await t.app.deps.runs.get(runId))!;

    // Killed while the directory is being listed: as it stages the 9th of 30 pages.
    const stagingPage9 = proxy.holdNext('PUT', new RegExp(`/${runId}/pages/page-000008\\.json`));
    let host = startHost(t, proxy);
    children.push(host);
    await within(stagingPage9, 'the host to stage page 9', 120_000);
    host.kill('SIGKILL');
    expect(await progress()).toMatchObject({ state: 'listing', listing: 'in-progress', pagesFetched: 8 });

    // Killed while shards are being reconciled: as shard 3 stores its plan (the others go on meanwhile).
    const planningShard3 = proxy.holdNext('PUT', new RegExp(`/${runId}/plans/shard-03\\.json`));
    host = startHost(t, proxy);
    children.push(host);
    await within(planningShard3, 'the host to store the plan of shard 3', 120_000);
    host.kill('SIGKILL');
    const reconciling = await progress();
    expect(reconciling).toMatchObject({ state: 'reconciling', listing: 'complete' });
    expect(reconciling.shardsDone).toBeLessThan(16);

    host = startHost(t, proxy);
    children.push(host);
    const finished = await awaitRunEnd(t, runId, 120_000);
    expect(await outcome(t, finished)).toEqual(reference);
  }, 300_000);
});
