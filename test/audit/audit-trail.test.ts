import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../shared/audit/audit-log.js';
import { ADMIN, type Caller } from '../../shared/admin/operation.js';
import { handleApi } from '../../shared/http/api.js';
import { awaitRun } from '../../shared/host/await-run.js';
import { runTimerTick } from '../../shared/sync/pipeline/timer-tick.js';
import type { Run } from '../../shared/sync/run-model.js';
import { startApiHost, type ApiHost } from '../support/api-host.js';
import { cliAs, cliOn } from '../support/cli.js';
import { auditOf, createTestApp, csvProfile, putProfile, uploadCsv, usersOf, type TestApp } from '../support/test-app.js';

/**
 * The audit trail answers "why": what changed, old → new; who did it (the timer, an admin at the CLI, an
 * admin through the API); who confirmed a held run and when; newest first, in a window of time, page by page.
 */

const HEADER = 'username,email,firstName,lastName,password,department';
const row = (name: string, { email = `${name}@example.org`, last = 'Lee', password = 'First-Pa55word', department = 'Sales' } = {}) =>
  `${name},${email},${name},${last},${password},${department}`;
const csv = (...rows: string[]) => [HEADER, ...rows].join('\n') + '\n';
const admin = (actor: string): Caller => ({ actor, roles: [ADMIN] });
const runIdOf = (out: string[]) => /^Run (\S+) /.exec(out[0] ?? '')?.[1] ?? '';

async function runOf(t: TestApp, runId: string): Promise<Run> {
  const run = await t.app.deps.runs.get(runId);
  if (!run) throw new Error(`no run ${runId}`);
  return run;
}

/** Every page of GET /audit with this query, following the continuation token. */
async function allPages(api: ApiHost['api'], query: string): Promise<{ pages: AuditRecord[][]; records: AuditRecord[] }> {
  const pages: AuditRecord[][] = [];
  let token: string | undefined;
  do {
    const response = await api(`audit?${query}${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`);
    expect(response.status).toBe(200);
    const page = (await response.json()) as { records: AuditRecord[]; continuationToken?: string };
    pages.push(page.records);
    token = page.continuationToken;
    if (pages.length > 100) throw new Error('paging does not end');
  } while (token);
  return { pages, records: pages.flat() };
}

const newestFirst = (records: readonly AuditRecord[]) => records.every((record, i) => i === 0 || records[i - 1]!.at >= record.at);
const keyOf = (r: AuditRecord) => [r.runId, r.subject, r.action, r.ref ?? ''].join('|');
const sameRecords = (a: readonly AuditRecord[], b: readonly AuditRecord[]) => expect(a.map(keyOf).sort()).toEqual(b.map(keyOf).sort());

