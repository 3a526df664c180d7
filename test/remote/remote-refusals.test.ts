import type { AccessToken, TokenCredential } from '@azure/identity';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { cliRemote, type CliOutcome } from '../support/cli.js';
import { closedPort } from '../support/ports.js';
import { problem, startApiStub, type ApiStub, type StubAnswer } from '../fakes/api-stub.js';
import { createTestCertificate } from '../fakes/tls.js';

/**
 * `usersync --url`: whatever refuses — Easy Auth, the Functions host's key check, the app's roles, the front
 * end, the network, Microsoft Entra ID — the admin reads one line saying what to do, never a stack trace,
 * never the token or the key.
 */
const SCOPE = 'api://usersync-api/.default';
const TOKEN = 'eyJ0eXAiOiJKV1QifQ.secret-token-body.signature';
const KEY = 'function-key-never-printed';
const STACK_FRAME = /^\s+at /m;

/** A signed-in account, as `az login` gives one; `fail` instead: the error its getToken throws. */
function credential(fail?: Error): TokenCredential & { calls: number } {
  return {
    calls: 0,
    async getToken(): Promise<AccessToken> {
      this.calls++;
      if (fail) throw fail;
      return { token: TOKEN, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}

let stubs: ApiStub[] = [];
afterEach(async () => {
  await Promise.all(stubs.map((stub) => stub.close()));
  stubs = [];
});
const tls = () => ({ cert: inject('tlsCert'), key: inject('tlsKey') });
async function stub(answer: StubAnswer | (() => StubAnswer)): Promise<ApiStub> {
  const started = await startApiStub(typeof answer === 'function' ? answer : () => answer, { tls: tls() });
  stubs.push(started);
  return started;
}

/** The outcome is one line on stderr, exit 2 unless said, with neither secret in it. */
function refusal(outcome: CliOutcome, code = 2): string {
  expect(outcome).toMatchObject({ code, out: [] });
  expect(outcome.err).toHaveLength(1);
  const [line = ''] = outcome.err;
  expect(line).not.toMatch(STACK_FRAME);
  expect(line).not.toContain(TOKEN);
  expect(line).not.toContain(KEY);
  return line;
}

describe('usersync --url refusals', () => {
  it('sends the Entra token for the scope and the function key; Easy Auth refusing the token says: sign in with az login', async () => {
    const easyAuth = await stub({
      status: 401,
      headers: { 'www-authenticate': 'Bearer realm="usersync.azurewebsites.net" authorization_uri="https://login.microsoftonline.com/tenant/oauth2/v2.0/authorize"', 'content-type': 'text/html' },
      body: 'You do not have permission to view this directory or page.',
    });
    const account = credential();
    const outcome = await cliRemote(['--url', easyAuth.url, 'status'], { USERSYNC_API_SCOPE: SCOPE, USERSYNC_FUNCTION_KEY: KEY }, { credential: account });
    expect(refusal(outcome)).toBe(
      `error [sign-in-required]: Sign in: \`az login\` (then try again) — the app at ${easyAuth.url} refused the request without a valid token for ${SCOPE} (401 Unauthorized).`,
    );
    expect(easyAuth.requests).toMatchObject([{ method: 'GET', url: '/api/runs?limit=20', headers: { authorization: `Bearer ${TOKEN}`, 'x-functions-key': KEY } }]);
  });

  it("Easy Auth sending the request to its sign-in page (as it sends a browser, for the console) says: sign in with az login", async () => {
    const signIn = { status: 302, headers: { location: '/.auth/login/aad?post_login_redirect_uri=%2Fapi%2Fruns%3Flimit%3D20' } };
    const easyAuth = await stub(signIn);
    const withToken = await cliRemote(['--url', easyAuth.url, '--scope', SCOPE, 'status'], {}, { credential: credential() });
    expect(refusal(withToken)).toBe(`error [sign-in-required]: Sign in: \`az login\` (then try again) — the app at ${easyAuth.url} sent the request to its sign-in page (302 Found).`);
    // Without a scope the CLI has no token to send (plain http: only this machine's address may go without one).
    const local = await startApiStub(() => signIn);
    stubs.push(local);
    expect(refusal(await cliRemote(['--url', local.url, 'sync', 'HR']))).toBe(
      `error [sign-in-required]: Sign in: \`az login\` (then try again with USERSYNC_API_SCOPE (or --scope) set, so that the CLI sends a token) — the app at ${local.url} sent the request to its sign-in page (302 Found).`,
    );
    // Every request names the CLI, so that a change without a bearer token is not taken for another site's form.
    expect(local.requests).toMatchObject([{ method: 'POST', url: expect.stringMatching(/^\/api\/connections\/HR\/sync\?/), headers: { 'x-usersync-client': 'cli' } }]);
  });

  it('a 401 without a token challenge while USERSYNC_FUNCTION_KEY is set: the key was refused', async () => {
    const functionsHost = await stub({ status: 401 });
    const outcome = await cliRemote(['--url', functionsHost.url, '--scope', SCOPE, 'connection', 'list'], { USERSYNC_FUNCTION_KEY: KEY }, { credential: credential() });
    expect(refusal(outcome)).toBe(`error [function-key-refused]: The app at ${functionsHost.url} refused the function key in USERSYNC_FUNCTION_KEY (401 Unauthorized): set it to one of the app's keys.`);
  });

  it("a 403 from in front of the app names the role the command needs; the app's own 403 is printed as the app said it", async () => {
    const platform = await stub({ status: 403, headers: { 'content-type': 'text/plain' }, body: 'Forbidden' });
    const sync = await cliRemote(['--url', platform.url, '--scope', SCOPE, 'sync', 'HR'], {}, { credential: credential() });
    expect(refusal(sync)).toBe(
      `error [forbidden]: The app at ${platform.url} refused connections.sync (403 Forbidden): your account lacks the UserSync.Admin role on this app — ask an admin to assign it.`,
    );
    const status = await cliRemote(['--url', platform.url, '--scope', SCOPE, 'status'], {}, { credential: credential() });
    expect(refusal(status)).toContain('lacks the UserSync.Reader role');

    const said = 'This needs the UserSync.Admin role (connections.sync); user:ann@contoso.com has UserSync.Reader. Ask an admin of the app to assign it.';
    const app = await stub(problem('forbidden', said, { details: { role: 'UserSync.Admin' } }));
    expect(refusal(await cliRemote(['--url', app.url, '--scope', SCOPE, 'sync', 'HR'], {}, { credential: credential() }))).toBe(`error [forbidden]: ${said}`);
  });

  it("the app's problem+json comes back as its code, sentence and field problems; its internal error exits 1, as locally", async () => {
    const invalid = await stub(problem('input-invalid', 'The input is invalid: email: a valid email address is required.', { details: { problems: [{ field: 'email', message: 'a valid email address is required' }] } }));
    const args = ['user', 'add', 'jo', '--email', 'nope', '--first-name', 'Jo', '--last-name', 'Local'];
    expect(await cliRemote(['--url', invalid.url, ...args], { USERSYNC_API_SCOPE: SCOPE }, { credential: credential() })).toEqual({
      code: 2,
      out: [],
      err: ['error [input-invalid]: The input is invalid: email: a valid email address is required.', '  - email: a valid email address is required'],
    });
    const broken = await stub(problem('internal-error', 'The request failed unexpectedly; see the function logs.'));
    expect(refusal(await cliRemote(['--url', broken.url, '--scope', SCOPE, 'status'], {}, { credential: credential() }), 1)).toBe(
      'error [internal-error]: The request failed unexpectedly; see the function logs.',
    );
  });

  it('a front end failing, a page that is not the API, and a redirect (not followed: the key goes nowhere else)', async () => {
    const starting = await stub({ status: 503, headers: { 'content-type': 'text/html' }, body: '<h1>Service Unavailable</h1>' });
    expect(refusal(await cliRemote(['--url', starting.url, '--scope', SCOPE, 'status'], {}, { credential: credential() }))).toBe(
      `error [api-unavailable]: The app at ${starting.url} answered 503 Service Unavailable: it may be starting, scaling or overloaded; try again in a minute, or see its logs.`,
    );
    const website = await stub({ status: 200, headers: { 'content-type': 'text/html' }, body: '<html>Welcome</html>' });
    expect(refusal(await cliRemote(['--url', website.url, '--scope', SCOPE, 'status'], {}, { credential: credential() }))).toBe(
      `error [api-answer-invalid]: ${website.url} answered 200, not as the usersync API answers: check the app's address (--url, USERSYNC_URL; azd env get-value USERSYNC_URL).`,
    );
    const elsewhere = await stub({ status: 200, body: [] });
    const moved = await stub({ status: 302, headers: { location: `${elsewhere.url}/api/runs` } });
    expect(refusal(await cliRemote(['--url', moved.url, '--scope', SCOPE, 'status'], { USERSYNC_FUNCTION_KEY: KEY }, { credential: credential() }))).toBe(
      `error [api-answer-invalid]: ${moved.url} answered 302, sending to ${new URL(elsewhere.url).host}, not as the usersync API answers: check the app's address (--url, USERSYNC_URL; azd env get-value USERSYNC_URL).`,
    );
    expect(elsewhere.requests).toEqual([]);
  });

  it('a certificate this machine does not trust: one line saying so, and no token is sent', async () => {
    const impostor = await startApiStub(() => ({ status: 200, body: [] }), { tls: await createTestCertificate() });
    stubs.push(impostor);
    expect(refusal(await cliRemote(['--url', impostor.url, '--scope', SCOPE, 'status'], {}, { credential: credential() }))).toMatch(
      new RegExp(`^error \\[api-unreachable\\]: Cannot reach the app at ${impostor.url.replaceAll('.', '\\.')}: its TLS certificate is not trusted here \\([A-Z_]+\\)\\.$`),
    );
    expect(impostor.requests).toEqual([]);
  });

  it('nothing listening, or a name that does not resolve: one line naming the address', async () => {
    const port = await closedPort();
    expect(refusal(await cliRemote(['--url', `http://127.0.0.1:${port}`, 'status']))).toBe(
      `error [api-unreachable]: Cannot reach the app at http://127.0.0.1:${port} (ECONNREFUSED) — is the local host running? Start it with \`npm start\`.`,
    );
    expect(refusal(await cliRemote(['--url', 'https://usersync.invalid', 'status'], { USERSYNC_API_SCOPE: SCOPE }, { credential: credential() }))).toMatch(
      /^error \[api-unreachable\]: Cannot reach the app at https:\/\/usersync\.invalid \((ENOTFOUND|EAI_AGAIN)\) — check the address \(--url, USERSYNC_URL\) and the network\.$/,
    );
  });

  it("no token to be had: sign in with az login, keeping Entra's reason; Entra refusing an account without a role is a missing role", async () => {
    const app = await stub({ status: 200, body: [] });
    const signedOut = credential(new Error('DefaultAzureCredential failed to retrieve a token from the included credentials.\n\tAzureCliCredential: Please run `az login`.'));
    expect(refusal(await cliRemote(['--url', app.url, '--scope', SCOPE, 'status'], {}, { credential: signedOut }))).toBe(
      `error [sign-in-required]: Sign in: \`az login\` (then try again) — no Microsoft Entra token for ${SCOPE} could be had.`,
    );
    const wrongScope = credential(new Error('AzureCliCredential: ERROR: AADSTS500011: The resource principal named api://usersync-api was not found in the tenant named Contoso. Trace ID: 0f3c'));
    expect(refusal(await cliRemote(['--url', app.url, '--scope', SCOPE, 'status'], {}, { credential: wrongScope }))).toBe(
      `error [sign-in-required]: Sign in: \`az login\` (then try again) — no Microsoft Entra token for ${SCOPE} could be had. Microsoft Entra ID said: AADSTS500011: The resource principal named api://usersync-api was not found in the tenant named Contoso.`,
    );
    const noRole = credential(new Error('AADSTS50105: Your administrator has configured the application User Directory Sync API to block users unless they are specifically granted access.'));
    expect(refusal(await cliRemote(['--url', app.url, '--scope', SCOPE, 'status'], {}, { credential: noRole }))).toBe(
      `error [forbidden]: Your account holds no role on the app's API (${SCOPE}) — ask an admin to assign you UserSync.Admin or UserSync.Reader.`,
    );
    expect(app.requests).toEqual([]);
  });

  it('refuses, before sending anything, an address beyond this machine without https or without a scope, and one holding secrets', async () => {
    const refused = async (args: string[], env: Record<string, string> = {}) => refusal(await cliRemote([...args, 'status'], env, { credential: credential() }));
    expect(await refused(['--url', 'http://usersync.example.org'], { USERSYNC_API_SCOPE: SCOPE })).toBe(
      'error [config-invalid]: The app\'s address must use https (usersync.example.org): plain http is only for this machine (127.0.0.1, localhost).',
    );
    expect(await refused([], { USERSYNC_URL: 'https://usersync.example.org' })).toBe(
      "error [config-invalid]: Signing in to usersync.example.org needs the API's scope: set USERSYNC_API_SCOPE (azd env get-value USERSYNC_API_SCOPE) or pass --scope api://<app id>/.default.",
    );
    expect(await refused(['--url', 'https://admin:hunter2@usersync.example.org', '--scope', SCOPE])).not.toContain('hunter2');
    expect(await refused(['--url', `https://usersync.example.org/api?code=${KEY}`, '--scope', SCOPE])).toMatch(/^error \[config-invalid\]: .*a function key goes in USERSYNC_FUNCTION_KEY\.$/);
    expect(await refused(['--url', 'usersync.example.org', '--scope', SCOPE])).toMatch(/^error \[config-invalid\]: The app's address is not an http\(s\) URL/);
    expect(await refused(['--scope', SCOPE])).toBe('error [usage-invalid]: --scope names the API of the app --url (or USERSYNC_URL) gives; without one, usersync works on storage.');
  });

  it('--url wins over USERSYNC_URL, and the address may be given with or without /api', async () => {
    const app = await stub({ status: 200, body: [] });
    const env = { USERSYNC_URL: 'https://usersync.invalid', USERSYNC_API_SCOPE: SCOPE };
    expect(await cliRemote(['--url', `${app.url}/api/`, 'connection', 'list'], env, { credential: credential() })).toEqual({
      code: 0,
      out: ['No connection profiles yet: usersync connection put FILE.json'],
      err: [],
    });
    expect(app.requests.map((request) => request.url)).toEqual(['/api/connections']);
  });
});

