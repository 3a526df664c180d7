import { BlobServiceClient } from '@azure/storage-blob';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPassword } from '../../../shared/sync/rules/passwords.js';
import { startCsvServer, type CsvServer } from '../../fakes/csv-server.js';
import { auditOf, createTestApp, putProfile, syncNow, usersOf, type TestApp } from '../../support/test-app.js';

const FILE = 'username,email,firstName,lastName,password\nana,ana@example.org,Ana,Remote,\nben,ben@example.org,Ben,Remote,Own-Row-Pa55!\n';
const CSV_PASSWORD = 'Remote-Csv-Secret-42';
const DEFAULT_PASSWORD = 'Default-Initial-Secret-7';

describe('remote CSV over HTTP(S) with basic authentication', () => {
  let server: CsvServer;
  let t: TestApp;
  beforeAll(async () => {
    server = await startCsvServer({ '/exports/people.csv': FILE }, { username: 'hr-sync', password: CSV_PASSWORD });
    // The fake listens on 127.0.0.1, a loopback address remote sources may reach only when allowed.
    t = await createTestApp({ USERSYNC_ALLOW_INSECURE_HTTP: 'true', USERSYNC_ALLOW_PRIVATE_SOURCES: 'true', HR_CSV_PASSWORD: CSV_PASSWORD, WRONG_PASSWORD: 'nope', DEFAULT_PW: DEFAULT_PASSWORD });
  });
  afterAll(() => server.close());

  const remote = (name: string, path: string, passwordSecret = 'HR_CSV_PASSWORD') =>
    putProfile(t, {
      name,
      type: 'csv',
      schedule: { kind: 'off' },
      source: { kind: 'https', url: server.url(path), username: 'hr-sync', passwordSecret },
      defaultPasswordSecret: 'DEFAULT_PW',
    });

  it('downloads with the named credentials, creates the users and hashes their initial passwords', async () => {
    await remote('Remote', '/exports/people.csv');
    const run = await syncNow(t, 'Remote');
    expect(run).toMatchObject({ state: 'succeeded', counts: { created: 2 } });
    expect(server.requests.at(-1)).toEqual({
      path: '/exports/people.csv',
      authorization: `Basic ${Buffer.from(`hr-sync:${CSV_PASSWORD}`).toString('base64')}`,
    });
    const users = await usersOf(t, 'Remote');
    // ana has no password in her row: the default; ben's own row password.
    expect(await verifyPassword(DEFAULT_PASSWORD, users.get('ana')!.passwordHash!)).toBe(true);
    expect(await verifyPassword('Own-Row-Pa55!', users.get('ben')!.passwordHash!)).toBe(true);
    expect(users.get('ben')!.passwordHash).toMatch(/^scrypt\$/);
    expect(users.get('ben')!.attributes).toEqual({}); // the password column is not an attribute
  });

  it('keeps every secret out of tables, audit records and staged files', async () => {
    const secrets = [CSV_PASSWORD, DEFAULT_PASSWORD, 'Own-Row-Pa55!'];
    for (const name of ['usersTable', 'auditTable', 'runsTable', 'connectionsTable'] as const) {
      for await (const entity of t.table(name).listEntities()) {
        const text = JSON.stringify(entity);
        for (const secret of secrets) expect(text).not.toContain(secret);
      }
    }
    // What remains of a finished run in blob storage is only its archived input, without the passwords.
    const blobs = BlobServiceClient.fromConnectionString(t.env.AzureWebJobsStorage!).getContainerClient(t.app.config.names.runsContainer);
    const names: string[] = [];
    for await (const blob of blobs.listBlobsFlat()) {
      names.push(blob.name);
      const text = (await blobs.getBlobClient(blob.name).downloadToBuffer()).toString('utf8');
      for (const secret of secrets) expect(text).not.toContain(secret);
    }
    expect(names.length).toBeGreaterThan(0);
    expect(names.every((name) => name.endsWith('/archive.csv'))).toBe(true);
  });

  it('fails clearly on rejected credentials, without echoing them, and disables no one', async () => {
    await remote('Rejected', '/exports/people.csv', 'WRONG_PASSWORD');
    const run = await syncNow(t, 'Rejected');
    expect(run).toMatchObject({ state: 'failed', error: { code: 'source-auth-failed' } });
    expect(run.error?.message).toMatch(/HTTP 401/);
    expect(run.error?.message).not.toContain('nope');
    const failed = (await auditOf(t, run.runId)).find((r) => r.action === 'run-failed');
    expect(failed?.reason).toBe('source-auth-failed');
  });

  it('retries an outage, then fails the run as unavailable', async () => {
    server.failWith.set('/exports/down.csv', 503);
    await remote('Outage', '/exports/down.csv');
    const before = server.requests.filter((r) => r.path === '/exports/down.csv').length;
    const run = await syncNow(t, 'Outage');
    expect(run).toMatchObject({ state: 'failed', error: { code: 'source-unavailable' } });
    expect(server.requests.filter((r) => r.path === '/exports/down.csv').length - before).toBe(5);
  });

  it('refuses plain http unless the test-only setting allows it', async () => {
    const strict = await createTestApp({ HR_CSV_PASSWORD: CSV_PASSWORD, DEFAULT_PW: DEFAULT_PASSWORD });
    await putProfile(strict, {
      name: 'Insecure',
      type: 'csv',
      schedule: { kind: 'off' },
      source: { kind: 'https', url: server.url('/exports/people.csv'), username: 'hr-sync', passwordSecret: 'HR_CSV_PASSWORD' },
      defaultPasswordSecret: 'DEFAULT_PW',
    });
    const requestsBefore = server.requests.length;
    const run = await syncNow(strict, 'Insecure');
    expect(run).toMatchObject({ state: 'failed', error: { code: 'source-insecure-url' } });
    expect(server.requests.length).toBe(requestsBefore); // the credentials never left
  });
});
