import { once } from 'node:events';
import net, { type AddressInfo, type LookupFunction } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { environmentSecrets } from '../../../shared/config/secrets.js';
import type { CsvProfile } from '../../../shared/connections/profile.js';
import { AppError } from '../../../shared/errors/app-error.js';
import { openRemoteCsv, type RemoteCsvOptions } from '../../../shared/providers/csv/remote-csv.js';
import { startCsvServer, type CsvServer } from '../../fakes/csv-server.js';
import { createTestCertificate } from '../../fakes/tls.js';
import { putProfile, syncNow, usersOf, createTestApp } from '../../support/test-app.js';

const FILE = 'username,email,firstName,lastName\nana,ana@example.org,Ana,Remote\n';
const PASSWORD = 'Remote-Csv-Secret-42';
const credentials = { username: 'hr-sync', password: PASSWORD };
const basic = `Basic ${Buffer.from(`hr-sync:${PASSWORD}`).toString('base64')}`;
const trusted = () => ({ cert: inject('tlsCert'), key: inject('tlsKey') });

/** Runs a sync of `url` in a fresh app with the given settings. */
async function syncFrom(url: string, settings: Record<string, string>) {
  const t = await createTestApp({ HR_CSV_PASSWORD: PASSWORD, DEFAULT_PW: 'Default-Initial-1', ...settings });
  await putProfile(t, {
    name: 'Remote',
    type: 'csv',
    schedule: { kind: 'off' },
    source: { kind: 'https', url, username: 'hr-sync', passwordSecret: 'HR_CSV_PASSWORD' },
    defaultPasswordSecret: 'DEFAULT_PW',
  });
  return { t, run: await syncNow(t, 'Remote') };
}

describe('remote CSV: which addresses a download may reach', () => {
  let hr: CsvServer;
  let other: CsvServer;
  let plain: CsvServer;
  beforeAll(async () => {
    hr = await startCsvServer({ '/people.csv': FILE }, credentials, { tls: trusted() });
    other = await startCsvServer({ '/people.csv': FILE }, undefined, { tls: trusted() });
    plain = await startCsvServer({ '/people.csv': FILE }, credentials);
  });
  afterAll(async () => {
    await Promise.all([hr.close(), other.close(), plain.close()]);
  });

  it('refuses a loopback address before connecting unless USERSYNC_ALLOW_PRIVATE_SOURCES allows it', async () => {
    for (const url of [hr.url('/people.csv'), `https://localhost:${hr.port}/people.csv`]) {
      const before = hr.requests.length;
      const { run } = await syncFrom(url, {});
      expect(run).toMatchObject({ state: 'failed', error: { code: 'source-private-address' } });
      expect(run.error?.message).toMatch(/^(127\.0\.0\.1|localhost) resolves to (127\.0\.0\.1|::1), a private, loopback or reserved address/);
      expect(run.error?.message).toContain('USERSYNC_ALLOW_PRIVATE_SOURCES');
      expect(run.error?.message).not.toMatch(/username|password/);
      expect(hr.requests.length).toBe(before); // nothing was sent, the credentials least of all
    }

    const { t, run } = await syncFrom(hr.url('/people.csv'), { USERSYNC_ALLOW_PRIVATE_SOURCES: '127.0.0.1' });
    expect(run).toMatchObject({ state: 'succeeded', counts: { created: 1 } });
    expect([...(await usersOf(t, 'Remote')).keys()]).toEqual(['ana']);
  });

  it('follows a redirect only through the same address check', async () => {
    hr.redirects.set('/moved.csv', `https://127.0.0.2:${hr.port}/people.csv`);
    const before = hr.requests.length;
    const { run } = await syncFrom(hr.url('/moved.csv'), { USERSYNC_ALLOW_PRIVATE_SOURCES: '127.0.0.1' });
    expect(run).toMatchObject({ state: 'failed', error: { code: 'source-private-address' } });
    expect(run.error?.message).toMatch(/^127\.0\.0\.2 resolves to 127\.0\.0\.2/);
    expect(hr.requests.slice(before).map((request) => request.path)).toEqual(['/moved.csv']);
  });

  it('never follows a redirect from https to http, even with both test settings on', async () => {
    hr.redirects.set('/downgrade.csv', plain.url('/people.csv'));
    const { run } = await syncFrom(hr.url('/downgrade.csv'), { USERSYNC_ALLOW_PRIVATE_SOURCES: 'true', USERSYNC_ALLOW_INSECURE_HTTP: 'true' });
    expect(run).toMatchObject({ state: 'failed', error: { code: 'source-insecure-url' } });
    expect(run.error?.message).toBe(`127.0.0.1:${hr.port} redirected the CSV download to http://127.0.0.1:${plain.port}; only a redirect to https:// is followed.`);
    expect(plain.requests).toEqual([]);
  });

  it('sends the credentials after a redirect within the origin, never to another origin', async () => {
    hr.redirects.set('/here.csv', '/people.csv');
    const before = hr.requests.length;
    const same = await syncFrom(hr.url('/here.csv'), { USERSYNC_ALLOW_PRIVATE_SOURCES: 'true' });
    expect(same.run).toMatchObject({ state: 'succeeded', counts: { created: 1 } });
    expect(hr.requests.slice(before)).toEqual([
      { path: '/here.csv', authorization: basic },
      { path: '/people.csv', authorization: basic },
    ]);

    hr.redirects.set('/elsewhere.csv', other.url('/people.csv'));
    const away = await syncFrom(hr.url('/elsewhere.csv'), { USERSYNC_ALLOW_PRIVATE_SOURCES: 'true' });
    expect(away.run).toMatchObject({ state: 'succeeded', counts: { created: 1 } });
    expect(other.requests).toEqual([{ path: '/people.csv' }]);
  });
});

