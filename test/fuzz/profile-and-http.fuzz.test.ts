import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProfile } from '../../shared/connections/profile.js';
import { isAppError } from '../../shared/errors/app-error.js';
import { LocalHost } from '../../shared/host/local-host.js';
import type { Operation } from '../../shared/admin/operation.js';
import { OPERATIONS } from '../../shared/admin/operations.js';
import { handleApi, type ApiRequest } from '../../shared/http/api.js';
import { LOCAL_ADMIN } from '../../shared/http/caller.js';
import type { ApiResponse } from '../../shared/http/problem.js';
import { scriptFetch } from '../support/api-host.js';
import { createTestApp, csvProfile, putProfile, syncNow, uploadCsv, type TestApp } from '../support/test-app.js';

/**
 * Issue 7, bad input never crashes a worker: random profile JSON through parseProfile and PUT
 * /connections, and random methods, paths, queries and bodies through the HTTP API. Bad input is
 * always a 4xx application/problem+json with a stable code (400 listing the fields), never a 500 or a
 * thrown error, and a secret value sent by mistake is never echoed back.
 */

/** A value an admin might paste where a setting name belongs: it must never come back in a response. */
const SECRET = 'Sup3r-S3cret!Value';

const VALID = {
  csv: csvProfile('Fuzzed', 'fuzzed.csv', { managerField: 'manager', groups: { mode: 'regex', pattern: '^Intranet-' } }) as Record<string, unknown>,
  entra: {
    name: 'Fuzzed',
    type: 'entra',
    tenantId: '00000000-0000-0000-0000-000000000000',
    clientId: '00000000-0000-0000-0000-000000000001',
    credential: { kind: 'secret', secretName: 'ENTRA_SECRET' },
    selectedGroups: ['g1'],
    attributeMap: { department: 'department' },
  } as Record<string, unknown>,
  okta: {
    name: 'Fuzzed',
    type: 'okta',
    orgUrl: 'https://example.okta.com',
    credential: { kind: 'token', tokenSecret: 'OKTA_TOKEN' },
    selectedGroups: ['00g1'],
  } as Record<string, unknown>,
};

/** Paths in the profiles (and a few beyond them) where a fuzzed value goes. */
const PATHS = [
  'name', 'type', 'enabled', 'schedule', 'schedule.kind', 'schedule.hour', 'schedule.minutes', 'schedule.timeZone',
  'source', 'source.kind', 'source.blobName', 'source.url', 'matchField', 'managerField', 'groups', 'groups.mode',
  'groups.pattern', 'groups.keepLocalGroups', 'columnMap', 'columnMap.Dept', 'delimiter', 'encoding', 'tenantId',
  'clientId', 'credential', 'credential.kind', 'credential.secretName', 'selectedGroups', 'selectedGroups.0',
  'attributeMap', 'attributeMap.jobTitle', 'orgUrl', 'usernameAttribute', 'cloud', 'graphBaseUrl', '__proto__',
  'constructor', 'deep.er.than.any',
];
const SECRET_FIELDS = ['defaultPasswordSecret', 'credential.secretName', 'credential.tokenSecret', 'source.passwordSecret', 'clientSecret', 'password'];

function setPath(target: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split('.');
  let node: Record<string, unknown> = target;
  for (const part of parts.slice(0, -1)) {
    const next = Object.prototype.hasOwnProperty.call(node, part) ? node[part] : undefined;
    if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      const created: Record<string, unknown> = {};
      Object.defineProperty(node, part, { value: created, enumerable: true, writable: true, configurable: true });
      node = created;
    } else {
      node = next as Record<string, unknown>;
    }
  }
  Object.defineProperty(node, parts.at(-1)!, { value, enumerable: true, writable: true, configurable: true });
}

/** A valid profile with some paths set to random JSON (or deleted), and perhaps a secret where a name belongs. */
const mutatedProfile = fc
  .record({
    base: fc.constantFrom(...Object.values(VALID)),
    changes: fc.array(fc.tuple(fc.constantFrom(...PATHS), fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constant(undefined), fc.string({ maxLength: 300 }))), { maxLength: 5 }),
    secretAt: fc.option(fc.constantFrom(...SECRET_FIELDS), { nil: undefined }),
  })
  .map(({ base, changes, secretAt }) => {
    const profile = structuredClone(base);
    for (const [path, value] of changes) setPath(profile, path, value);
    if (secretAt) setPath(profile, secretAt, SECRET);
    return JSON.parse(JSON.stringify(profile)) as unknown;
  });

