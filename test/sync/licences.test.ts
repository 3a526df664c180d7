import { describe, expect, it } from 'vitest';
import { addLocalAccount } from '../../shared/admin/local-accounts.js';
import { runCli } from '../../shared/cli/cli.js';
import { localAdminClient } from '../../shared/host/local-admin-client.js';
import type { PlannedDecision } from '../../shared/sync/rules/decide.js';
import { grantSeats } from '../../shared/sync/rules/licences.js';
import type { StoredUser } from '../../shared/sync/model.js';
import { auditOf, createTestApp, csvProfile, putProfile, syncNow, uploadCsv, usersOf } from '../support/test-app.js';

const HEADER = 'username,email,firstName,lastName';
const person = (name: string) => `${name},${name}@example.org,${name},Licensed`;
const csv = (...names: string[]) => [HEADER, ...names.map(person)].join('\n') + '\n';

describe('grantSeats', () => {
  const creation = (key: string): PlannedDecision => ({ action: 'create', key, ref: key, user: { key, status: 'active' } as StoredUser, changedFields: [], seat: 1 });
  it('gives the licences in key order and blocks the rest', () => {
    const decided = grantSeats([creation('c'), creation('a'), creation('b')], 2);
    expect(decided.map((d) => ('user' in d ? [d.key, d.user.status, 'seat' in d ? d.seat : undefined, d.reason] : []))).toEqual([
      ['c', 'blocked', undefined, 'licence-limit'],
      ['a', 'active', 1, undefined],
      ['b', 'active', 1, undefined],
    ]);
  });
});

describe('licence limit across directories and local accounts', () => {
  /** A limit of 3 and a first sync of four users: three take the licences, one is blocked. */
  async function seatsTaken() {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Seat-Initial-1', USERSYNC_LICENCE_LIMIT: '3' });
    await putProfile(t, csvProfile('Seats', 'seats.csv'));
    await uploadCsv(t, 'seats.csv', csv('s1', 's2', 's3', 's4'));
    const run = await syncNow(t, 'Seats');
    const users = [...(await usersOf(t, 'Seats')).values()];
    // Which new user gets the last licence depends on which shard asks first; exactly three do.
    const active = users.filter((u) => u.status === 'active').map((u) => u.username).sort();
    const firstBlocked = users.find((u) => u.status === 'blocked')?.username;
    return { t, run, active, firstBlocked };
  }

  it('creates users beyond the limit in a blocked state, with an audit record', async () => {
    const { t, run, active, firstBlocked } = await seatsTaken();
    expect(run.counts).toMatchObject({ created: 3, blocked: 1 });
    expect(active).toHaveLength(3);
    expect((await auditOf(t, run.runId)).find((r) => r.action === 'blocked')).toMatchObject({
      subject: firstBlocked,
      reason: 'licence-limit',
      detail: expect.stringContaining('becomes active when a licence frees up'),
    });
    expect(await t.app.deps.licences.used()).toBe(3);
  });

  it('counts local accounts too: a new one is blocked while the licences are taken', async () => {
    const { t } = await seatsTaken();
    const local = await addLocalAccount(t.app.deps, { username: 'lena.local', email: 'lena@intranet.example', firstName: 'Lena', lastName: 'Local' }, 'cli:tester');
    expect(local.status).toBe('blocked');
    expect(await t.app.deps.licences.used()).toBe(3);
  });

  it('activates blocked users still in scope when licences free up, oldest first', async () => {
    const { t, active, firstBlocked } = await seatsTaken();
    await uploadCsv(t, 'seats.csv', csv('s1', 's2', 's3', 's4', 's5'));
    const second = await syncNow(t, 'Seats');
    expect(second.counts).toMatchObject({ blocked: 1, unchanged: 4, activated: 0 });

    // One active user leaves: the licence goes to the user blocked first (before s5), in the same run.
    const leaver = active[0]!;
    await uploadCsv(t, 'seats.csv', csv(...['s1', 's2', 's3', 's4', 's5'].filter((name) => name !== leaver)));
    const third = await syncNow(t, 'Seats');
    expect(third.counts).toMatchObject({ disabled: 1, activated: 1 });
    const users = await usersOf(t, 'Seats');
    expect([leaver, firstBlocked, 's5'].map((name) => users.get(name!)?.status)).toEqual(['disabled', 'active', 'blocked']);
    expect((await auditOf(t, third.runId)).filter((r) => r.action === 'activated').map((r) => r.subject)).toEqual([firstBlocked]);
    expect(await t.app.deps.licences.used()).toBe(3);
  });
});

describe('licences recount', () => {
  it('rebuilds a ledger that drifted from the users: active users of every directory and local accounts count', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Seat-Initial-1', USERSYNC_LICENCE_LIMIT: '5' });
    await putProfile(t, csvProfile('Recount', 'recount.csv'));
    await uploadCsv(t, 'recount.csv', csv('r1', 'r2', 'r3', 'r4'));
    await syncNow(t, 'Recount');
    await uploadCsv(t, 'recount.csv', csv('r1', 'r2', 'r3'));
    expect((await syncNow(t, 'Recount')).counts).toMatchObject({ disabled: 1 });
    await addLocalAccount(t.app.deps, { username: 'rita.local', email: 'rita@intranet.example', firstName: 'Rita', lastName: 'Local' }, 'cli:tester');
    expect(await t.app.deps.licences.used()).toBe(4);
    // A hand edit of the ledger row (Storage Explorer) leaves it wrong: as if no licence were in use.
    await t.table('licencesTable').upsertEntity({ partitionKey: 'licence', rowKey: 'seats', used: 0, operations: '{}' }, 'Replace');
    expect(await t.app.deps.licences.used()).toBe(0);

    const out: string[] = [];
    const code = await runCli(['licences', 'recount'], { client: localAdminClient(t.app, t.definitions), io: { out: (l) => out.push(l), err: (l) => out.push(l) } });
    expect([code, out]).toEqual([0, ['Licences in use: 4 of 5.', 'CONNECTION  ACTIVE  BLOCKED', 'local       1       0', 'Recount     3       0']]);
    expect(await t.app.deps.licences.used()).toBe(4);
    // The ledger is right again: one licence is left, so of two newcomers one is blocked.
    await uploadCsv(t, 'recount.csv', csv('r1', 'r2', 'r3', 'r5', 'r6'));
    expect((await syncNow(t, 'Recount')).counts).toMatchObject({ created: 1, blocked: 1 });
  });
});
