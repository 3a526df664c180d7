import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../shared/cli/cli.js';
import { localAdminClient } from '../../shared/host/local-admin-client.js';
import { resolveOrgChart } from '../../shared/sync/rules/org-chart.js';
import { auditOf, createTestApp, csvProfile, etags, putProfile, syncNow, uploadCsv, usersOf, type TestApp } from '../support/test-app.js';

const HEADER = 'username,email,firstName,lastName,manager';
const person = (name: string, manager = '') => `${name},${name}@example.org,${name},Org,${manager}`;
const csv = (...rows: string[]) => [HEADER, ...rows].join('\n') + '\n';

describe('resolveOrgChart', () => {
  const node = (key: string, manager?: string) => ({ key, username: key.toUpperCase(), ...(manager ? { manager } : {}) });

  it.each([
    ['by username, case-insensitively', [node('a'), node('b', 'A')], [['b', 'a']], [], []],
    ['by source key', [node('id-1'), node('id-2', 'id-1')], [['id-2', 'id-1']], [], []],
    ['missing manager', [node('a', 'zed')], [], [{ key: 'a', username: 'A', manager: 'zed' }], []],
    ['self-managed is not a link', [node('a', 'a')], [], [{ key: 'a', username: 'A', manager: 'a' }], []],
    ['two-person cycle, reported once from the smallest key', [node('b', 'a'), node('a', 'b')], [['b', 'a'], ['a', 'b']], [], [['a', 'b']]],
    ['a chain into a cycle reports only the cycle', [node('x', 'c'), node('c', 'd'), node('d', 'e'), node('e', 'c')], [['x', 'c'], ['c', 'd'], ['d', 'e'], ['e', 'c']], [], [['c', 'd', 'e']]],
  ])('resolves %s', (_name, nodes, links, unresolved, cycles) => {
    const chart = resolveOrgChart(nodes);
    expect([...chart.managerOf]).toEqual(links);
    expect(chart.unresolved).toEqual(unresolved);
    expect(chart.cycles).toEqual(cycles);
  });
});

describe('org chart through a run', () => {
  let t: TestApp;
  const cli = async (...args: string[]) => {
    const out: string[] = [];
    const code = await runCli(args, { client: localAdminClient(t.app, t.definitions), io: { out: (l) => out.push(l), err: (l) => out.push(l) } });
    return { code, out };
  };
  beforeAll(async () => {
    t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Org-Initial-1', USERSYNC_PAGE_SIZE: '2' });
    await putProfile(t, csvProfile('Org', 'org.csv', { managerField: 'manager' }));
  });

  it('links every manager in the same run, even one listed pages after the report', async () => {
    // Reports come first; their managers are on later pages (2 rows a page) and in other shards.
    await uploadCsv(t, 'org.csv', csv(person('dev1', 'lead'), person('dev2', 'lead'), person('lead', 'cto'), person('cto'), person('temp', 'agency.boss')));
    const run = await syncNow(t, 'Org');
    expect(run.state).toBe('succeeded');
    const users = await usersOf(t, 'Org');
    expect(users.get('dev1')?.managerKey).toBe('lead');
    expect(users.get('dev2')?.managerKey).toBe('lead');
    expect(users.get('lead')?.managerKey).toBe('cto');
    expect(users.get('cto')?.managerKey).toBeUndefined();
    expect(users.get('temp')?.managerKey).toBeUndefined();
    const unresolved = (await auditOf(t, run.runId)).filter((r) => r.action === 'manager-unresolved');
    expect(unresolved).toEqual([expect.objectContaining({ subject: 'temp', reason: 'manager-not-synced', detail: expect.stringContaining('"agency.boss"') })]);

    const chart = await cli('orgchart', 'LEAD');
    expect(chart.out).toEqual([
      'Org chart of lead (Org)',
      'cto — cto Org',
      '  lead — lead Org   ← this user',
      '    dev1 — dev1 Org',
      '    dev2 — dev2 Org',
      '2 direct report(s).',
    ]);
  });

  it('an unchanged re-sync rewrites no links; a changed manager moves the link', async () => {
    const before = await etags(t, 'usersTable');
    await syncNow(t, 'Org');
    expect(await etags(t, 'usersTable')).toEqual(before);

    await uploadCsv(t, 'org.csv', csv(person('dev1', 'cto'), person('dev2', 'lead'), person('lead', 'cto'), person('cto'), person('temp', 'agency.boss')));
    const run = await syncNow(t, 'Org');
    expect(run.counts.updated).toBe(1);
    const users = await usersOf(t, 'Org');
    expect(users.get('dev1')?.managerKey).toBe('cto');
    expect(users.get('dev2')?.managerKey).toBe('lead');
  });

  it('reports a management cycle and the chart still ends', async () => {
    await uploadCsv(t, 'org.csv', csv(person('dev1', 'cto'), person('dev2', 'lead'), person('lead', 'cto'), person('cto', 'lead'), person('temp', 'agency.boss')));
    const run = await syncNow(t, 'Org');
    const cycles = (await auditOf(t, run.runId)).filter((r) => r.action === 'manager-cycle');
    expect(cycles).toEqual([expect.objectContaining({ subject: 'cto', detail: expect.stringContaining('cto → lead → cto') })]);
    const chart = await cli('orgchart', 'dev2');
    expect(chart.code).toBe(0);
    expect(chart.out).toContain('  (the chain loops back here: a management cycle in the directory)');
  });
});
