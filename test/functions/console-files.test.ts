import http from 'node:http';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { functionDefinitions } from '../../functions/registry.js';
import { isHttpFunction } from '../../shared/app/registry.js';
import { consoleAnswer } from '../../shared/console/console-files.js';
import { readHostJson } from '../../shared/host/host-json.js';
import { LocalHost } from '../../shared/host/local-host.js';
import { CONSOLE_CSP } from '../../shared/http/security-headers.js';
import { createTestApp, NO_CONSOLE, type TestApp } from '../support/test-app.js';

/**
 * The function app serves the web console at its root (host.json routePrefix ""): the built files of a folder,
 * the page for any client-side route, the API still under /api — each answer with its security headers.
 * A folder made here stands for the build, with a file beside it that no request may reach.
 */
const PAGE = '<!doctype html><html lang="en"><head><title>console</title><script type="module" src="/assets/index-Ab12Cd34.js"></script></head><body></body></html>';
const SCRIPT = 'console.log("the console");';
const SECRET = 'outside the console folder';

interface RawAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A request whose path goes as written: fetch would resolve `..` and turn `\` into `/` before sending. */
function raw(base: string, path: string, method = 'GET'): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${base}/`, { method, path }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    request.once('error', reject);
    request.end();
  });
}

/** The app's HTTP functions on the local host, routed by the repository's own host.json. */
async function serve(t: TestApp, consoleFolder: string): Promise<LocalHost> {
  const host = new LocalHost(functionDefinitions(t.app, { localHost: true, consoleFolder }).filter(isHttpFunction), {
    connectionString: t.env.AzureWebJobsStorage!,
    httpPort: 0,
    log: () => undefined,
  });
  await host.start();
  return host;
}

