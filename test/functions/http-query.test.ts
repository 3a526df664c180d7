import { afterEach, describe, expect, it } from 'vitest';
import { startApiHost, type ApiHost } from '../support/api-host.js';
import { awaitRunEnd, csvProfile, putProfile, uploadCsv, usersOf } from '../support/test-app.js';

const TWO = 'username,email,firstName,lastName\nann,ann@example.org,Ann,Q\nbob,bob@example.org,Bob,Q\n';
const ONE = 'username,email,firstName,lastName\nann,ann@example.org,Ann,Q\n';

interface Problem {
  code: string;
  detail: string;
  problems: { field: string; message: string }[];
}

describe('query parameters over HTTP: validated per route, never guessed', () => {
  let server: ApiHost;
  afterEach(() => server?.stop());
  const start = async (): Promise<ApiHost> => {
    server = await startApiHost({ TEST_DEFAULT_PASSWORD: 'Query-Initial-1' });
    await uploadCsv(server.t, 'q.csv', TWO);
    await putProfile(server.t, csvProfile('Q', 'q.csv'));
    return server;
  };
  const sync = async (query: string): Promise<Response> => server.api(`connections/Q/sync${query}`, { method: 'POST' });

  it.each([
    ['?dryRun=1', 'dryRun', 'must be true or false'],
    ['?dryRun=True', 'dryRun', 'must be true or false'],
    ['?dryRun=yes', 'dryRun', 'must be true or false'],
    ['?dryrun=true', 'dryrun', 'unknown parameter (known: dryRun, incremental, fromRun, resume)'],
    ['?incremental=', 'incremental', 'must be true or false'],
    ['?dryRun=true&dryRun=false', 'dryRun', 'given more than once'],
    ['?fromRun=not-a-run', 'fromRun', 'not a run id'],
  ])('POST sync%s is 400 query-invalid naming %s, and starts no run', async (query, field, message) => {
    const { t } = await start();
    const response = await sync(query);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await response.json()) as Problem;
    expect(problem).toMatchObject({ code: 'query-invalid', problems: [{ field, message }] });
    expect(problem.detail).toContain(`${field}: ${message}`);
    expect(await t.app.deps.runs.list({ connection: 'Q', limit: 10 })).toEqual([]);
    expect((await t.app.deps.connections.get('Q'))?.state.activeRunId).toBeUndefined();
  });

  it('lists every bad parameter at once; read-only routes refuse unknown ones too; the function key (code) is always allowed', async () => {
    const { api } = await start();
    const several = (await (await sync('?dryRun=1&incremental=maybe&force=true')).json()) as Problem;
    expect(several.problems.map((p) => p.field).sort()).toEqual(['dryRun', 'force', 'incremental']);

    const typo = await api('users?conection=Q');
    expect(typo.status).toBe(400);
    expect(await typo.json()).toMatchObject({ code: 'query-invalid', problems: [{ field: 'conection', message: expect.stringMatching(/^unknown parameter/) }] });
    expect(await (await api('connections?verbose=1')).json()).toMatchObject({ problems: [{ field: 'verbose', message: 'unknown parameter (this route takes none)' }] });
    for (const limit of ['0', '1001', 'abc', '1e3', '-5']) {
      expect(await (await api(`audit?limit=${limit}`)).json()).toMatchObject({ code: 'query-invalid', problems: [{ field: 'limit' }] });
    }
    expect(await (await api('runs?connection=')).json()).toMatchObject({ problems: [{ field: 'connection', message: 'must not be empty' }] });

    expect((await api('connections?code=function-key')).status).toBe(200);
    expect((await api('runs?connection=Q&code=function-key')).status).toBe(200);
    const dry = await sync('?dryRun=true&code=function-key');
    expect(dry.status).toBe(202);
    expect(await dry.json()).toMatchObject({ dryRun: true });
  });

  it('fromRun re-syncs an earlier run\'s archived input, as the CLI\'s --from-run does', async () => {
    const { t } = await start();
    const first = (await (await sync('')).json()) as { runId: string };
    await awaitRunEnd(t, first.runId);
    await uploadCsv(t, 'q.csv', ONE);
    const second = (await (await sync('')).json()) as { runId: string };
    await awaitRunEnd(t, second.runId);
    expect((await usersOf(t, 'Q')).get('bob')?.status).toBe('disabled');

    const rollback = await sync(`?fromRun=${first.runId}`);
    expect(rollback.status).toBe(202);
    const { runId } = (await rollback.json()) as { runId: string };
    expect(await awaitRunEnd(t, runId)).toMatchObject({ state: 'succeeded', fromRunId: first.runId, counts: { 're-enabled': 1 } });
    expect((await usersOf(t, 'Q')).get('bob')?.status).toBe('active');
  });

  it('fromRun of another profile\'s run is refused as the CLI refuses it, starting nothing', async () => {
    const { t } = await start();
    await putProfile(t, csvProfile('Other', 'q.csv'));
    const other = (await (await server.api('connections/Other/sync', { method: 'POST' })).json()) as { runId: string };
    await awaitRunEnd(t, other.runId);

    const refused = await sync(`?fromRun=${other.runId}`);
    expect(refused.status).toBe(404);
    expect(await refused.json()).toMatchObject({ code: 'run-not-found', detail: expect.stringContaining(`is not a run of "Q"`) });
    expect(await t.app.deps.runs.list({ connection: 'Q', limit: 10 })).toEqual([]);
  });
});
