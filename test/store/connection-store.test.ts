import { beforeEach, describe, expect, it, vi } from 'vitest';
import { parseProfile, type ConnectionProfile, type ConnectionProfileInput } from '../../shared/connections/profile.js';
import type { ConnectionState, ConnectionStore, StoredConnection } from '../../shared/sync/ports.js';
import { createTestApp } from '../support/test-app.js';

/** The ConnectionStore contract: any adapter (Table Storage, an in-memory fake) must pass it. */
export function describeConnectionStoreContract(name: string, make: () => Promise<ConnectionStore>): void {
  describe(`ConnectionStore contract: ${name}`, () => {
    let store: ConnectionStore;
    beforeEach(async () => {
      store = await make();
    });

    it('put creates a profile with a dk… directory key, empty state and created: true', async () => {
      const profile = csv('People', 'people.csv');
      const { connection, created } = await store.put(profile, T1);

      expect(created).toBe(true);
      expect(connection.directoryKey).toMatch(/^dk[a-z0-9]+$/);
      const expected: StoredConnection = { profile, directoryKey: connection.directoryKey, createdAt: T1, updatedAt: T1, state: {} };
      expect(connection).toStrictEqual(expected);
      expect(await store.get('People')).toStrictEqual(expected);
      expect(await store.list()).toStrictEqual([expected]);
      expect(await store.get('Nobody')).toBeUndefined();
    });

    it('a second put replaces the profile but keeps directory key, createdAt and state (created: false)', async () => {
      const first = await store.put(csv('People', 'people.csv'), T1);
      const state: ConnectionState = { lastRunId: '20260101T000000Z-aaaaaa', lastRunStatus: 'succeeded', resetRequestedAt: T1 };
      await store.updateState('People', () => state);

      const changed = csv('People', 'people-v2.csv', { enabled: false, schedule: { kind: 'interval', minutes: 30 }, matchField: 'email' });
      const second = await store.put(changed, T2);

      expect(second.created).toBe(false);
      const expected: StoredConnection = { profile: changed, directoryKey: first.connection.directoryKey, createdAt: T1, updatedAt: T2, state };
      expect(second.connection).toStrictEqual(expected);
      expect(await store.get('People')).toStrictEqual(expected);
      expect(await store.list()).toHaveLength(1);
    });

    it('names are unique case-insensitively: "HR" and "hr" are one profile', async () => {
      const first = await store.put(csv('HR', 'hr.csv'), T1);
      const second = await store.put(csv('hr', 'hr-2.csv'), T2);

      expect(first.created).toBe(true);
      expect(second.created).toBe(false);
      expect(second.connection.directoryKey).toBe(first.connection.directoryKey);
      expect(second.connection.createdAt).toBe(T1);
      const all = await store.list();
      expect(all).toHaveLength(1);
      expect(all[0]?.profile).toStrictEqual(csv('hr', 'hr-2.csv'));
      expect(await store.get('HR')).toStrictEqual(second.connection);
      expect(await store.get('hr')).toStrictEqual(second.connection);
      expect(await store.get('Hr')).toStrictEqual(second.connection);
    });

    it('different profiles get different directory keys and list sorted by name', async () => {
      const names = ['Sales', 'alpha', 'HR Export', 'Zeta.Team', 'beta_2'];
      const keys = new Set<string>();
      for (const profileName of names) keys.add((await store.put(csv(profileName, `${profileName}.csv`), T1)).connection.directoryKey);
      expect(keys.size).toBe(names.length);
      expect((await store.list()).map((c) => c.profile.name)).toEqual(['alpha', 'beta_2', 'HR Export', 'Sales', 'Zeta.Team']);
    });

    it('concurrent first puts of one name create it exactly once', async () => {
      const results = await Promise.all(Array.from({ length: 6 }, (_, i) => store.put(csv('Racy', `racy-${i}.csv`), T1)));
      expect(results.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(results.map((r) => r.connection.directoryKey)).size).toBe(1);
      const stored = await store.get('Racy');
      expect(stored?.directoryKey).toBe(results[0]?.connection.directoryKey);
      expect(await store.list()).toHaveLength(1);
    });

    it('updateState under concurrent changes keeps every change', async () => {
      await store.put(csv('Busy', 'busy.csv'), T1);
      const fields: (keyof ConnectionState)[] = [
        'activeRunId',
        'activeRunSince',
        'lastRunId',
        'lastRunStartedAt',
        'lastRunEndedAt',
        'lastManualRunAt',
        'resetRequestedAt',
      ];
      const increments = 12;
      await Promise.all([
        ...fields.map((field) => store.updateState('Busy', (current) => ({ ...current.state, [field]: `set-${field}` }))),
        ...Array.from({ length: increments }, () =>
          store.updateState('Busy', (current) => ({ ...current.state, lastRunStatus: String(Number(current.state.lastRunStatus ?? '0') + 1) })),
        ),
      ]);

      const stored = await store.get('Busy');
      const expected: ConnectionState = { lastRunStatus: String(increments) };
      for (const field of fields) expected[field] = `set-${field}`;
      expect(stored?.state).toStrictEqual(expected);
      expect(stored?.profile).toStrictEqual(csv('Busy', 'busy.csv'));
    });

    it('updateState passes the latest connection, stores the result and returns it', async () => {
      const { connection } = await store.put(csv('Flow', 'flow.csv'), T1);
      await store.updateState('Flow', () => ({ activeRunId: 'r1', activeRunSince: T1 }));
      const change = vi.fn((current: StoredConnection): ConnectionState => {
        const { activeRunId: _id, activeRunSince: _since, ...rest } = current.state;
        return { ...rest, lastRunId: 'r1', lastRunStatus: 'succeeded' };
      });
      const returned = await store.updateState('flow', change);

      expect(change).toHaveBeenCalledWith({ ...connection, state: { activeRunId: 'r1', activeRunSince: T1 } });
      const expected: StoredConnection = { ...connection, state: { lastRunId: 'r1', lastRunStatus: 'succeeded' } };
      expect(returned).toStrictEqual(expected);
      expect(await store.get('Flow')).toStrictEqual(expected);
    });

    it('updateState returning undefined leaves the state; on a missing name it is undefined', async () => {
      await store.put(csv('Still', 'still.csv'), T1);
      await store.updateState('Still', () => ({ lastRunId: 'keep' }));
      const before = await store.get('Still');
      expect(await store.updateState('Still', () => undefined)).toStrictEqual(before);
      expect(await store.get('Still')).toStrictEqual(before);

      const change = vi.fn(() => ({ lastRunId: 'x' }));
      expect(await store.updateState('Missing', change)).toBeUndefined();
      expect(change).not.toHaveBeenCalled();
      expect(await store.get('Missing')).toBeUndefined();
    });

    it('rejects an invalid profile with profile-invalid and stores nothing', async () => {
      const invalid = { ...csv('Bad', 'bad.csv'), name: 'bad/name#', schedule: { kind: 'interval', minutes: 1 } } as unknown as ConnectionProfile;
      await expect(store.put(invalid, T1)).rejects.toMatchObject({ code: 'profile-invalid' });
      expect(await store.get('bad/name#')).toBeUndefined();
      expect(await store.list()).toEqual([]);

      const good = await store.put(csv('Kept', 'kept.csv'), T1);
      const broken = { ...csv('Kept', 'kept.csv'), source: { kind: 'blob', blobName: '' } } as unknown as ConnectionProfile;
      await expect(store.put(broken, T2)).rejects.toMatchObject({ code: 'profile-invalid' });
      expect(await store.get('Kept')).toStrictEqual(good.connection);
    });
  });
}

const T1 = '2026-05-01T09:00:00.000Z';
const T2 = '2026-05-02T09:00:00.000Z';

function csv(name: string, blobName: string, extra: Partial<ConnectionProfileInput> = {}): ConnectionProfile {
  return parseProfile({ name, type: 'csv', source: { kind: 'blob', blobName }, schedule: { kind: 'off' }, ...extra });
}

describeConnectionStoreContract('Table Storage on Azurite', async () => (await createTestApp()).app.deps.connections);
