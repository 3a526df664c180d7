import http from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { startApiHost, type ApiHost } from '../support/api-host.js';
import { addUsers, storedUser } from '../support/stored-users.js';
import { csvProfile, putProfile } from '../support/test-app.js';

/** A host that waits for a body that never ends never answers: fail then, rather than after the suite's timeout. */
const ANSWER_DEADLINE_MS = 30_000;

/** Sends headers (and `chunks`, if any) without ending the body, and resolves with the first response. */
function partialRequest(url: string, headers: http.OutgoingHttpHeaders, chunks: Buffer[] = []): Promise<{ status: number; type?: string; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: 'PUT', headers }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        request.destroy();
        resolve({ status: response.statusCode ?? 0, ...(response.headers['content-type'] ? { type: response.headers['content-type'] } : {}), body });
      });
    });
    request.on('error', reject);
    request.flushHeaders();
    for (const chunk of chunks) request.write(chunk);
  });
}

describe('HTTP methods, paths and bodies: the API decides, and answers problem+json', () => {
  let server: ApiHost;
  afterEach(() => server?.stop());

  it('OPTIONS answers 204 with the route\'s methods; PATCH and others get 405 with that same Allow', async () => {
    server = await startApiHost();
    const { api } = server;
    const options = await api('connections/Any', { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('GET, PUT, DELETE, HEAD, OPTIONS');
    expect(await options.text()).toBe('');
    expect((await api('connections/Any/sync', { method: 'OPTIONS' })).headers.get('allow')).toBe('POST, OPTIONS');

    for (const method of ['PATCH', 'POST']) {
      const refused = await api('connections/Any', { method });
      expect(refused.status).toBe(405);
      expect(refused.headers.get('allow')).toBe('GET, PUT, DELETE, HEAD, OPTIONS');
      expect(refused.headers.get('content-type')).toBe('application/problem+json');
      expect(await refused.json()).toMatchObject({ code: 'method-not-allowed', status: 405 });
    }
    const notFound = await api('nothing/here', { method: 'OPTIONS' });
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ code: 'not-found' });
  });

  it('HEAD answers as GET would, without the body', async () => {
    server = await startApiHost();
    const { t, api } = server;
    await putProfile(t, csvProfile('Head', 'head.csv'));
    const head = await api('connections/Head', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await head.text()).toBe('');
    const missing = await api('connections/Nobody', { method: 'HEAD' });
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(await missing.text()).toBe('');
  });

  it('a path segment is decoded exactly once: an encoded / stays in its segment, %25 is a literal %', async () => {
    server = await startApiHost();
    const { t, api } = server;
    await addUsers(t, [storedUser('dk0123456789ab', 'People', 'a/b'), storedUser('dk0123456789ab', 'People', 'x%41')]);
    expect(await (await api('users/a%2Fb')).json()).toMatchObject({ username: 'a/b' });
    expect(await (await api('orgchart/A%2FB')).json()).toMatchObject({ user: { username: 'a/b' } });
    expect(await (await api('users/x%2541')).json()).toMatchObject({ username: 'x%41' });
    expect((await api('users/xA')).status).toBe(404);
  });

  it('malformed percent-encoding is 400 path-invalid, problem+json (a path outside /api is the console: test/console/served.test.ts)', async () => {
    server = await startApiHost();
    const malformed = await server.api('users/%ZZ');
    expect(malformed.status).toBe(400);
    expect(malformed.headers.get('content-type')).toBe('application/problem+json');
    expect(await malformed.json()).toMatchObject({ code: 'path-invalid', status: 400, detail: expect.stringContaining('write a literal % as %25') });
  });

  it('a body declared larger than the host takes is refused (413 problem+json) before any of it is sent', async () => {
    server = await startApiHost();
    // 200 MB declared, nothing sent: the answer can only come from the declared length.
    const response = await partialRequest(`${server.host.httpUrl}/api/connections/Big`, { 'content-length': 200 * 1024 * 1024, 'content-type': 'application/json' });
    expect(response.status).toBe(413);
    expect(response.type).toBe('application/problem+json');
    expect(JSON.parse(response.body)).toMatchObject({ code: 'body-too-large', status: 413 });
  }, ANSWER_DEADLINE_MS);

  it('a body sent without a length is refused (413 problem+json) as soon as it passes the host\'s limit', async () => {
    server = await startApiHost({}, { maxRequestBodyBytes: 64 * 1024 });
    // Chunked, 128 KiB sent and the body never ended: the host answers once it has seen too much.
    const response = await partialRequest(`${server.host.httpUrl}/api/connections/Big`, { 'transfer-encoding': 'chunked' }, [Buffer.alloc(64 * 1024, 'x'), Buffer.alloc(64 * 1024, 'x')]);
    expect(response.status).toBe(413);
    expect(response.type).toBe('application/problem+json');
    expect(JSON.parse(response.body)).toMatchObject({ code: 'body-too-large', detail: 'The request body is larger than 65536 bytes.' });
  }, ANSWER_DEADLINE_MS);
});