const anyJson = fc.oneof(fc.jsonValue({ maxDepth: 4 }), mutatedProfile, fc.constantFrom(null, [], '', 0, { type: 'csv' }, { type: 'entra', name: SECRET }));

function expectProblem(response: ApiResponse, statuses: number[] = [400, 404, 405, 409, 413, 422]): { code: string; detail: string } {
  expect(statuses).toContain(response.status);
  expect(response.headers?.['content-type']).toBe('application/problem+json');
  const body = response.jsonBody as { code: string; status: number; detail: string; type: string };
  expect(body.status).toBe(response.status);
  expect(body.code).toMatch(/^[a-z-]+$/);
  expect(body.code).not.toBe('internal-error');
  expect(body.type).toBe(`urn:usersync:error:${body.code}`);
  expect(typeof body.detail).toBe('string');
  return body;
}

describe('random profile JSON through parseProfile', () => {
  it('either parses or throws profile-invalid listing each invalid field; never anything else', () => {
    fc.assert(
      fc.property(anyJson, (input) => {
        let thrown: unknown;
        try {
          parseProfile(input);
          return;
        } catch (error) {
          thrown = error;
        }
        if (!isAppError(thrown)) throw thrown;
        expect(thrown.code).toBe('profile-invalid');
        const problems = thrown.details?.problems as { field: string; message: string }[];
        expect(problems.length).toBeGreaterThan(0);
        for (const problem of problems) {
          expect(problem.field).not.toBe('');
          expect(problem.message).not.toBe('');
          expect(thrown.message).toContain(`${problem.field}: ${problem.message}`);
        }
        expect(JSON.stringify([thrown.message, thrown.details])).not.toContain(SECRET);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('random requests through the HTTP API (api.ts on Azurite)', () => {
  let t: TestApp;
  const call = (request: Partial<ApiRequest> & { path: string }) => handleApi(t.app, { method: 'GET', query: new URLSearchParams(), ...request }, LOCAL_ADMIN);

  beforeAll(async () => {
    t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Fuzz-Initial-Pa55', ENTRA_SECRET: 'x', OKTA_TOKEN: 'x' });
    await uploadCsv(t, 'known.csv', 'username,email,firstName,lastName\nann,ann@example.org,Ann,A\n');
    await putProfile(t, csvProfile('Known', 'known.csv'));
    await syncNow(t, 'Known');
  });

  it('PUT /connections/{name} with a random body: 200/201, or 400 problem+json listing fields; secrets never echoed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(anyJson.map((body) => JSON.stringify(body)), fc.string({ maxLength: 200 }), fc.constantFrom('', '{', '{"type":', '\uFEFF{}', 'null', '[]')),
        fc.constantFrom('Fuzzed', 'Fuzzed', 'bad/name', '%', ' ', 'x'.repeat(80), 'Known'),
        async (body, name) => {
          const response = await call({ method: 'PUT', path: `connections/${encodeURIComponent(name)}`, body });
          expect(JSON.stringify(response)).not.toContain(SECRET);
          if (response.status === 200 || response.status === 201) {
            expect(response.jsonBody).toMatchObject({ name: expect.any(String) });
            return;
          }
          const problem = expectProblem(response, [400, 409]);
          expect(['profile-invalid', 'body-invalid']).toContain(problem.code);
          if (problem.code === 'profile-invalid') {
            const problems = (response.jsonBody as { problems: { field: string }[] }).problems;
            expect(problems.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  const segment = fc.oneof(
    fc.constantFrom('connections', 'runs', 'audit', 'users', 'groups', 'orgchart', 'sync', 'reset', 'test', 'available', 'members', 'licences', 'local-accounts', 'plan', 'Known', 'ann'),
    fc.string({ maxLength: 12 }),
    fc.constantFrom('%', '%E0%A4%A', '%00', '%2F', '..', '#', '?', "'", '\\', '\u0000', '😀', 'x'.repeat(2000)),
  );
  /** Every route of the API (the operations table) with its methods: most requests reach an operation with fuzzed parameters. */
  const methodsByPath = new Map<string, string[]>();
  for (const { http } of Object.values(OPERATIONS) as Operation[]) {
    const path = http.path.replace(/:[A-Za-z]+/g, ':');
    methodsByPath.set(path, [...(methodsByPath.get(path) ?? []), http.method]);
  }
  const ROUTES = [...methodsByPath];
  const routed = fc
    .tuple(fc.constantFrom(...ROUTES), segment, fc.nat())
    .map(([[route, methods], param, pick]) => ({ path: route.replaceAll(':', param), method: methods[pick % methods.length]! }));
  const unrouted = fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'get', ''),
    path: fc.array(segment, { maxLength: 5 }).map((parts) => parts.join('/')),
  });
  const request = fc.record({
    target: fc.oneof({ weight: 4, arbitrary: routed }, { weight: 1, arbitrary: unrouted }),
    query: fc.array(
      fc.tuple(fc.constantFrom('connection', 'run', 'user', 'action', 'limit', 'continuationToken', 'dryRun', 'incremental', 'x'), fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('-1', '1e9', 'NaN', "a'b", 'created', 'true', 'Known'))),
      { maxLength: 4 },
    ),
    body: fc.option(fc.oneof(fc.string({ maxLength: 100 }), anyJson.map((body) => JSON.stringify(body))), { nil: undefined }),
  });

  it('random method, path, query and body: a response every time, never a 500; errors are problem+json', async () => {
    await fc.assert(
      fc.asyncProperty(request, async ({ target: { method, path }, query, body }) => {
        const response = await call({ method, path, query: new URLSearchParams(query), ...(body === undefined ? {} : { body }) });
        expect(response.status).not.toBe(500);
        // HEAD answers as GET without the body.
        if (method.toUpperCase() === 'HEAD') expect(response.jsonBody).toBeUndefined();
        else if (response.status >= 400) expectProblem(response, [400, 404, 405, 409, 413, 422, 502]);
        expect(JSON.stringify(response)).not.toContain('Fuzz-Initial-Pa55');
        expect(JSON.stringify(response)).not.toContain(SECRET);
      }),
      { numRuns: 400 },
    );
  });
});

describe('raw HTTP through the http function on the local host', () => {
  let t: TestApp;
  let host: LocalHost;
  beforeAll(async () => {
    t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Fuzz-Initial-Pa55' });
    host = new LocalHost(t.definitions.filter((definition) => definition.trigger.kind === 'http'), {
      connectionString: t.env.AzureWebJobsStorage!,
      httpPort: 0,
      log: () => undefined,
    });
    await host.start();
  });
  afterAll(() => host.stop());

  it.each([
    ['PUT', 'connections/Raw', 400, 'profile-invalid', '{"type":"csv","source":{"kind":"blob"},"defaultPasswordSecret":"Sup3r-S3cret!Value"}'],
    ['PUT', 'connections/Raw', 400, 'body-invalid', '\u0000\u00ff{'],
    ['PUT', 'connections/Raw', 413, 'body-too-large', 'x'.repeat(1024 * 1024 + 1)],
    ['GET', 'runs/not-a-run-id', 404, 'run-not-found', undefined],
    // The host decodes the path; "100%" is then not valid percent-encoding (it was a 500).
    ['GET', 'users/100%25', 404, 'user-not-found', undefined],
    ['GET', 'users/%23%3F%5C', 404, 'user-not-found', undefined],
    ['GET', 'audit?continuationToken=not-a-token', 400, 'query-invalid', undefined],
    ['POST', 'connections/Nobody/sync', 404, 'connection-not-found', ''],
  ] as const)('%s /api/%s: %i %s', async (method, path, status, code, body) => {
    const response = await scriptFetch(`${host.httpUrl}/api/${path}`, { method, ...(body === undefined ? {} : { body }) });
    const text = await response.text();
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(JSON.parse(text)).toMatchObject({ code, status });
    expect(text).not.toContain(SECRET);
  });
});
