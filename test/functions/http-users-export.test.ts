import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_ADMIN } from '../../shared/http/caller.js';
import { handleApi } from '../../shared/http/api.js';
import { startApiHost, type ApiHost } from '../support/api-host.js';
import { cliOn } from '../support/cli.js';
import { addUsers, storedUser } from '../support/stored-users.js';
import { createTestApp, csvProfile, putProfile } from '../support/test-app.js';

/**
 * `GET /users?format=csv` and `usersync users --csv`: every user the listing's filters match, in username
 * order, with the columns an admin expects and one per attribute, safe to open in a spreadsheet.
 */
const HEADER = ['username', 'email', 'firstName', 'lastName', 'status', 'connection', 'manager', 'groups', 'localGroups'];

describe('the users export through the local host', () => {
  let server: ApiHost;
  beforeAll(async () => {
    server = await startApiHost();
    const { t } = server;
    await putProfile(t, csvProfile('HR', 'hr.csv'));
    await putProfile(t, csvProfile('Sales', 'sales.csv'));
    const hr = (await t.app.deps.connections.get('HR'))!.directoryKey;
    const sales = (await t.app.deps.connections.get('Sales'))!.directoryKey;
    await addUsers(t, [
      storedUser(hr, 'HR', 'ann', { attributes: { department: 'Finance, Tax', title: 'Lead "Ops"' }, groups: ['Staff', 'Finance'], localGroups: ['Team'], manager: 'bob', sourceHash: 'SECRET-HASH', passwordHash: 'scrypt$1$2$3$salt$hash' }),
      storedUser(hr, 'HR', 'bob', { status: 'disabled', firstName: '=HYPERLINK("http://evil.example","x")', lastName: '+1+2', attributes: { address: 'Main St 1\nSpringfield', zeta: '-3' } }),
      storedUser(hr, 'HR', 'cid', { email: '@cid@example.org', firstName: '\tTab', lastName: '\rReturn' }),
      storedUser(sales, 'Sales', 'dee', { attributes: { region: 'North' } }),
    ]);
  });
  afterAll(() => server.stop());

  const exported = async (query = '') => {
    const response = await server.api(`users?format=csv${query}`);
    // The bytes as sent: Response.text() would drop the BOM.
    const text = Buffer.from(await response.arrayBuffer()).toString('utf8');
    return { response, text, rows: parse(text, { bom: true }) as string[][] };
  };

  it('answers text/csv as a download: a BOM, RFC 4180 quoting, CRLF; the columns, then one per attribute (sorted); no internal field', async () => {
    const { response, text, rows } = await exported();
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(response.headers.get('content-disposition')).toMatch(/^attachment; filename="users-\d{4}-\d{2}-\d{2}\.csv"; filename\*=UTF-8''users-\d{4}-\d{2}-\d{2}\.csv$/);
    expect(text.startsWith('\uFEFFusername,email,')).toBe(true);
    expect(text.endsWith('\r\n')).toBe(true);
    expect(rows[0]).toEqual([...HEADER, 'address', 'department', 'region', 'title', 'zeta']);
    expect(rows.slice(1).map((row) => row[0])).toEqual(['ann', 'bob', 'cid', 'dee']);
    expect(rows[1]).toEqual(['ann', 'ann@example.org', 'First', 'Last', 'active', 'HR', 'bob', 'Staff; Finance', 'Team', '', 'Finance, Tax', '', 'Lead "Ops"', '']);
    expect(rows[2]![HEADER.length]).toBe('Main St 1\nSpringfield');
    expect(text).toContain('"Main St 1\nSpringfield"');
    expect(text).not.toMatch(/SECRET-HASH|scrypt|directoryKey|sourceHash|passwordHash|dk[0-9a-f]{12}/);
  });

  it('neutralises cells a spreadsheet would run: one starting with = + - @ tab or CR gets a leading \'', async () => {
    const { rows } = await exported();
    const [bob, cid] = [rows[2]!, rows[3]!];
    expect(bob.slice(2, 4)).toEqual(['\'=HYPERLINK("http://evil.example","x")', "'+1+2"]);
    expect(bob.at(-1)).toBe("'-3");
    expect([cid[1], cid[2], cid[3]]).toEqual(["'@cid@example.org", "'\tTab", "'\rReturn"]);
  });

  it('takes the listing\'s filters (connection, status, q) and names the file after the profile; an unknown profile is 404, another format 400', async () => {
    expect((await exported('&connection=HR&status=active')).rows.map((row) => row[0])).toEqual(['username', 'ann', 'cid']);
    expect((await exported('&q=DEE')).rows).toEqual([[...HEADER, 'region'], ['dee', 'dee@example.org', 'First', 'Last', 'active', 'Sales', '', '', '', 'North']]);
    expect((await exported('&q=nobody')).rows).toEqual([HEADER]);
    expect((await exported('&connection=Sales')).response.headers.get('content-disposition')).toMatch(/^attachment; filename="users-Sales-\d{4}-\d{2}-\d{2}\.csv"/);

    const unknown = await server.api('users?format=csv&connection=Nobody');
    expect([unknown.status, unknown.headers.get('content-type'), ((await unknown.json()) as { code: string }).code]).toEqual([404, 'application/problem+json', 'connection-not-found']);
    const xml = await server.api('users?format=xml');
    expect([xml.status, await xml.json()]).toMatchObject([400, { code: 'query-invalid', problems: [{ field: 'format', message: 'must be json or csv' }] }]);
    expect((await server.api('users?format=csv&limit=5')).status).toBe(400);
    expect(((await (await server.api('users?format=json&limit=1')).json()) as { users: unknown[] }).users).toHaveLength(1);
    const head = await server.api('users?format=csv', { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type'), await head.text()]).toEqual([200, 'text/csv; charset=utf-8', '']);
  });

  it('usersync users --csv prints the same file, a line per line (tab and CR in a value escaped, as in every line it prints); with --json it is refused', async () => {
    const cli = await cliOn(server.t, 'users', '--csv', '--connection', 'HR');
    expect(cli.code).toBe(0);
    const { text } = await exported('&connection=HR');
    const printed = text.replaceAll('\r\n', '\n').replace(/\n$/, '').replaceAll('\t', '\\u0009').replaceAll('\r', '\\u000d');
    expect(cli.out.join('\n')).toBe(printed);
    expect(cli.out[0]).toMatch(/^\uFEFFusername,email,/);
    expect(await cliOn(server.t, 'users', '--csv', '--json')).toMatchObject({ code: 2, err: ['error [usage-invalid]: Choose one of --csv and --json.'] });
  });
});

describe('the users export, page by page', () => {
  it('holds every user past the listing\'s page of 1,000, in username order', async () => {
    const t = await createTestApp();
    await putProfile(t, csvProfile('Big', 'big.csv'));
    const key = (await t.app.deps.connections.get('Big'))!.directoryKey;
    const names = Array.from({ length: 1005 }, (_, i) => `user${String(i).padStart(4, '0')}`);
    await addUsers(t, names.map((name) => storedUser(key, 'Big', name)));
    const response = await handleApi(t.app, { method: 'GET', path: 'users', query: new URLSearchParams({ format: 'csv' }) }, LOCAL_ADMIN);
    const chunks: Buffer[] = [];
    for await (const chunk of response.body!) chunks.push(Buffer.from(chunk as Buffer));
    const rows = parse(Buffer.concat(chunks).toString('utf8'), { bom: true }) as string[][];
    expect(rows.slice(1).map((row) => row[0])).toEqual(names);
  });
});
