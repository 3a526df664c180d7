import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { paths } from '../../shared/sync/pipeline/staging.js';
import type { SyncDependencies } from '../../shared/sync/dependencies.js';
import type { FileStore } from '../../shared/sync/ports.js';
import { BUCKET_COUNT, SHARD_COUNT, shardOfBucket } from '../../shared/sync/rules/partitioning.js';
import type { Run } from '../../shared/sync/run-model.js';
import { startGraphServer, type FakeTenant, type GraphServer } from '../fakes/graph-server.js';
import { outcomeOf, stepped, steppedSync, type DriveOptions, type Outcome, type QueuedJob, type SteppedApp } from '../support/step-driver.js';
import { createTestApp, putProfile, fakeEntraProfile } from '../support/test-app.js';

/**
 * Issue 16: a run reconciles in as many shards as its listing calls for (16 to 256, a power of two, chosen
 * when the listing ends from the bytes it staged: USERSYNC_SHARD_BYTES a shard), recorded on the run row.
 * The same directory synced in 16, 64 or 256 shards must give the same users, groups, audit trail and counts.
 */

describe('the shard count grows with the listing', () => {
  let server: GraphServer;
  beforeAll(async () => {
    server = await startGraphServer({ cert: inject('tlsCert'), key: inject('tlsKey') });
  });
  afterAll(() => server.close());

  const SECRET = 'shards-secret-value';
  /** Per shard: the 48-user listing below stages ~20 kB, so 16, 64 and 256 shards (1 byte: as many as there are buckets). */
  const BYTES = { 16: undefined, 64: '400', 256: '1' } as const;

  /** 48 people in one selected group, a manager each (but the first), six department groups group sync keeps. */
  function tenant(): FakeTenant {
    const a = server.addTenant(randomUUID(), { clientId: randomUUID(), clientSecret: SECRET });
    const ids = Array.from({ length: 48 }, (_, i) => `s${i.toString().padStart(2, '0')}`);
    for (const id of ids) a.addUser({ id, userPrincipalName: `${id}@contoso.com`, mail: `${id}@contoso.com`, givenName: id, surname: 'Shard', department: 'Sales' });
    for (const id of ids.slice(1)) a.updateUser(id, { managerId: ids[Math.floor(Number(id.slice(1)) / 4)]! });
    a.addGroup({ id: 'all', displayName: 'Intranet-All', members: ids });
    for (let g = 0; g < 6; g++) a.addGroup({ id: `team${g}`, displayName: `Intranet-Team${g}`, members: ids.filter((_, i) => i % 6 === g) });
    return a;
  }

  /** Since the first sync: four people left (disabled: missing from a complete listing), two renamed, one joined. */
  function change(a: FakeTenant): void {
    a.setMembers('all', [...Array.from({ length: 44 }, (_, i) => `s${i.toString().padStart(2, '0')}`), 's48']);
    a.addUser({ id: 's48', userPrincipalName: 's48@contoso.com', mail: 's48@contoso.com', givenName: 's48', surname: 'New', department: 'Legal' });
    a.setMembers('all', [...Array.from({ length: 44 }, (_, i) => `s${i.toString().padStart(2, '0')}`), 's48']);
    a.updateUser('s03', { surname: 'Renamed' });
    a.updateUser('s17', { department: 'Legal' });
  }

  async function appFor(a: FakeTenant, bytes: string | undefined): Promise<SteppedApp> {
    const t = await createTestApp({ SHARDS_SECRET: SECRET, USERSYNC_PAGE_SIZE: '5', ...(bytes ? { USERSYNC_SHARD_BYTES: bytes } : {}) });
    await putProfile(
      t,
      fakeEntraProfile('Shards', { ...a, graphUrl: server.url, secretName: 'SHARDS_SECRET' }, {
        attributeMap: { department: 'department' },
        groups: { mode: 'regex', pattern: '^Intranet-', keepLocalGroups: false },
      }),
    );
    return stepped(t);
  }

  /** What must not depend on the shard count: the shards' own rows and bookkeeping left out, refs and ids too. */
  function comparable(outcome: Outcome): unknown {
    const { shards: _shards, shardsDone: _done, pagesFetched: _pages, chains: _chains, nextCheckpoint: _checkpoint, ...run } = outcome.run as Partial<Run>;
    const text = JSON.stringify({ ...outcome, shards: undefined, run }).replace(/"(ref|sourceRef)":"[^"]*"/g, '"$1":""');
    return JSON.parse(text) as unknown;
  }

  /** A first sync, the directory changes, a second sync: both runs' outcomes. */
  async function twoSyncs(
    bytes: string | undefined,
    options: DriveOptions & { prepare?: (deps: SyncDependencies) => void } = {},
  ): Promise<{ runs: Run[]; outcomes: unknown[]; app: SteppedApp }> {
    const a = tenant();
    const app = await appFor(a, bytes);
    options.prepare?.(app.deps);
    const first = (await steppedSync(app, 'Shards', options)).run;
    const firstOutcome = comparable(await outcomeOf(app.deps, 'Shards', first));
    change(a);
    const second = (await steppedSync(app, 'Shards', options)).run;
    return { runs: [first, second], outcomes: [firstOutcome, comparable(await outcomeOf(app.deps, 'Shards', second))], app };
  }

  let reference: unknown[];
  beforeAll(async () => {
    const { runs, outcomes } = await twoSyncs(BYTES[16]);
    expect(runs.map((run) => [run.state, run.shards])).toEqual([
      ['succeeded', 16],
      ['succeeded', 16],
    ]);
    expect(runs.map((run) => run.counts)).toMatchObject([{ created: 48 }, { created: 1, updated: 2, disabled: 4 }]);
    reference = outcomes;
  });

  it.each([64, 256] as const)('a run whose listing calls for %i shards records them, reconciles in them, and lands exactly what 16 do', async (shards) => {
    const { runs, outcomes, app } = await twoSyncs(BYTES[shards]);
    expect(runs.map((run) => [run.state, run.shards, run.shardsDone])).toEqual([
      ['succeeded', shards, shards],
      ['succeeded', shards, shards],
    ]);
    for (const run of runs) expect((await app.deps.runs.listShardResults(run.runId)).map((result) => result.shard).sort((x, y) => x - y)).toEqual([...Array(shards).keys()]);
    expect(outcomes).toEqual(reference);
  });

  it('every message delivered twice, under a USERSYNC_SHARD_BYTES that changes on every read (a redeploy mid-run): each run decides once and keeps its count', async () => {
    let reads = 0;
    const { runs, outcomes, app } = await twoSyncs(BYTES[64], {
      modeOf: () => 'twice',
      prepare: (deps) => Object.defineProperty(deps, 'shardBytes', { get: () => Number([BYTES[64], BYTES[256]][reads++ % 2]) }),
    });
    // The end of each listing is delivered twice; the second delivery finds the recorded count and reads no setting.
    expect(reads).toBe(2);
    expect(runs.map((run) => [run.state, run.shards, run.shardsDone])).toEqual([
      ['succeeded', 64, 64],
      ['succeeded', 256, 256],
    ]);
    for (const run of runs) expect(await app.deps.runs.listShardResults(run.runId)).toHaveLength(run.shards!);
    expect(outcomes).toEqual(reference);
  });

  it('a run recorded before runs chose their count (no shards on its row, pages staged a section per shard of 16) reconciles in 16', async () => {
    const app = await appFor(tenant(), BYTES[64]);
    let asBefore = false;
    const { run } = await steppedSync(app, 'Shards', {
      // When its listing has ended, make the run what the earlier version left: no count, pages of 16 sections.
      intercept: async (job: QueuedJob) => {
        if (job.queue !== 'reconcile' || asBefore) return false;
        asBefore = true;
        const { runId } = job.message as { runId: string };
        await app.deps.runs.update(runId, ({ shards: _shards, ...before }) => before);
        await stageAsBefore(app.deps.runFiles, runId);
        return false;
      },
    });
    expect(asBefore).toBe(true);
    expect(run).toMatchObject({ state: 'succeeded', shardsDone: 16, counts: { created: 48 } });
    expect(run.shards).toBeUndefined();
    expect(comparable(await outcomeOf(app.deps, 'Shards', run))).toEqual(reference[0]);
  });
});

/** Rewrites a run's staged pages as the earlier version staged them: a section per shard of 16, 17 offsets. */
async function stageAsBefore(files: FileStore, runId: string): Promise<void> {
  for (const page of await files.list(paths.pages(runId))) {
    const offsets = (page.metadata.sections ?? '').split(',').map(Number);
    const content = (await files.get(page.path))!;
    const byShard = Array.from({ length: SHARD_COUNT }, (): unknown[] => []);
    for (let bucket = 0; bucket < BUCKET_COUNT; bucket++) {
      if (offsets[bucket + 1] === offsets[bucket]) continue;
      byShard[shardOfBucket(bucket)]!.push(...(JSON.parse(String(content.subarray(offsets[bucket], offsets[bucket + 1]))) as unknown[]));
    }
    const sections = byShard.map((entries) => (entries.length ? JSON.stringify(entries) : ''));
    const before = [0];
    for (const section of sections) before.push(before.at(-1)! + Buffer.byteLength(section));
    await files.put(page.path, sections.join(''), { ...page.metadata, sections: before.join(',') });
  }
}
