import { beforeAll, describe, expect, it } from 'vitest';
import { parseProfile, type ConnectionProfileInput } from '../../shared/connections/profile.js';
import { emptyCounts } from '../../shared/sync/model.js';
import { newRunId, type Run } from '../../shared/sync/run-model.js';
import { runTimerTick } from '../../shared/sync/pipeline/timer-tick.js';
import { createTestApp, csvProfile, putProfile, type TestApp } from '../support/test-app.js';

/**
 * Profiles read back from Table Storage: what the current code writes always reads back; what an
 * earlier version wrote (before unknown keys, URL credentials and non-RE2 patterns were refused)
 * still reads, without the credentials, its problems named.
 */
describe('stored profiles on Azurite', () => {
  let t: TestApp;
  const remote = (name: string, extra: Partial<ConnectionProfileInput> = {}) =>
    csvProfile(name, 'unused', { source: { kind: 'https', url: 'https://hr.example.com/people.csv', passwordSecret: 'HR_PASSWORD' }, ...extra });

  /** Rewrites a profile column as an earlier version could have written it. */
  async function rewriteProfile(table: 'connectionsTable' | 'runsTable', match: (row: Record<string, unknown>) => boolean, change: (profile: Record<string, unknown>) => Record<string, unknown>) {
    const client = t.table(table);
    for await (const row of client.listEntities<{ profile?: string }>()) {
      if (typeof row.profile !== 'string' || !match(row)) continue;
      await client.updateEntity({ partitionKey: row.partitionKey!, rowKey: row.rowKey!, profile: JSON.stringify(change(JSON.parse(row.profile) as Record<string, unknown>)) }, 'Merge');
    }
  }
  const withCredentials = (profile: Record<string, unknown>) => ({ ...profile, source: { ...(profile.source as object), url: 'https://sync:s3cret@hr.example.com/people.csv' } });
  const rowText = async (table: 'connectionsTable' | 'runsTable') => {
    const rows: unknown[] = [];
    for await (const row of t.table(table).listEntities()) rows.push(row);
    return JSON.stringify(rows);
  };

  beforeAll(async () => {
    t = await createTestApp({ HR_PASSWORD: 'not-used', OKTA_KEY: 'not-used', TEST_DEFAULT_PASSWORD: 'Stored-Initial-1' });
  });

  it.each<[string, ConnectionProfileInput]>([
    ['a CSV profile with every field', remote('Every CSV', { enabled: false, managerField: 'manager', groupsColumn: 'groups', groups: { mode: 'regex', pattern: '(?i)^team-', keepLocalGroups: true }, columnMap: { Dept: 'department' }, delimiter: ';', encoding: 'windows-1252' })],
    ['an Entra profile', { name: 'Every Entra', type: 'entra', tenantId: 'contoso.onmicrosoft.com', clientId: '00000000-0000-0000-0000-000000000002', credential: { kind: 'secret', secretName: 'HR_PASSWORD' }, graphBaseUrl: 'https://graph.example', schedule: { kind: 'off' } } as ConnectionProfileInput],
    ['an Okta profile', { name: 'Every Okta', type: 'okta', orgUrl: 'https://example.okta.com', credential: { kind: 'private-key', clientId: 'c', privateKeySecret: 'OKTA_KEY' }, groups: { mode: 'all' }, schedule: { kind: 'off' } } as ConnectionProfileInput],
  ])('%s, as the current code writes it, reads back the same with no problems', async (_name, input) => {
    const profile = parseProfile(input);
    const { connection } = await t.app.deps.connections.put(profile, new Date().toISOString());
    expect(await t.app.deps.connections.get(profile.name)).toStrictEqual(connection);
    expect(connection).not.toHaveProperty('problems');
  });

  it('one saved with credentials in a URL keeps its problem through state writes, and a timer tick passes it by', async () => {
    await putProfile(t, remote('Stale', { schedule: { kind: 'interval', minutes: 5 } }));
    await putProfile(t, csvProfile('Fresh', 'fresh.csv', { schedule: { kind: 'interval', minutes: 5 } }));
    await rewriteProfile('connectionsTable', (row) => String(row.profile).includes('"Stale"'), withCredentials);

    await t.app.deps.connections.updateState('Stale', (current) => ({ ...current.state, lastSkippedSlot: 'x' }));
    const stale = await t.app.deps.connections.get('Stale');
    expect(stale?.state.lastSkippedSlot).toBe('x');
    expect(stale?.problems?.map((p) => p.field)).toEqual(['source.url']);
    expect(JSON.stringify(stale)).not.toContain('s3cret');

    const log: string[] = [];
    const { started } = await runTimerTick({ ...t.app.deps, log: (line) => log.push(line) });
    const runs = await Promise.all(started.map((id) => t.app.deps.runs.get(id)));
    expect(runs.map((run) => run?.connection).sort()).toEqual(['Fresh']);
    expect(log).toContainEqual(expect.stringMatching(/^scheduled run of Stale not started: profile-invalid: .*source\.url: the URL must not contain/));
    expect(log.join('\n')).not.toContain('s3cret');
  });

  it("a run's copy saved with credentials in its URL or keys since dropped reads without them", async () => {
    const profile = parseProfile(remote('Old Run'));
    const runId = newRunId(new Date('2026-01-02T03:04:05Z'), 'abc123');
    const run: Run = {
      runId,
      connection: profile.name,
      directoryKey: 'dk000000000001',
      trigger: 'manual',
      startedBy: 'cli:tester',
      kind: 'full',
      dryRun: false,
      profile,
      state: 'failed',
      pagesFetched: 0,
      listing: 'failed',
      shardsDone: 0,
      counts: emptyCounts(),
      skipReasons: {},
      unreadableRecords: 0,
      warnings: [],
      startedAt: '2026-01-02T03:04:05.000Z',
    };
    await t.app.deps.runs.create(run);
    await rewriteProfile('runsTable', (row) => row.partitionKey === runId, (stored) => ({ ...withCredentials(stored), retired: true }));
    expect(await rowText('runsTable')).toContain('s3cret');

    expect(await t.app.deps.runs.get(runId)).toStrictEqual(run);
    expect(JSON.stringify(await t.app.deps.runs.list({ connection: profile.name, limit: 10 }))).not.toContain('s3cret');
  });
});
