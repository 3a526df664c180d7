import { Readable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, ANYONE, pathFields, READER, type Access, type Caller, type Operation } from '../../shared/admin/operation.js';
import { OPERATIONS, type OperationName } from '../../shared/admin/operations.js';
import { addLocalGroup, addLocalGroupMember } from '../../shared/admin/groups.js';
import { addLocalAccount } from '../../shared/admin/local-accounts.js';
import { isAppError } from '../../shared/errors/app-error.js';
import { handleApi } from '../../shared/http/api.js';
import { LOCAL_ADMIN } from '../../shared/http/caller.js';
import { localAdminClient } from '../../shared/host/local-admin-client.js';
import { cliAs } from '../support/cli.js';
import { createTestApp, csvProfile, putProfile, syncNow, uploadCsv, type TestApp } from '../support/test-app.js';

const NAMES = Object.keys(OPERATIONS) as OperationName[];
const operationOf = (name: OperationName) => OPERATIONS[name] as Operation;

/** A request for an operation's route, with `x` for each path field (and the query parameters that select it). */
function requestFor(name: OperationName, query = new URLSearchParams()) {
  const { method, path, select } = operationOf(name).http;
  for (const [key, value] of Object.entries(select ?? {})) query.set(key, value);
  return { method, path: path.replace(/:[A-Za-z]+/g, 'x'), query };
}

describe('the operations table', () => {
  it('gives no two operations the same method, path and selecting query; each method and path has one plain operation', () => {
    const routes = NAMES.map((name) => `${operationOf(name).http.method} ${operationOf(name).http.path} ${JSON.stringify(operationOf(name).http.select ?? {})}`);
    expect(new Set(routes).size).toBe(routes.length);
    const plain = new Set(NAMES.filter((name) => !operationOf(name).http.select).map((name) => `${operationOf(name).http.method} ${operationOf(name).http.path}`));
    expect(NAMES.filter((name) => !plain.has(`${operationOf(name).http.method} ${operationOf(name).http.path}`))).toEqual([]);
  });

  it.each(NAMES)("%s: the route's path fields, query keys and body field are fields of its input", (name) => {
    const { http, input } = operationOf(name);
    const fields = Object.keys(input.shape);
    const { body } = http;
    const named = [...pathFields(http.path), ...(http.query ?? []), ...(typeof body === 'object' ? ['json' in body ? body.json : body.stream] : [])];
    expect(named.filter((field) => !fields.includes(field))).toEqual([]);
    // Each field comes from one place only.
    expect(new Set(named).size).toBe(named.length);
  });

  it('declares a role for each: reads for a Reader, every change for an Admin', () => {
    const byRole = (role: Access) => NAMES.filter((name) => operationOf(name).role === role).sort();
    expect(byRole(READER)).toEqual(
      [
        'audit.query',
        'connections.get',
        'connections.list',
        'connections.schema',
        'groups.list',
        'groups.members',
        'licences.show',
        'localAccounts.get',
        'localAccounts.list',
        'runs.get',
        'runs.list',
        'runs.plan',
        'users.export',
        'users.get',
        'users.orgChart',
        'users.query',
      ].sort(),
    );
    // Saying who asks needs no role: a caller with none learns that it has none (the console says whom to ask).
    expect(byRole(ANYONE)).toEqual(['session.me']);
    expect(byRole(ADMIN)).toEqual(NAMES.filter((name) => !byRole(READER).includes(name) && !byRole(ANYONE).includes(name)).sort());
    // What a Reader (or anyone) may do is a GET: a link followed or a page prefetched changes nothing.
    expect([...byRole(READER), ...byRole(ANYONE)].filter((name) => operationOf(name).http.method !== 'GET')).toEqual([]);
  });
});