describe('the console, served by the function app', () => {
  let t: TestApp;
  let host: LocalHost;
  let base: string;

  beforeAll(async () => {
    const parent = mkdtempSync(join(tmpdir(), 'usersync-served-'));
    const folder = join(parent, 'console');
    mkdirSync(join(folder, 'assets'), { recursive: true });
    writeFileSync(join(folder, 'index.html'), PAGE);
    writeFileSync(join(folder, 'assets', 'index-Ab12Cd34.js'), SCRIPT);
    writeFileSync(join(folder, 'assets', 'index-Ef56Gh78.css'), 'body { margin: 0 }');
    writeFileSync(join(folder, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
    writeFileSync(join(parent, 'secret.txt'), SECRET);
    t = await createTestApp();
    host = await serve(t, folder);
    base = host.httpUrl;
  });
  afterAll(() => host?.stop());

  it('routes from the root, as the deployed host.json says (routePrefix "")', () => {
    expect(readHostJson('host.json').routePrefix).toBe('');
    expect(host.routePrefix).toBe('');
  });

  it('answers / and any client-side route with the page, never kept (no-store); the page as a file too', async () => {
    for (const path of ['/', '/connections', '/runs/20260101T000000Z-abc123', '/users/a%2Fb', '/users/contoso%5Calan', '/index.html', '/apix']) {
      const answer = await raw(base, path);
      expect([path, answer.status, answer.headers['content-type'], answer.headers['cache-control'], answer.body]).toEqual([path, 200, 'text/html; charset=utf-8', 'no-store', PAGE]);
    }
  });

  it('serves the hashed files for a year (immutable), other files revalidated, each with its content type', async () => {
    const script = await raw(base, '/assets/index-Ab12Cd34.js');
    expect([script.status, script.headers['content-type'], script.headers['cache-control'], script.body]).toEqual([200, 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable', SCRIPT]);
    const style = await raw(base, '/assets/index-Ef56Gh78.css');
    expect([style.status, style.headers['content-type'], style.headers['cache-control']]).toEqual([200, 'text/css; charset=utf-8', 'public, max-age=31536000, immutable']);
    const icon = await raw(base, '/favicon.svg');
    expect([icon.status, icon.headers['content-type'], icon.headers['cache-control']]).toEqual([200, 'image/svg+xml', 'no-cache']);
  });

  it("a hashed file that is not there is 404 (an old page's script after a deployment), not the page", async () => {
    const missing = await raw(base, '/assets/index-Old00000.js');
    expect([missing.status, missing.headers['content-type']]).toEqual([404, 'application/problem+json']);
    expect(JSON.parse(missing.body)).toMatchObject({ code: 'not-found', detail: expect.stringContaining('reload the page') });
  });

  it('puts the strict CSP, nosniff and no-referrer on every console answer; HEAD is the headers alone', async () => {
    for (const path of ['/', '/runs/1', '/assets/index-Ab12Cd34.js', '/assets/gone.js', '/%2e%2e/secret.txt']) {
      const { headers } = await raw(base, path);
      expect([path, headers['content-security-policy'], headers['x-content-type-options'], headers['referrer-policy']]).toEqual([path, CONSOLE_CSP, 'nosniff', 'no-referrer']);
    }
    expect(CONSOLE_CSP).toBe(
      "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    const head = await raw(base, '/assets/index-Ab12Cd34.js', 'HEAD');
    expect([head.status, head.headers['content-type'], head.headers['cache-control'], head.body]).toEqual([200, 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable', '']);
  });

  it('lets no path out of the folder: an encoded .., / or \\ and NUL are 404 problem+json; a plain .. or \\ the URL resolves first', async () => {
    const escapes = ['/%2E%2E%2Fsecret.txt', '/assets/..%2f..%2fsecret.txt', '/..%5csecret.txt', '/assets/%2e%2e%5c%2e%2e%5csecret.txt', '/index.html%00.js', '/%00'];
    for (const path of escapes) {
      const answer = await raw(base, path);
      expect([path, answer.status, answer.headers['content-type']]).toEqual([path, 404, 'application/problem+json']);
      expect(answer.body).not.toContain(SECRET);
    }
    // As every HTTP server does (WHATWG URL, as the Functions host): `/../secret.txt` is `/secret.txt`, a client route.
    for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/..\\secret.txt']) {
      expect([path, (await raw(base, path)).body]).toEqual([path, PAGE]);
    }
  });

  it('refuses the escapes as sent, should a host pass them on unresolved', async () => {
    const folder = join(mkdtempSync(join(tmpdir(), 'usersync-raw-')), 'console');
    mkdirSync(folder);
    writeFileSync(join(folder, 'index.html'), PAGE);
    writeFileSync(join(folder, '..', 'secret.txt'), SECRET);
    for (const path of ['/../secret.txt', '/a/../../secret.txt', '/%2e%2e/secret.txt', '/.%2E/secret.txt', '/./index.html', '/..\\secret.txt', '/x\\..\\..\\secret.txt', '/%ZZ']) {
      const answer = await consoleAnswer(folder, 'GET', path);
      expect([path, answer.status, answer.headers['content-type']]).toEqual([path, 404, 'application/problem+json']);
      expect(String(answer.body)).not.toContain(SECRET);
    }
  });

  it('changes nothing: another method outside /api is 405, never the API', async () => {
    const post = await raw(base, '/connections', 'POST');
    expect([post.status, post.headers.allow]).toEqual([405, 'GET, HEAD']);
    expect(JSON.parse(post.body)).toMatchObject({ code: 'method-not-allowed', allow: 'GET, HEAD' });
  });

  it('leaves /api to the API (its literal segment wins over the catch-all), whose answers are never kept, sniffed or framed', async () => {
    for (const path of ['/api/connections', '/API/connections', '/api/nothing-here']) {
      const answer = await raw(base, path);
      expect([path, answer.headers['content-type']]).toEqual([path, answer.status === 200 ? 'application/json' : 'application/problem+json']);
      expect([answer.headers['cache-control'], answer.headers['x-content-type-options'], answer.headers['content-security-policy']]).toEqual([
        'no-store',
        'nosniff',
        "default-src 'none'; frame-ancestors 'none'",
      ]);
    }
    expect((await raw(base, '/api/connections')).body).toBe('[]');
  });

  it('without a build: a 503 page saying to run npm run build', async () => {
    const unbuilt = await serve(t, NO_CONSOLE);
    try {
      for (const path of ['/', '/runs/1']) {
        const answer = await raw(unbuilt.httpUrl, path);
        expect([answer.status, answer.headers['content-type'], answer.headers['content-security-policy']]).toEqual([503, 'text/html; charset=utf-8', CONSOLE_CSP]);
        expect(answer.body).toContain('The web console is not built');
        expect(answer.body).toContain('Run `npm run build`');
      }
    } finally {
      await unbuilt.stop();
    }
  });
});
