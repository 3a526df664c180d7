import { execFile, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiHost, type ApiHost } from '../support/api-host.js';
import { closedPort } from '../support/ports.js';

/** `npx usersync` as a newcomer meets it: the bin entry, run by node with only a PATH (and the settings given). */
function usersync(args: string[], env: Record<string, string> = {}) {
  // Run from an empty folder, so a developer's own local.settings.json cannot answer for the test.
  return spawnSync(process.execPath, [resolve('bin/usersync.js'), ...args], {
    cwd: tmpdir(),
    env: { PATH: process.env.PATH ?? '', HOME: tmpdir(), ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}


const STACK_FRAME = /^\s+at /m;

describe('the usersync bin', () => {
  it('prints its help without any settings', () => {
    const result = usersync(['--help']);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/^usersync — User Directory Sync admin CLI/);
    expect(result.stdout).toContain('usersync sync NAME [--dry-run] [--from-run RUN_ID] [--incremental]');
  });

  it("prints a command's usage for --help, without any settings, and exits 0", () => {
    const result = usersync(['sync', '--help']);
    expect(result).toMatchObject({ status: 0, stderr: '' });
    expect(result.stdout.split('\n').slice(0, 2)).toEqual(['Usage:', '  usersync sync NAME [--dry-run] [--from-run RUN_ID] [--incremental] [--json]']);
  });

  it("answers an unknown flag with the command's usage on stderr and exit 2, no stack trace", () => {
    const result = usersync(['audit', '--limt', '5']);
    expect(result).toMatchObject({ status: 2, stdout: '' });
    expect(result.stderr.split('\n')[0]).toMatch(/^error \[usage-invalid\]: Unknown option '--limt'/);
    expect(result.stderr).toContain('usersync audit [--run RUN_ID]');
    expect(result.stderr).not.toMatch(STACK_FRAME);
  });

  it('says which setting is missing instead of failing obscurely', () => {
    const result = usersync(['status']);
    expect(result.status).toBe(2);
    expect(result.stderr).toBe('error [config-invalid]: Invalid app settings: AzureWebJobsStorage: set a storage connection string, or AzureWebJobsStorage__accountName for identity-based storage\n');
  });

  it('says in one line that storage is not reachable, and how to start Azurite; exit 2', async () => {
    const port = await closedPort();
    const endpoint = (service: string) => `${service}Endpoint=http://127.0.0.1:${port}/devstoreaccount1;`;
    const result = usersync(['status'], {
      AzureWebJobsStorage: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${Buffer.from('not a real key').toString('base64')};${endpoint('Blob')}${endpoint('Queue')}${endpoint('Table')}`,
    });
    expect(result).toMatchObject({ status: 2, stdout: '' });
    expect(result.stderr).toBe(`error [storage-unreachable]: Cannot reach storage at 127.0.0.1:${port} — is Azurite running? Start it with \`npm run azurite\`.\n`);
  });

  it('says in one line that identity-based storage found no Azure credential, naming az login; exit 2', () => {
    const result = usersync(['status'], { AzureWebJobsStorage__accountName: 'usersynctest' });
    expect(result).toMatchObject({ status: 2, stdout: '' });
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^error \[storage-auth-failed\]: .*no Azure credential worked\. Sign in with `az login`/)]);
  });
});

describe('usersync --url (the bin)', () => {
  let server: ApiHost | undefined;
  afterEach(() => server?.stop());

  it('administers the app a local host serves through its API, with no storage setting', async () => {
    server = await startApiHost();
    // Not spawnSync: the host answering is in this process.
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      const child = execFile(process.execPath, [resolve('bin/usersync.js'), '--url', server!.host.httpUrl, 'connection', 'list'], {
        cwd: tmpdir(),
        env: { PATH: process.env.PATH ?? '', HOME: tmpdir() },
        encoding: 'utf8',
        timeout: 60_000,
      }, (_error, stdout, stderr) => done({ code: child.exitCode ?? -1, stdout, stderr }));
    });
    expect(result).toEqual({ code: 0, stdout: 'No connection profiles yet: usersync connection put FILE.json\n', stderr: '' });
  });

  it('takes the address from USERSYNC_URL; one beyond this machine without a scope is refused in one line, exit 2', () => {
    const result = usersync(['status'], { USERSYNC_URL: 'https://usersync.example.org' });
    expect(result).toMatchObject({ status: 2, stdout: '' });
    expect(result.stderr).toBe(
      "error [config-invalid]: Signing in to usersync.example.org needs the API's scope: set USERSYNC_API_SCOPE (azd env get-value USERSYNC_API_SCOPE) or pass --scope api://<app id>/.default.\n",
    );
  });

  it('says in one line that nothing answers at the address; exit 2, no stack trace', async () => {
    const port = await closedPort();
    const result = usersync(['--url', `http://127.0.0.1:${port}`, 'status']);
    expect(result).toMatchObject({ status: 2, stdout: '' });
    expect(result.stderr).toBe(`error [api-unreachable]: Cannot reach the app at http://127.0.0.1:${port} (ECONNREFUSED) — is the local host running? Start it with \`npm start\`.\n`);
  });
});

describe('npm start (the local host)', () => {
  it('says in one line that storage is not reachable, and how to start Azurite; exit 2, no stack trace', async () => {
    const port = await closedPort();
    const endpoint = (service: string) => `${service}Endpoint=http://127.0.0.1:${port}/devstoreaccount1;`;
    // From an empty folder (no local.settings.json), with tsx's loader named by its path.
    const result = spawnSync(process.execPath, ['--import', pathToFileURL(resolve('node_modules/tsx/dist/loader.mjs')).href, resolve('bin/local-host.ts')], {
      cwd: tmpdir(),
      env: {
        PATH: process.env.PATH ?? '',
        HOME: tmpdir(),
        AzureWebJobsStorage: `DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=${Buffer.from('not a real key').toString('base64')};${endpoint('Blob')}${endpoint('Queue')}${endpoint('Table')}`,
      },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result).toMatchObject({ status: 2, stdout: '' });
    expect(result.stderr).toBe(`error [storage-unreachable]: Cannot reach storage at 127.0.0.1:${port} — is Azurite running? Start it with \`npm run azurite\`.\n`);
  });
});
