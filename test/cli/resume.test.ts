import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startRun } from '../../shared/sync/pipeline/start-run.js';
import { cliOn } from '../support/cli.js';
import { auditOf, createTestApp, csvProfile, putProfile, uploadCsv, usersOf } from '../support/test-app.js';

const CSV = 'username,email,firstName,lastName\nann,ann@example.org,Ann,Resume\nbob,bob@example.org,Bob,Resume\n';

describe('a run whose driver stopped: usersync sync resumes it, usersync run cancel ends it', () => {
  it('sync NAME drives the run that is still going to its end, instead of refusing', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Resume-Initial-1' });
    await putProfile(t, csvProfile('Going', 'going.csv'));
    await uploadCsv(t, 'going.csv', CSV);
    // Started, its first page message queued, and nobody working the queues: what a killed CLI leaves.
    const started = await startRun(t.app.deps, { connection: 'Going', trigger: 'manual', startedBy: 'cli:tester' });

    const other = await cliOn(t, 'sync', 'Going', '--dry-run');
    expect(other.code).toBe(2);
    expect(other.err).toEqual([
      `error [run-active]: Run ${started.runId} of "Going" (sync without flags) is still going, and this asks for another kind of run: ` +
        `drive it to its end with \`usersync sync "Going"\`, or cancel it with \`usersync run cancel ${started.runId}\`.`,
    ]);

    const resumed = await cliOn(t, 'sync', 'Going');
    expect(resumed.code).toBe(0);
    expect(resumed.out[0]).toMatch(new RegExp(`^Run ${started.runId} \\(full\\) of "Going" is still going \\(listing, started ${started.startedAt}\\); driving it to its end\\.$`));
    expect(resumed.out.join('\n')).toContain(`Run ${started.runId} succeeded: 2 created`);
    expect((await t.app.deps.connections.get('Going'))?.state).toMatchObject({ lastRunId: started.runId, lastRunStatus: 'succeeded' });
    expect((await t.app.deps.runs.list({ connection: 'Going', limit: 10 })).map((run) => run.runId)).toEqual([started.runId]);
  });

  it('run cancel RUN_ID ends it, says who in the audit, and frees the profile; a second cancel is refused', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Resume-Initial-1' });
    await putProfile(t, csvProfile('Going', 'going.csv'));
    await uploadCsv(t, 'going.csv', CSV);
    const started = await startRun(t.app.deps, { connection: 'Going', trigger: 'manual', startedBy: 'cli:tester' });

    const cancelled = await cliOn(t, 'run', 'cancel', started.runId);
    expect(cancelled).toEqual({
      code: 0,
      out: [`Run ${started.runId} of "Going" cancelled; no one was disabled.`, `  what it had already created or updated stays: usersync audit --run ${started.runId}`],
      err: [],
    });
    expect((await auditOf(t, started.runId)).find((record) => record.action === 'run-cancelled')?.detail).toMatch(/^Cancelled by .+ \(usersync CLI\); no one was disabled\.$/);
    const status = await cliOn(t, 'status', 'Going');
    expect(status.out[1]).toMatch(new RegExp(`^${started.runId}\\s+Going\\s+cancelled\\s+manual`));
    const again = await cliOn(t, 'run', 'cancel', started.runId);
    expect(again).toMatchObject({ code: 2, err: [`error [run-not-active]: Run ${started.runId} has already ended (cancelled); only an active run can be cancelled.`] });
    expect((await cliOn(t, 'sync', 'Going')).code).toBe(0);
  });

  it('after `usersync sync` is killed mid-run, the next `usersync sync` takes the same run over and finishes it', async () => {
    const t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Resume-Initial-1', USERSYNC_ALLOW_INSECURE_HTTP: 'true', USERSYNC_ALLOW_PRIVATE_SOURCES: '127.0.0.1' });
    // The HR server answers nothing until the first CLI is gone: its page job is killed mid-read.
    let serving = false;
    let asked!: () => void;
    const firstRequest = new Promise<void>((resolveAsked) => (asked = resolveAsked));
    const server = http.createServer((_request, response) => {
      if (serving) response.writeHead(200, { 'content-type': 'text/csv' }).end(CSV);
      else asked();
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/people.csv`;
      await putProfile(t, csvProfile('Killed', 'unused.csv', { source: { kind: 'https', url } }));
      const child = spawn(process.execPath, [resolve('bin/usersync.js'), 'sync', 'Killed'], {
        cwd: tmpdir(),
        env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), ...t.env },
        stdio: 'ignore',
      });
      const exited = new Promise((done) => child.once('exit', done));
      // A CLI that ends before it asks (a refused address, a bad setting) fails here, not at the test's timeout.
      await Promise.race([firstRequest, exited.then((code) => Promise.reject(new Error(`usersync sync exited (${String(code)}) before reading the file`)))]);
      child.kill('SIGKILL');
      await exited;

      const stuck = (await t.app.deps.connections.get('Killed'))!.state;
      expect(stuck.activeRunId).toBeDefined();
      expect(await t.app.deps.runs.get(stuck.activeRunId!)).toMatchObject({ state: 'listing' });

      serving = true;
      // The page message the killed CLI held comes back when its lease lapses; the new CLI then reads the page.
      const resumed = await cliOn(t, 'sync', 'Killed');
      expect(resumed.code).toBe(0);
      expect(resumed.out[0]).toMatch(new RegExp(`^Run ${stuck.activeRunId} \\(full\\) of "Killed" is still going`));
      expect(resumed.out.join('\n')).toContain(`Run ${stuck.activeRunId} succeeded: 2 created`);
      expect([...(await usersOf(t, 'Killed')).keys()].sort()).toEqual(['ann', 'bob']);
      expect((await t.app.deps.connections.get('Killed'))?.state.activeRunId).toBeUndefined();
    } finally {
      server.closeAllConnections();
      await new Promise((closed) => server.close(closed));
    }
  }, 180_000);
});
