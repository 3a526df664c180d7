import { describe, expect, it } from 'vitest';
import { LOCAL_ADMIN } from '../../shared/http/caller.js';
import { runCli } from '../../shared/cli/cli.js';
import { processIo } from '../../shared/cli/output.js';
import { handleApi } from '../../shared/http/api.js';
import { localAdminClient } from '../../shared/host/local-admin-client.js';
import { startRun } from '../../shared/sync/pipeline/start-run.js';
import { handle, stepped, type SteppedApp } from '../support/step-driver.js';
import { createTestApp, csvProfile, putProfile, uploadCsv, type TestApp } from '../support/test-app.js';

/**
 * A run reports how far it has come: `GET /runs/{id}` adds `progress` (pages read, shards done of 16, the
 * counts so far), and `usersync sync` shows it while it waits — one line rewritten on a terminal, plain
 * lines elsewhere, none with `--json`.
 */
const CSV = `username,email,firstName,lastName\n${['ann', 'bob', 'cid', 'dan', 'eve', 'fay'].map((name) => `${name},${name}@example.org,${name},Progress`).join('\n')}\n`;

async function progressApp(): Promise<TestApp> {
  const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Progress-Initial-1' });
  await uploadCsv(t, 'progress.csv', CSV);
  await putProfile(t, csvProfile('Progress', 'progress.csv'));
  return t;
}

/** Delivers the pending jobs of one queue (the run's pages, or its shards), as workers would. */
async function work(app: SteppedApp, queue: 'pages' | 'reconcile'): Promise<void> {
  for (let job = app.queue.pending.find((pending) => pending.queue === queue); job; job = app.queue.pending.find((pending) => pending.queue === queue)) {
    app.queue.pending.splice(app.queue.pending.indexOf(job), 1);
    await handle(app.deps, job);
  }
}

const get = async (t: TestApp, runId: string) => (await handleApi(t.app, { method: 'GET', path: `runs/${runId}`, query: new URLSearchParams() }, LOCAL_ADMIN)).jsonBody as Record<string, unknown>;

describe('GET /runs/{id}: progress', () => {
  it('pages read, shards done of 16, and the counts the landed shards hold while the run goes on; the run\'s own once it ends', async () => {
    const t = await progressApp();
    const app = stepped(t);
    const { runId } = await startRun(app.deps, { connection: 'Progress', trigger: 'manual', startedBy: 'cli:tester' });
    const none = { created: 0, updated: 0, unchanged: 0, disabled: 0, 're-enabled': 0, blocked: 0, activated: 0, conflict: 0, skipped: 0 };
    expect(await get(t, runId)).toMatchObject({ state: 'listing', progress: { pagesRead: 0, shardsDone: 0, shards: 16, counts: none } });

    await work(app, 'pages');
    expect(await get(t, runId)).toMatchObject({ state: 'reconciling', progress: { pagesRead: 2, shardsDone: 0, shards: 16, counts: none } });

    await work(app, 'reconcile');
    // Every shard has landed, finalise has not run: the run's own counts are still empty, the progress has them.
    expect(await get(t, runId)).toMatchObject({ state: 'finalising', counts: none, progress: { pagesRead: 2, shardsDone: 16, counts: { ...none, created: 6 } } });

    const finalise = app.queue.pending.splice(0);
    for (const job of finalise) await handle(app.deps, job);
    const ended = await get(t, runId);
    expect(ended).toMatchObject({ state: 'succeeded', counts: { created: 6 }, progress: { shardsDone: 16, counts: { created: 6 } } });
    expect((ended.progress as { counts: unknown }).counts).toEqual(ended.counts);
  });
});

describe('usersync sync: progress while it waits', () => {
  const cli = async (t: TestApp, ...args: string[]) => {
    const out: string[] = [];
    const progress: string[] = [];
    const client = localAdminClient(t.app, t.definitions);
    const code = await runCli(args, { client, io: { out: (line) => out.push(line), err: (line) => out.push(line), progress: (line) => progress.push(line) } });
    return { code, out, progress };
  };

  it('shows where the run stands as it takes it over, then the summary', async () => {
    const t = await progressApp();
    const app = stepped(t);
    const { runId } = await startRun(app.deps, { connection: 'Progress', trigger: 'manual', startedBy: 'cli:tester' });
    await work(app, 'pages');
    await work(app, 'reconcile');
    // What is left (finalise) goes to the app's queues, for the CLI's driver to work.
    for (const job of app.queue.pending.splice(0)) await t.app.deps.queue.send(job.queue, job.message);

    const sync = await cli(t, 'sync', 'Progress');
    expect(sync.code).toBe(0);
    expect(sync.progress[0]).toBe('finalising: 2 page(s) read, 16 of 16 shards done; so far 6 created');
    expect(sync.progress.every((line) => /^(listing|reconciling|finalising): \d+ page\(s\) read, \d+ of 16 shards done/.test(line))).toBe(true);
    expect(sync.out[0]).toMatch(new RegExp(`^Run ${runId} \\(full\\) of "Progress" is still going`));
    expect(sync.out).toContainEqual(`Run ${runId} succeeded: 6 created, 0 updated, 0 unchanged, 0 disabled, 0 re-enabled, 0 blocked, 0 activated, 0 conflict, 0 skipped.`);
  });

  it('--json: no progress and no other line, only the ended run as GET /runs/{id} shows it', async () => {
    const t = await progressApp();
    const sync = await cli(t, 'sync', 'Progress', '--json');
    expect(sync.code).toBe(0);
    expect(sync.progress).toEqual([]);
    expect(sync.out).toHaveLength(1);
    const run = JSON.parse(sync.out[0]!) as { runId: string };
    expect(run).toMatchObject({ state: 'succeeded', counts: { created: 6 }, progress: { pagesRead: 2, shardsDone: 16, counts: { created: 6 } } });
    expect(run).toEqual(await get(t, run.runId));
  });
});

describe('the CLI process output', () => {
  const stream = (isTTY: boolean) => {
    const written: string[] = [];
    return { written, isTTY, columns: 30, write: (text: string) => written.push(text) };
  };

  /** Progress twice the same, then changed, then a result and a warning: what each stream received. */
  const written = (isTTY: boolean) => {
    const [stdout, stderr] = [stream(isTTY), stream(isTTY)];
    const io = processIo(stdout, stderr);
    io.progress!('listing: 1 page(s) read');
    io.progress!('listing: 1 page(s) read');
    io.progress!('reconciling: 2 page(s) read, 3 of 16 shards done');
    io.out('Run done.');
    io.err('warning');
    return { stdout: stdout.written, stderr: stderr.written };
  };

  it('on a terminal: progress on stderr as one line rewritten in place (cut to the width), cleared before other output', () => {
    expect(written(true)).toEqual({
      stdout: ['Run done.\n'],
      stderr: ['\r\x1b[2Klisting: 1 page(s) read', '\r\x1b[2Kreconciling: 2 page(s) read, ', '\r\x1b[2K', 'warning\n'],
    });
  });

  it('elsewhere (a log, CI): a plain line on stderr each time the progress changes', () => {
    expect(written(false)).toEqual({
      stdout: ['Run done.\n'],
      stderr: ['listing: 1 page(s) read\n', 'reconciling: 2 page(s) read, 3 of 16 shards done\n', 'warning\n'],
    });
  });
});