describe('every operation through the HTTP API', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });

  it.each(NAMES)('%s is reached: an unknown query parameter is its own 400 query-invalid, not 404, 405 or 500', async (name) => {
    const response = await handleApi(t.app, requestFor(name, new URLSearchParams({ notAParameter: '1' })), LOCAL_ADMIN);
    expect(response).toMatchObject({ status: 400, headers: { 'content-type': 'application/problem+json' } });
    expect(response.jsonBody).toMatchObject({ code: 'query-invalid', problems: [{ field: 'notAParameter', message: expect.stringMatching(/^unknown parameter/) }] });
  });

  const readsJson = (name: OperationName) => {
    const { body } = operationOf(name).http;
    return body === 'fields' || (typeof body === 'object' && 'json' in body);
  };

  it.each(NAMES.filter(readsJson))('%s refuses a body that is not what it reads (400, not 500)', async (name) => {
    const response = await handleApi(t.app, { ...requestFor(name), body: '{ not json' }, LOCAL_ADMIN);
    expect(response).toMatchObject({ status: 400, jsonBody: { code: 'body-invalid' } });
  });

  it.each(NAMES.filter((name) => operationOf(name).http.body === 'fields'))('%s names a body field it does not take (400 input-invalid)', async (name) => {
    const response = await handleApi(t.app, { ...requestFor(name), body: JSON.stringify({ notAField: 1 }) }, LOCAL_ADMIN);
    expect(response).toMatchObject({ status: 400, jsonBody: { code: 'input-invalid', problems: expect.arrayContaining([{ field: 'notAField', message: 'unknown field' }]) } });
  });
});