describe('the audit trail', () => {
  let server: ApiHost;
  beforeAll(async () => {
    server = await startApiHost({ TEST_DEFAULT_PASSWORD: 'Audit-Initial-Pa55' });
  });
  afterAll(() => server.stop());

  it("an update records each changed field old → new, and never a password or its hash (the table's rows, the API, the CLI)", async () => {
    const { t, api } = server;
    await putProfile(t, csvProfile('Changes', 'changes.csv'));
    await uploadCsv(t, 'changes.csv', csv(row('ann'), row('ben')));
    expect((await cliOn(t, 'sync', 'Changes')).code).toBe(0);
    await uploadCsv(t, 'changes.csv', csv(row('ann', { email: 'ann.lee@example.org', last: 'Li', password: 'Second-Pa55word', department: 'Legal' }), row('ben', { password: 'Other-Pa55word' })));
    const second = await cliOn(t, 'sync', 'Changes');
    expect(second.code).toBe(0);
    const runId = runIdOf(second.out);

    const updated = (await auditOf(t, runId)).filter((record) => record.action === 'updated');
    // ben's only change is his password: not a directory field, so no update at all.
    expect(updated).toEqual([
      expect.objectContaining({
        username: 'ann',
        changedFields: ['email', 'lastName', 'department'],
        changes: [
          { field: 'email', from: 'ann@example.org', to: 'ann.lee@example.org' },
          { field: 'lastName', from: 'Lee', to: 'Li' },
          { field: 'department', from: 'Sales', to: 'Legal' },
        ],
      }),
    ]);
    const ann = (await usersOf(t, 'Changes')).get('ann')!;
    expect(ann.passwordHash).toMatch(/^scrypt/);
    const rows: unknown[] = [];
    for await (const entity of t.table('auditTable').listEntities()) rows.push(entity);
    expect(JSON.stringify(rows)).not.toMatch(/Pa55word|scrypt|passwordHash/);
    expect(JSON.stringify(rows)).not.toContain(ann.passwordHash!);

    const fromApi = (await (await api(`audit?run=${runId}&action=updated`)).json()) as { records: AuditRecord[] };
    expect(fromApi.records).toEqual(updated);
    const printed = await cliOn(t, 'audit', '--run', runId, '--action', 'updated');
    expect(printed.out[0]).toMatch(
      /^\S+Z {2}\S+ {2}updated +ann \(row 2\) {2}by cli:\S+ {2}email: "ann@example\.org" → "ann\.lee@example\.org"; lastName: "Lee" → "Li"; department: "Sales" → "Legal"$/,
    );
  });

  it('every record names its actor: cli:<os user> for the CLI, the API caller, timer for a scheduled run', async () => {
    const { t } = server;
    await putProfile(t, csvProfile('Actors', 'actors.csv'));
    await uploadCsv(t, 'actors.csv', csv(row('cat'), row('dan')));

    const byCli = await cliOn(t, 'sync', 'Actors');
    const cliRun = await runOf(t, runIdOf(byCli.out));
    const me = `cli:${userInfo().username}`;
    expect(cliRun.startedBy).toBe(me);
    const cliRecords = await auditOf(t, cliRun.runId);
    expect(cliRecords.map((record) => record.action).sort()).toEqual(['created', 'created', 'run-started', 'run-succeeded']);
    expect(new Set(cliRecords.map((record) => record.actor))).toEqual(new Set([me]));
    expect(cliRecords.find((record) => record.action === 'run-started')?.detail).toBe(`Manual run started by ${userInfo().username} (usersync CLI).`);

    // Through the API, as the caller Easy Auth names (shared/http/api.ts callerOf).
    await uploadCsv(t, 'actors.csv', csv(row('cat', { department: 'Legal' }), row('dan')));
    const started = await handleApi(t.app, { method: 'POST', path: 'connections/Actors/sync', query: new URLSearchParams() }, admin('user:ann@contoso.com'));
    expect(started.status).toBe(202);
    const apiRun = await awaitRun(t.app, t.definitions, (started.jsonBody as { runId: string }).runId);
    expect(apiRun).toMatchObject({ state: 'succeeded', startedBy: 'user:ann@contoso.com' });
    expect(new Set((await auditOf(t, apiRun.runId)).map((record) => record.actor))).toEqual(new Set(['user:ann@contoso.com']));

    // An admin operation's records name its caller.
    const put = { method: 'PUT', path: 'connections/Actors', query: new URLSearchParams(), body: JSON.stringify(csvProfile('Actors', 'actors.csv')) };
    expect((await handleApi(t.app, put, admin('user:ann@contoso.com'))).status).toBe(200);
    expect((await t.app.deps.audit.query({ connection: 'Actors', action: 'connection-saved', limit: 10 })).records).toEqual([
      expect.objectContaining({ actor: 'user:ann@contoso.com', detail: 'Connection profile "Actors" saved by ann@contoso.com.' }),
    ]);
    expect((await cliAs(t, admin('cli:erin'), 'connection', 'delete', 'Actors', '--yes')).code).toBe(0);
    const deleted = (await t.app.deps.audit.query({ connection: 'Actors', action: 'connection-deleted', limit: 10 })).records;
    expect(deleted).toEqual([expect.objectContaining({ actor: 'cli:erin', detail: 'Connection profile "Actors" deleted by erin (usersync CLI); 2 user(s) disabled.' })]);
    const disabled = (await auditOf(t, deleted[0]!.runId)).filter((record) => record.action === 'disabled');
    expect(disabled).toHaveLength(2);
    expect(disabled.every((record) => record.actor === 'cli:erin' && record.changes?.[0]?.to === 'disabled')).toBe(true);
  });

  it("a scheduled run's records name the timer", async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Audit-Initial-Pa55' });
    await putProfile(t, csvProfile('Scheduled', 'scheduled.csv', { schedule: { kind: 'hourly' } }));
    await uploadCsv(t, 'scheduled.csv', csv(row('eve')));
    const { started } = await runTimerTick(t.app.deps);
    expect(started).toHaveLength(1);
    const run = await awaitRun(t.app, t.definitions, started[0]!);
    expect(run).toMatchObject({ state: 'succeeded', trigger: 'schedule', startedBy: 'timer' });
    const records = await auditOf(t, run.runId);
    expect(records.map((record) => record.action).sort()).toEqual(['created', 'run-started', 'run-succeeded']);
    expect(new Set(records.map((record) => record.actor))).toEqual(new Set(['timer']));
    expect(records.find((record) => record.action === 'run-started')?.detail).toBe('Scheduled run started.');
  });

  it('status names whom a held run waits to disable; a confirm records who and when, and the disables it applied carry both', async () => {
    const { t, api } = server;
    const everyone = Array.from({ length: 60 }, (_, i) => `held${String(i).padStart(2, '0')}`);
    await putProfile(t, csvProfile('Held', 'held.csv', { disableGuard: { maxPercent: 10, maxCount: 500, minCount: 5 } }));
    await uploadCsv(t, 'held.csv', csv(...everyone.map((name) => row(name))));
    expect((await cliOn(t, 'sync', 'Held')).code).toBe(0);
    // A truncated export: 55 of 60 would go, far more than the guard allows.
    await uploadCsv(t, 'held.csv', csv(...everyone.slice(0, 5).map((name) => row(name))));
    const held = await cliOn(t, 'sync', 'Held');
    expect(held.code).toBe(3);
    const runId = runIdOf(held.out);
    const leaving = everyone.slice(5);

    const status = await cliOn(t, 'status', 'Held');
    expect(status.code).toBe(0);
    expect(status.out.slice(-2)).toEqual([
      `Run ${runId} of "Held" held: 55 user(s) to disable: ${leaving.slice(0, 50).join(', ')} and 5 more`,
      `  to disable them: usersync confirm ${runId} — or fix the source; the next run re-evaluates.`,
    ]);
    expect(((await (await api(`runs/${runId}`)).json()) as Run).heldDisables).toMatchObject({ count: 55, usernames: leaving.slice(0, 50) });

    const confirmed = await cliAs(t, admin('cli:bob'), 'confirm', runId);
    expect(confirmed.code).toBe(0);
    const run = await runOf(t, runId);
    expect(run).toMatchObject({ state: 'succeeded', confirmedBy: 'cli:bob', confirmedAt: expect.any(String) });
    expect(((await (await api(`runs/${runId}`)).json()) as Run).confirmedBy).toBe('cli:bob');
    const records = await auditOf(t, runId);
    expect(records.filter((record) => record.action === 'run-confirmed')).toEqual([
      expect.objectContaining({ actor: 'cli:bob', at: run.confirmedAt, detail: 'bob (usersync CLI) confirmed disabling 55 user(s).' }),
    ]);
    const disables = records.filter((record) => record.action === 'disabled');
    expect(disables.map((record) => record.username).sort()).toEqual(leaving);
    for (const record of disables) {
      expect(record).toMatchObject({ actor: 'cli:bob', confirmedAt: run.confirmedAt, reason: 'missing-from-source', changes: [{ field: 'status', from: 'active', to: 'disabled' }] });
      expect(record.at >= run.confirmedAt!).toBe(true);
    }
    // What the run did before it was held stays the starter's.
    expect(records.find((record) => record.action === 'run-needs-confirmation')?.actor).toBe(`cli:${userInfo().username}`);
    expect(records.find((record) => record.action === 'run-succeeded')).toMatchObject({ actor: 'cli:bob', confirmedAt: run.confirmedAt });
  });

  it("a confirm's finalise does not record again what the run did before it was held (an activation, an org chart note)", async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Audit-Initial-Pa55', USERSYNC_LICENCE_LIMIT: '12' });
    await putProfile(t, csvProfile('Other', 'other.csv'));
    await uploadCsv(t, 'other.csv', csv(row('o1'), row('o2')));
    await putProfile(t, csvProfile('Seats', 'seats.csv', { managerField: 'manager', disableGuard: { maxPercent: 10, maxCount: 500, minCount: 0 } }));
    const seats = Array.from({ length: 11 }, (_, i) => `s${String(i).padStart(2, '0')}`);
    // s00's manager is no user of the directory: each run that links managers notes it once.
    const seatsCsv = (names: string[]) => [`${HEADER},manager`, ...names.map((name) => `${row(name)},${name === 's00' ? 'ghost' : ''}`)].join('\n') + '\n';
    await uploadCsv(t, 'seats.csv', seatsCsv(seats));
    expect((await cliOn(t, 'sync', 'Other')).code).toBe(0);
    expect((await cliOn(t, 'sync', 'Seats')).code).toBe(0);
    expect((await usersOf(t, 'Seats')).get('s10')?.status).toBe('blocked');
    // o2 leaves Other: a licence frees up, so the next run of Seats activates s10 — and is held.
    await uploadCsv(t, 'other.csv', csv(row('o1')));
    expect((await cliOn(t, 'sync', 'Other')).code).toBe(0);
    await uploadCsv(t, 'seats.csv', seatsCsv([...seats.slice(0, 3), 's10']).replace('s01,s01@example.org,s01,Lee', 's01,s01@example.org,s01,Lim'));
    const held = await cliOn(t, 'sync', 'Seats');
    expect(held.code).toBe(3);
    const runId = runIdOf(held.out);
    expect((await usersOf(t, 'Seats')).get('s10')?.status).toBe('active');

    expect((await cliOn(t, 'confirm', runId)).code).toBe(0);
    const run = await runOf(t, runId);
    expect(run).toMatchObject({ state: 'succeeded', counts: { activated: 1, disabled: 7 } });
    const records = await auditOf(t, runId);
    const activated = records.filter((record) => record.action === 'activated');
    expect(activated).toEqual([expect.objectContaining({ username: 's10', changes: [{ field: 'status', from: 'blocked', to: 'active' }] })]);
    expect(activated[0]).not.toHaveProperty('confirmedAt');
    expect(records.filter((record) => record.action === 'manager-unresolved')).toEqual([expect.objectContaining({ username: 's00' })]);
  });

  it('newest first across runs; since/until bound a window, paged through the API and the CLI', async () => {
    const { t, api } = server;
    await putProfile(t, csvProfile('Window', 'window.csv'));
    await uploadCsv(t, 'window.csv', csv(row('fay'), row('gus'), row('hal')));
    const first = await runOf(t, runIdOf((await cliOn(t, 'sync', 'Window')).out));
    await uploadCsv(t, 'window.csv', csv(row('fay', { department: 'Legal' }), row('gus', { department: 'Legal' }), row('hal')));
    const second = await runOf(t, runIdOf((await cliOn(t, 'sync', 'Window')).out));
    const firstRecords = await auditOf(t, first.runId);
    const secondRecords = await auditOf(t, second.runId);

    const all = await allPages(api, 'connection=Window&limit=3');
    expect(all.pages.every((page) => page.length <= 3)).toBe(true);
    expect(newestFirst(all.records)).toBe(true);
    expect(all.records.map((record) => record.runId)).toEqual([...secondRecords.map(() => second.runId), ...firstRecords.map(() => first.runId)]);
    expect(all.records[0]).toMatchObject({ action: 'run-succeeded', runId: second.runId });
    expect(all.records.at(-1)).toMatchObject({ action: 'run-started', runId: first.runId });

    const window = `since=${encodeURIComponent(second.startedAt)}&until=${encodeURIComponent(second.endedAt!)}`;
    const inWindow = await allPages(api, `${window}&limit=2`);
    expect(inWindow.pages.length).toBeGreaterThanOrEqual(2);
    expect(inWindow.pages.every((page) => page.length <= 2)).toBe(true);
    expect(newestFirst(inWindow.records)).toBe(true);
    sameRecords(inWindow.records, secondRecords);
    sameRecords((await allPages(api, `until=${encodeURIComponent(first.endedAt!)}&connection=Window`)).records, firstRecords);

    // The CLI: the same window, newest first, a page at a time.
    const flags = ['--since', second.startedAt, '--until', second.endedAt!];
    const page1 = await cliOn(t, 'audit', ...flags, '--limit', '2');
    expect(page1.code).toBe(0);
    expect(page1.out).toHaveLength(3);
    const token = /; more: the same command with --page-token (\S+)\.$/.exec(page1.out[2]!)?.[1];
    expect(token).toBeDefined();
    const rest = await cliOn(t, 'audit', ...flags, '--page-token', token!, '--json');
    expect(rest.err).toEqual([]);
    const printed = [...page1.out.slice(0, 2).map((line) => line.split('  ')[0]!), ...rest.out.map((line) => (JSON.parse(line) as AuditRecord).at)];
    expect(printed).toEqual(inWindow.records.map((record) => record.at));
    expect(rest.out).toHaveLength(secondRecords.length - 2);
  });

  it('since and until are ISO 8601, since not after until: else 400 query-invalid (API) or exit 2 (CLI)', async () => {
    const { t, api } = server;
    const problem = async (query: string) => {
      const response = await api(`audit?${query}`);
      return { status: response.status, type: response.headers.get('content-type'), body: (await response.json()) as { code: string; problems: { field: string }[] } };
    };
    expect(await problem('since=yesterday')).toMatchObject({ status: 400, type: expect.stringMatching(/^application\/problem\+json/), body: { code: 'query-invalid', problems: [{ field: 'since' }] } });
    expect(await problem('until=2026-11-21T09:30:00')).toMatchObject({ status: 400, body: { code: 'query-invalid', problems: [{ field: 'until' }] } });
    expect(await problem('since=2026-11-22&until=2026-11-21')).toMatchObject({ status: 400, body: { code: 'query-invalid', problems: [{ field: 'since' }] } });
    // A date is its whole day: since and until the same date is that day.
    expect((await api('audit?since=2026-11-21&until=2026-11-21')).status).toBe(200);

    const bad = await cliOn(t, 'audit', '--since', 'yesterday');
    expect(bad).toMatchObject({ code: 2, out: [], err: expect.arrayContaining([expect.stringMatching(/^error \[usage-invalid\]: --since takes an ISO 8601 date/)]) });
    const reversed = await cliOn(t, 'audit', '--since', '2026-11-22', '--until', '2026-11-21T23:00:00+01:00');
    expect(reversed).toEqual({
      code: 2,
      out: [],
      err: ['error [query-invalid]: since (2026-11-22T00:00:00.000Z) is after until (2026-11-21T22:00:00.000Z): no record can be in that window.', '  - since: must not be after until'],
    });
  });
});
