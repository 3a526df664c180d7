import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handleApi } from '../../shared/http/api.js';
import { LOCAL_ADMIN } from '../../shared/http/caller.js';
import { startGraphServer, type GraphServer } from '../fakes/graph-server.js';
import { startOktaServer, type OktaServer } from '../fakes/okta-server.js';
import { auditOf, createTestApp, putProfile, syncNow, type TestApp } from '../support/test-app.js';

const OKTA_TOKEN = '00okta-token-Redact-Me-1';
const GRAPH_SECRET = 'graph-client-Secret-Redact-Me-2';
const TENANT = 'aaaaaaaa-0000-0000-0000-00000000000f';
const CLIENT = 'c1c1c1c1-0000-0000-0000-00000000000f';

/** Everything an admin or a log can see of a failed run: its row, its audit records, the API's answers. */
async function visibleText(t: TestApp, runId: string, connection: string): Promise<string> {
  const run = await handleApi(t.app, { method: 'GET', path: `runs/${runId}`, query: new URLSearchParams() }, LOCAL_ADMIN);
  const test = await handleApi(t.app, { method: 'POST', path: `connections/${connection}/test`, query: new URLSearchParams() }, LOCAL_ADMIN);
  return JSON.stringify([await t.app.deps.runs.get(runId), await auditOf(t, runId), run, test]);
}

describe('errors a directory answers reach no one with a credential in them', () => {
  let okta: OktaServer;
  let graph: GraphServer;
  let t: TestApp;
  beforeAll(async () => {
    okta = await startOktaServer();
    okta.addToken(OKTA_TOKEN);
    graph = await startGraphServer({ cert: inject('tlsCert'), key: inject('tlsKey') });
    graph.addTenant(TENANT, { clientId: CLIENT, clientSecret: GRAPH_SECRET });
    t = await createTestApp({ OKTA_TOKEN, GRAPH_SECRET, USERSYNC_ALLOW_INSECURE_HTTP: 'true' });
  });
  afterAll(async () => {
    await Promise.all([okta.close(), graph.close()]);
  });

  it('Okta: an error summary echoing the API token and the Authorization header', async () => {
    await putProfile(t, { name: 'OktaEcho', type: 'okta', schedule: { kind: 'off' }, orgUrl: okta.url, credential: { kind: 'token', tokenSecret: 'OKTA_TOKEN' }, selectedGroups: ['00gstaff'] });
    okta.failAfter(0, 400, `Bad request for token ${OKTA_TOKEN} (Authorization: SSWS ${OKTA_TOKEN})`);
    const run = await syncNow(t, 'OktaEcho');
    expect(run).toMatchObject({ state: 'failed', error: { code: 'source-unavailable' } });
    expect(run.error?.message).toContain('Bad request for token [redacted] (Authorization: [redacted])');
    const seen = await visibleText(t, run.runId, 'OktaEcho');
    expect(seen).toContain('Bad request for token [redacted]');
    expect(seen).not.toContain(OKTA_TOKEN);
    okta.heal();
  });

  it('Graph: an error message echoing the client secret and a bearer token', async () => {
    const bearer = 'eyJhbGciOiJub25lIn0.eyJhcHBpZCI6InRlc3QifQ.c2ln';
    await putProfile(t, {
      name: 'GraphEcho',
      type: 'entra',
      schedule: { kind: 'off' },
      tenantId: TENANT,
      clientId: CLIENT,
      credential: { kind: 'secret', secretName: 'GRAPH_SECRET' },
      selectedGroups: ['intranet'],
      graphBaseUrl: graph.url,
      authorityHost: graph.url,
    });
    graph.failAfter(0, 400, `Invalid request with client_secret=${GRAPH_SECRET} and Bearer ${bearer}`);
    const run = await syncNow(t, 'GraphEcho');
    expect(run).toMatchObject({ state: 'failed', error: { code: 'source-unavailable' } });
    const seen = await visibleText(t, run.runId, 'GraphEcho');
    expect(seen).toContain('Invalid request with client_secret=[redacted] and Bearer [redacted]');
    expect(seen).not.toContain(GRAPH_SECRET);
    expect(seen).not.toContain(bearer);
    graph.heal();
  });
});