describe('roles: checked in one place, whichever surface asks', () => {
  const reader: Caller = { actor: 'user:rita@example.org', roles: [READER] };
  const nobody: Caller = { actor: 'user:nina@example.org', roles: [] };
  let t: TestApp;
  let runId: string;
  /** What a Reader could change if a check were missing: the tables' contents and the uploaded file. */
  const snapshot = async () => {
    const rows: Record<string, unknown[]> = {};
    for (const table of ['connectionsTable', 'runsTable', 'usersTable', 'auditTable', 'licencesTable'] as const) {
      rows[table] = [];
      for await (const row of t.table(table).listEntities()) rows[table].push({ ...row, etag: undefined, timestamp: undefined });
    }
    return { rows, csv: String(await t.app.csvFiles.get('roles.csv')) };
  };

  beforeAll(async () => {
    t = await createTestApp({ TEST_DEFAULT_PASSWORD: 'Roles-Initial-1' });
    await uploadCsv(t, 'roles.csv', 'username,email,firstName,lastName\nann,ann@example.org,Ann,Roles\n');
    await putProfile(t, csvProfile('Roles', 'roles.csv'));
    runId = (await syncNow(t, 'Roles')).runId;
    // A local account in a local group: what the account and group changes would act on.
    await addLocalAccount(t.app.deps, { username: 'lou', email: 'lou@example.org', firstName: 'Lou', lastName: 'Local' }, 'cli:tester');
    await addLocalGroup(t.app.deps, 'Locals');
    await addLocalGroupMember(t.app.deps, 'Locals', 'lou');
  });

  /** A valid input for each operation that changes something: without the role check, each would act. */
  const changesOf = (run: string): { [K in OperationName]?: unknown } => ({
    'connections.put': { name: 'Roles', profile: csvProfile('Roles', 'other.csv') },
    'connections.delete': { name: 'Roles' },
    'connections.reset': { name: 'Roles' },
    'connections.test': { name: 'Roles' },
    'connections.availableGroups': { name: 'Roles' },
    'connections.uploadCsv': { name: 'Roles', file: Readable.from(['username\n']) },
    'connections.sync': { name: 'Roles' },
    'connections.adopt': { name: 'Roles' },
    'runs.confirm': { id: run },
    'runs.cancel': { id: run },
    'groups.add': { name: 'Readers' },
    'groups.addMember': { name: 'Readers', username: 'ann' },
    'groups.removeMember': { name: 'Locals', username: 'lou' },
    'groups.delete': { name: 'Locals' },
    'localAccounts.add': { username: 'rita', email: 'rita@example.org', firstName: 'Rita', lastName: 'Reader' },
    'localAccounts.disable': { username: 'lou' },
    'localAccounts.enable': { username: 'lou' },
    'localAccounts.delete': { username: 'lou' },
    'localAccounts.setPassword': { username: 'lou' },
    'licences.recount': {},
  });

  it('lists a change for every Admin operation', () => {
    expect(Object.keys(changesOf('')).sort()).toEqual(NAMES.filter((name) => operationOf(name).role === ADMIN).sort());
  });

  it('the local client: a Reader, or a caller with no role, is refused every change (forbidden, naming the role) and nothing changes', async () => {
    const before = await snapshot();
    for (const caller of [reader, nobody]) {
      const client = localAdminClient(t.app, t.definitions, { caller });
      for (const [name, input] of Object.entries(changesOf(runId))) {
        const refused = await client.call(name as OperationName, input as never).catch((error: unknown) => error);
        expect(isAppError(refused) ? [name, refused.code, refused.message] : [name, refused]).toEqual([name, 'forbidden', expect.stringContaining(`needs the UserSync.Admin role (${name})`)]);
      }
    }
    expect(await snapshot()).toEqual(before);
  });

  it('the local client: a Reader reads; a caller with no role cannot', async () => {
    const client = localAdminClient(t.app, t.definitions, { caller: reader });
    expect((await client.call('connections.list', {})).map((connection) => connection.name)).toEqual(['Roles']);
    expect(await client.call('runs.get', { id: runId })).toMatchObject({ runId, state: 'succeeded' });
    expect((await client.call('users.query', {})).users.map((user) => user.username)).toEqual(['ann', 'lou']);
    const none = localAdminClient(t.app, t.definitions, { caller: nobody });
    await expect(none.call('connections.list', {})).rejects.toMatchObject({ code: 'forbidden', message: expect.stringContaining('needs the UserSync.Reader role') });
  });

  it('the CLI as a Reader: sync refused with one line and exit 2, status answered', async () => {
    const sync = await cliAs(t, reader, 'sync', 'Roles');
    expect(sync).toMatchObject({ code: 2, out: [] });
    expect(sync.err).toEqual([expect.stringMatching(/^error \[forbidden\]: This needs the UserSync\.Admin role \(connections\.sync\); user:rita@example\.org has UserSync\.Reader\./)]);
    const status = await cliAs(t, reader, 'status', 'Roles');
    expect(status.code).toBe(0);
    expect(status.out[1]).toMatch(new RegExp(`^${runId}\\s+Roles\\s+succeeded`));
  });

  it('the HTTP router with an injected caller: 403 problem+json for every change, before reading the request; reads answered', async () => {
    const before = await snapshot();
    for (const name of NAMES.filter((operation) => operationOf(operation).role === ADMIN)) {
      const response = await handleApi(t.app, { ...requestFor(name, new URLSearchParams({ notAParameter: '1' })), body: '{ not json' }, reader);
      expect([name, response.status, response.headers?.['content-type']]).toEqual([name, 403, 'application/problem+json']);
      expect(response.jsonBody).toMatchObject({ code: 'forbidden', role: 'UserSync.Admin', detail: expect.stringContaining('needs the UserSync.Admin role') });
    }
    expect(await snapshot()).toEqual(before);

    const run = await handleApi(t.app, { method: 'GET', path: `runs/${runId}`, query: new URLSearchParams() }, reader);
    expect(run).toMatchObject({ status: 200, jsonBody: { runId, state: 'succeeded' } });
    expect(await handleApi(t.app, { method: 'HEAD', path: 'connections/Roles', query: new URLSearchParams() }, reader)).toMatchObject({ status: 200 });
    expect(await handleApi(t.app, { method: 'GET', path: 'licences', query: new URLSearchParams() }, nobody)).toMatchObject({ status: 403, jsonBody: { code: 'forbidden' } });
  });
});