describe('remote CSV: what a failed download says', () => {
  const source = (url: string): Extract<CsvProfile['source'], { kind: 'https' }> => ({ kind: 'https', url, username: 'hr-sync', passwordSecret: 'PW' });
  const base: RemoteCsvOptions = { secrets: environmentSecrets({ PW: PASSWORD }), allowInsecureHttp: false, allowPrivateSources: true };
  const failure = async (url: string, options: Partial<RemoteCsvOptions> = {}): Promise<AppError> => {
    const error: unknown = await openRemoteCsv(source(url), { ...base, ...options }).then(
      (stream) => {
        stream.destroy();
        throw new Error('the download succeeded');
      },
      (rejected: unknown) => rejected,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  };
  /** Resolves every name to `address`, as a DNS answer would. */
  const resolvingTo =
    (address: string): LookupFunction =>
    (_hostname, options, callback) => {
      if (options.all) (callback as unknown as (error: null, all: { address: string; family: number }[]) => void)(null, [{ address, family: 4 }]);
      else callback(null, address, 4);
    };
  let hr: CsvServer;
  let untrusted: CsvServer;
  beforeAll(async () => {
    hr = await startCsvServer({ '/people.csv': FILE }, credentials, { tls: trusted() });
    untrusted = await startCsvServer({ '/people.csv': FILE }, credentials, { tls: await createTestCertificate() });
  });
  afterAll(async () => {
    await Promise.all([hr.close(), untrusted.close()]);
  });

  it('refuses a public-looking name that resolves to a private address, on the address connected to', async () => {
    const url = `https://hr.example.com:${hr.port}/people.csv`;
    const before = hr.requests.length;
    const refused = await failure(url, { allowPrivateSources: false, lookup: resolvingTo('127.0.0.1') });
    expect(refused.code).toBe('source-private-address');
    expect(refused.message).toMatch(/^hr\.example\.com resolves to 127\.0\.0\.1, a private, loopback or reserved address/);
    expect(hr.requests.length).toBe(before);
    // Allowed, the same lookup does reach the fake — whose certificate is not for that name.
    const reached = await failure(url, { lookup: resolvingTo('127.0.0.1') });
    expect(reached).toMatchObject({ code: 'source-tls-failed', message: `The TLS certificate of hr.example.com:${hr.port} is not issued for hr.example.com, so the CSV download was refused.` });
  });

  it('tells DNS failures, refused connections, timeouts, untrusted certificates and rejected credentials apart', async () => {
    const notFound: LookupFunction = (hostname, _options, callback) => callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), '', 4);
    const closed = net.createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const silent = net.createServer(() => undefined);
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
    const silentPort = (silent.address() as AddressInfo).port;

    try {
      const errors = {
        dns: await failure('https://hr.example.com/people.csv', { lookup: notFound }),
        refused: await failure(`https://127.0.0.1:${closedPort}/people.csv`),
        timeout: await failure(`https://127.0.0.1:${silentPort}/people.csv`, { idleTimeoutMs: 200 }),
        tls: await failure(untrusted.url('/people.csv')),
        auth: await failure(hr.url('/people.csv'), { secrets: environmentSecrets({ PW: 'wrong' }) }),
      };
      expect(errors.dns).toMatchObject({ code: 'source-unavailable', message: 'The host hr.example.com of the CSV URL was not found (DNS); check the URL.' });
      expect(errors.refused).toMatchObject({
        code: 'source-unavailable',
        message: `127.0.0.1:${closedPort} refused the connection for the CSV download: check the URL's port and that the HR system is up.`,
        transient: true,
      });
      expect(errors.timeout).toMatchObject({ code: 'source-unavailable', message: `127.0.0.1:${silentPort} did not answer the CSV download within 0.2 seconds.`, transient: true });
      expect(errors.tls).toMatchObject({
        code: 'source-tls-failed',
        message: `The TLS certificate of 127.0.0.1:${untrusted.port} is not trusted (self-signed, expired or from an unknown authority), so the CSV download was refused.`,
      });
      expect(errors.auth).toMatchObject({ code: 'source-auth-failed', message: `127.0.0.1:${hr.port} refused the CSV download (HTTP 401); check the username and the password setting.` });
      // Only rejected credentials point at the credentials; no sentence carries a library's own text.
      for (const error of [errors.dns, errors.refused, errors.timeout, errors.tls]) expect(error.message).not.toMatch(/username|password/);
      for (const error of Object.values(errors)) expect(error.message).not.toMatch(/getaddrinfo|ECONN|certificate chain|unable to verify|DEPTH_ZERO|SSL routines|socket hang up/i);
    } finally {
      silent.close();
    }
  });

  it('never sends or shows credentials written into the URL', async () => {
    const error = await failure(`https://intruder:Url-Secret-9@127.0.0.1:${hr.port}/people.csv`, { secrets: environmentSecrets({ PW: 'wrong' }) });
    expect(error.code).toBe('source-auth-failed');
    expect(error.message).not.toContain('Url-Secret-9');
    expect(error.message).not.toContain('intruder');
    expect(hr.requests.at(-1)?.authorization).toBe(`Basic ${Buffer.from('hr-sync:wrong').toString('base64')}`);
  });
});
