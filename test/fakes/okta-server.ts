import { createHash, createPublicKey, randomBytes, verify as verifySignature, type JsonWebKey, type KeyObject } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { roundTrip } from './latency.js';

/**
 * A fake Okta org (management API `/api/v1` and the org authorization server's `/oauth2/v1/token`) on a plain HTTP
 * server, good enough for the real `@okta/okta-sdk-nodejs` 8:
 *
 *   new okta.Client({ orgUrl: server.url, token, requestExecutor: new okta.DefaultRequestExecutor({ maxRetries: 2 }) })
 *   new okta.Client({ orgUrl: server.url, authorizationMode: 'PrivateKey', clientId, scopes: ['okta.users.read'],
 *                     privateKey: pkcs8Pem, keyId? })
 *
 * Wire formats follow the real service: user / group JSON, Okta error bodies (`errorCode`, `errorSummary`, `errorLink`,
 * `errorId`, `errorCauses`), absolute `Link: <…>; rel="self"` / `rel="next"` headers (one header line each, the next
 * link keeps the other query parameters), `X-Rate-Limit-*` and `Date` headers on every API response.
 *
 * Routes (GET only): `/api/v1/users` (`limit` ≤ 200, `after`, `search`, `filter`, `q`, `sortBy`/`sortOrder`),
 * `/api/v1/users/{id or login}`, `/api/v1/users/{id}/groups`, `/api/v1/groups` (`limit` ≤ 10000, `after`, `q` (a
 * name prefix, not paged), `search`, `filter`), `/api/v1/groups/{id}`, `/api/v1/groups/{id}/users` (`limit` ≤ 1000,
 * `after`). Lists are ordered by id and `after` is the last id of the previous page.
 *
 * A plain user list (and `q`) leaves out DEPROVISIONED users; `search` / `filter` return every status. Expressions:
 * `attr op "value"` with `eq sw co gt ge lt le` (and `attr pr`), `and` / `or` / parentheses. `filter` only allows
 * `eq`, except on `lastUpdated`, and is case-sensitive; `search` is case-insensitive on values. Anything else → 400
 * E0000031.
 *
 * OAuth service apps (`addServiceApp`): the SDK posts a `client_assertion` (RS256 JWT signed with the app's private key,
 * verified here against `publicKeyPem`: iss = sub = clientId, aud = `{url}/oauth2/v1/token`, exp, single-use jti) and
 * always a DPoP proof. An app without `dpop` ignores the proof and issues a `Bearer` token. An app with `dpop: true`
 * acts as Okta does when "Require DPoP" is on: `400 use_dpop_nonce` + `DPoP-Nonce` header, then (proof with that
 * nonce) a `DPoP` token bound to the proof key; API calls then need `Authorization: DPoP …` and a proof with htm, htu
 * (no query) and ath. SDK 8.1 gets through this on its own. Token endpoint errors are OAuth bodies (`error`,
 * `error_description`), which SDK 8.1 does not check: it then sends `Bearer undefined` and fails with 401 E0000011.
 * API calls with an OAuth token need `okta.users.read|manage` (users routes) or `okta.groups.read|manage` (groups routes).
 */

// ---------------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------------

export type OktaUserStatus =
  | 'ACTIVE'
  | 'STAGED'
  | 'PROVISIONED'
  | 'SUSPENDED'
  | 'LOCKED_OUT'
  | 'DEPROVISIONED'
  | 'RECOVERY'
  | 'PASSWORD_EXPIRED';

export interface OktaProfileInput {
  login: string;
  email?: string;
  firstName?: string;
  lastName?: string;
  department?: string;
  title?: string;
  employeeNumber?: string;
  managerId?: string;
  manager?: string;
  /** Any other base or custom attribute (e.g. `costCenter`, `mobilePhone`). */
  [attribute: string]: unknown;
}

type Timestamp = string | Date;

export interface OktaUserInput {
  id: string;
  /** Defaults to ACTIVE. */
  status?: OktaUserStatus;
  profile: OktaProfileInput;
  /** Default to the server clock. */
  created?: Timestamp;
  lastUpdated?: Timestamp;
  /** Default to `created`, or null for STAGED users. */
  activated?: Timestamp | null;
  statusChanged?: Timestamp | null;
  lastLogin?: Timestamp | null;
  passwordChanged?: Timestamp | null;
  /** The user type id (`type.id`). */
  typeId?: string;
}

export interface OktaUser {
  readonly id: string;
  status: OktaUserStatus;
  created: string;
  activated: string | null;
  statusChanged: string | null;
  lastLogin: string | null;
  lastUpdated: string;
  passwordChanged: string | null;
  typeId: string;
  profile: Record<string, unknown>;
}

export interface OktaUserPatch {
  status?: OktaUserStatus;
  /** Merged into the profile; an attribute set to undefined is removed. */
  profile?: Partial<OktaProfileInput>;
  lastLogin?: Timestamp | null;
  passwordChanged?: Timestamp | null;
}

export type OktaGroupType = 'OKTA_GROUP' | 'APP_GROUP' | 'BUILT_IN';

export interface OktaGroupInput {
  id: string;
  name: string;
  description?: string;
  /** Defaults to OKTA_GROUP. */
  type?: OktaGroupType;
  /** Member user ids; ids of users that do not exist (yet) are skipped when read. */
  members: string[];
  created?: Timestamp;
  lastUpdated?: Timestamp;
}

export interface OktaGroup {
  readonly id: string;
  name: string;
  description: string | null;
  type: OktaGroupType;
  members: string[];
  created: string;
  lastUpdated: string;
  lastMembershipUpdated: string;
}

export interface OktaServiceAppInput {
  clientId: string;
  /** SPKI (or PKCS#1) PEM of the key the app signs its client assertions with. */
  publicKeyPem: string;
  /** When set, a client assertion with another `kid` header is refused (one without a `kid` is accepted). */
  keyId?: string;
  /** Granted Okta API scopes. Defaults to `okta.users.read okta.groups.read`. */
  scopes?: string[];
  /** "Require Demonstrating Proof of Possession (DPoP) header in token requests". Defaults to false. */
  dpop?: boolean;
}

export interface OktaServerRequest {
  method: string;
  /** Path without the query string, as received (e.g. `/api/v1/groups/00g1/users`). */
  path: string;
  /** The decoded query parameters. */
  query: Record<string, string>;
  authorization?: string;
  /** Whether a `DPoP` proof header came with the request. */
  dpop: boolean;
  /** `X-Okta-Retry-Count` the SDK adds to the retries of a 429. */
  retryCount?: number;
  /** The status answered. */
  status?: number;
  /** When the request arrived and when its answer was sent (`performance.now()` of the fake's process, ms). */
  startedAt: number;
  endedAt?: number;
}

export interface OktaThrottleOptions {
  /**
   * `X-Rate-Limit-Reset` = the current epoch second + `resetSeconds` (default 1). The SDK waits
   * `reset − Date + 1 s` before its retry: 2 s with 1, 1 s with 0, about 0 with −1.
   */
  resetSeconds?: number;
  /** Answer the requests as usual, only with the budget spent (`X-Rate-Limit-Remaining: 0`), instead of 429. */
  answer?: boolean;
}

export interface OktaServer {
  /** `http://127.0.0.1:PORT` — the `orgUrl` (no trailing slash: the SDK would put `//` in API paths). */
  readonly url: string;
  /** Registers an API token (`Authorization: SSWS <token>`). */
  addToken(token: string): void;
  /** Revokes an API token or an issued OAuth access token: the next call with it answers 401 E0000011. */
  revokeToken(token: string): void;
  addServiceApp(app: OktaServiceAppInput): void;
  /** Access tokens issued so far (newest last), e.g. to revoke them. */
  readonly accessTokens: readonly string[];
  readonly users: ReadonlyMap<string, OktaUser>;
  readonly groups: ReadonlyMap<string, OktaGroup>;
  addUser(user: OktaUserInput): OktaUser;
  /** Applies `patch` and sets `lastUpdated` to the server clock (and `statusChanged` / `activated` as a status change does). */
  updateUser(id: string, patch: OktaUserPatch): OktaUser;
  /** Deletes the user for good (and its memberships), as a second DELETE does in Okta. */
  removeUser(id: string): void;
  addGroup(group: OktaGroupInput): OktaGroup;
  /** Changes name / description; bumps `lastUpdated`. */
  updateGroup(id: string, patch: { name?: string; description?: string | null }): OktaGroup;
  /** Replaces the members; bumps `lastMembershipUpdated`. */
  setMembers(groupId: string, userIds: string[]): void;
  removeGroup(id: string): void;
  /** Pins the clock used for data timestamps (created, lastUpdated, …); null goes back to real time. */
  setClock(date: Timestamp | null): void;
  /** The server clock. */
  now(): Date;
  /** The next `count` API requests answer 429 E0000047 (or, with `answer`, as usual) with X-Rate-Limit-Remaining 0. */
  throttle(count: number, options?: OktaThrottleOptions): void;
  /**
   * After `requestsFromNow` more API requests, every API request answers `status` (E0000009, with `errorSummary` if
   * given: e.g. one that echoes a credential) until `heal()`.
   */
  failAfter(requestsFromNow: number, status?: number, errorSummary?: string): void;
  /** Ends `failAfter` and any remaining `throttle`. */
  heal(): void;
  /** Every API request (not the token endpoint's) is answered `ms` later, as a real org's round trip is; 0 (default): at once. */
  setLatency(ms: number): void;
  /**
   * Requests per minute per bucket before a genuine 429 (reset at the end of the minute):
   * `users` (/api/v1/users…) 600, `groups` (/api/v1/groups…) 500. Mutable.
   */
  readonly rateLimits: Record<'users' | 'groups', number>;
  /** Every request received (API and token endpoint), oldest first. */
  readonly requests: OktaServerRequest[];
  close(): Promise<void>;
}

export const DEFAULT_SERVICE_APP_SCOPES: readonly string[] = ['okta.users.read', 'okta.groups.read'];
export const DEFAULT_USER_TYPE_ID = 'oty1default0000000x7';

const USER_STATUSES: readonly OktaUserStatus[] = [
  'ACTIVE',
  'STAGED',
  'PROVISIONED',
  'SUSPENDED',
  'LOCKED_OUT',
  'DEPROVISIONED',
  'RECOVERY',
  'PASSWORD_EXPIRED',
];

// ---------------------------------------------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------------------------------------------

interface ServiceApp {
  clientId: string;
  publicKey: KeyObject;
  keyId: string | undefined;
  scopes: string[];
  dpop: boolean;
}

interface AccessToken {
  clientId: string;
  scopes: string[];
  expiresAt: number;
  /** JWK thumbprint of the DPoP key the token is bound to. */
  jkt: string | undefined;
}

interface Exchange {
  request: IncomingMessage;
  response: ServerResponse;
  method: string;
  path: string;
  params: URLSearchParams;
  log: OktaServerRequest;
}

class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

const TOKEN_PATH = '/oauth2/v1/token';
const USER_LIST_MAX = 200;
const GROUP_LIST_MAX = 10_000;
const GROUP_USERS_MAX = 1000;
const USER_QUERY_DEFAULT = 10;
const GROUP_QUERY_DEFAULT = 300;

export async function startOktaServer(): Promise<OktaServer> {
  const apiTokens = new Set<string>();
  const apps = new Map<string, ServiceApp>();
  const accessTokens = new Map<string, AccessToken>();
  const issuedAccessTokens: string[] = [];
  const usedAssertionIds = new Set<string>();
  const dpopNonces = new Set<string>();
  const users = new Map<string, OktaUser>();
  const groups = new Map<string, OktaGroup>();
  const requests: OktaServerRequest[] = [];
  const rateLimits: Record<'users' | 'groups', number> = { users: 600, groups: 500 };
  const windows = new Map<string, { start: number; used: number }>();
  let pinnedClock: number | undefined;
  let throttled = 0;
  let throttleResetSeconds = 1;
  let throttleAnswers = false;
  let failCountdown: number | undefined;
  let failStatus = 500;
  let failSummary = 'Internal Server Error';
  let latencyMs = 0;
  let url = '';

  const now = (): Date => new Date(pinnedClock ?? Date.now());
  const stamp = (value: Timestamp | null | undefined, fallback: string | null): string | null =>
    value === undefined ? fallback : value === null ? null : new Date(value).toISOString();

  // ---- data setup -------------------------------------------------------------------------------------------

  function addUser(input: OktaUserInput): OktaUser {
    if (users.has(input.id)) throw new Error(`User ${input.id} already exists`);
    const status = input.status ?? 'ACTIVE';
    if (!USER_STATUSES.includes(status)) throw new Error(`Unknown user status ${status}`);
    const created = stamp(input.created, now().toISOString()) ?? now().toISOString();
    const activated = stamp(input.activated, status === 'STAGED' ? null : created);
    const user: OktaUser = {
      id: input.id,
      status,
      created,
      activated,
      statusChanged: stamp(input.statusChanged, activated),
      lastLogin: stamp(input.lastLogin, null),
      lastUpdated: stamp(input.lastUpdated, created) ?? created,
      passwordChanged: stamp(input.passwordChanged, null),
      typeId: input.typeId ?? DEFAULT_USER_TYPE_ID,
      profile: withoutUndefined({ ...input.profile }),
    };
    users.set(user.id, user);
    return user;
  }

  function updateUser(id: string, patch: OktaUserPatch): OktaUser {
    const user = users.get(id);
    if (!user) throw new Error(`No user ${id}`);
    const at = now().toISOString();
    if (patch.status !== undefined && patch.status !== user.status) {
      if (!USER_STATUSES.includes(patch.status)) throw new Error(`Unknown user status ${patch.status}`);
      user.status = patch.status;
      user.statusChanged = at;
      if (patch.status === 'ACTIVE' && user.activated === null) user.activated = at;
    }
    if (patch.profile) user.profile = withoutUndefined({ ...user.profile, ...patch.profile });
    if (patch.lastLogin !== undefined) user.lastLogin = stamp(patch.lastLogin, null);
    if (patch.passwordChanged !== undefined) user.passwordChanged = stamp(patch.passwordChanged, null);
    user.lastUpdated = at;
    return user;
  }

  function removeUser(id: string): void {
    if (!users.delete(id)) throw new Error(`No user ${id}`);
    const at = now().toISOString();
    for (const group of groups.values()) {
      if (!group.members.includes(id)) continue;
      group.members = group.members.filter((member) => member !== id);
      group.lastMembershipUpdated = at;
    }
  }

  function addGroup(input: OktaGroupInput): OktaGroup {
    if (groups.has(input.id)) throw new Error(`Group ${input.id} already exists`);
    const created = stamp(input.created, now().toISOString()) ?? now().toISOString();
    const lastUpdated = stamp(input.lastUpdated, created) ?? created;
    const group: OktaGroup = {
      id: input.id,
      name: input.name,
      description: input.description ?? null,
      type: input.type ?? 'OKTA_GROUP',
      members: [...new Set(input.members)],
      created,
      lastUpdated,
      lastMembershipUpdated: lastUpdated,
    };
    groups.set(group.id, group);
    return group;
  }

  function requireGroup(id: string): OktaGroup {
    const group = groups.get(id);
    if (!group) throw new Error(`No group ${id}`);
    return group;
  }

  // ---- HTTP plumbing ----------------------------------------------------------------------------------------

  function rateLimitHeaders(bucket: 'users' | 'groups', nowMs: number): { headers: Record<string, string>; exceeded: boolean } {
    const start = Math.floor(nowMs / 60_000) * 60_000;
    let window = windows.get(bucket);
    if (!window || window.start !== start) {
      window = { start, used: 0 };
      windows.set(bucket, window);
    }
    window.used += 1;
    const limit = rateLimits[bucket];
    return {
      exceeded: window.used > limit,
      headers: {
        'X-Rate-Limit-Limit': String(limit),
        'X-Rate-Limit-Remaining': String(Math.max(0, limit - window.used)),
        'X-Rate-Limit-Reset': String((start + 60_000) / 1000),
      },
    };
  }

  function send(exchange: Exchange, status: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
    exchange.log.status = status;
    const text = body === undefined ? '' : JSON.stringify(body);
    exchange.response.writeHead(status, {
      'Content-Type': 'application/json',
      'Content-Length': String(Buffer.byteLength(text)),
      'X-Okta-Request-Id': randomBytes(12).toString('base64url'),
      ...headers,
    });
    exchange.response.end(text);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = request.url ?? '/';
    const queryAt = target.indexOf('?');
    const path = queryAt >= 0 ? target.slice(0, queryAt) : target;
    const params = new URLSearchParams(queryAt >= 0 ? target.slice(queryAt + 1) : '');
    const retryCount = request.headers['x-okta-retry-count'];
    const log: OktaServerRequest = {
      method: request.method ?? 'GET',
      path,
      query: Object.fromEntries(params),
      dpop: typeof request.headers.dpop === 'string',
      ...(request.headers.authorization === undefined ? {} : { authorization: request.headers.authorization }),
      ...(typeof retryCount === 'string' ? { retryCount: Number(retryCount) } : {}),
      startedAt: performance.now(),
    };
    requests.push(log);
    const exchange: Exchange = { request, response, method: log.method, path, params, log };
    const body = await readBody(request);
    if (path !== TOKEN_PATH) await roundTrip(latencyMs);
    try {
      if (path === TOKEN_PATH) {
        if (exchange.method !== 'POST') throw new HttpProblem(405, oktaError('E0000022', 'The endpoint does not support the provided HTTP method'));
        tokenEndpoint(exchange, body);
        return;
      }
      api(exchange);
    } catch (error) {
      if (!(error instanceof HttpProblem)) throw error;
      send(exchange, error.status, error.body, error.headers);
    } finally {
      // Every answer is sent by now (handlers end the response before they return).
      log.endedAt = performance.now();
    }
  }

  // ---- OAuth ------------------------------------------------------------------------------------------------

  function oauthError(status: number, error: string, description: string, headers: Record<string, string> = {}): HttpProblem {
    return new HttpProblem(status, { error, error_description: description }, { 'Cache-Control': 'no-store', Pragma: 'no-cache', ...headers });
  }

  function tokenEndpoint(exchange: Exchange, body: string): void {
    const form = new URLSearchParams(body);
    if (form.get('grant_type') !== 'client_credentials') {
      throw oauthError(400, 'unsupported_grant_type', 'The authorization grant type is not supported by the authorization server. Configured grant types: [client_credentials].');
    }
    const assertion = form.get('client_assertion');
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer' || !assertion) {
      throw oauthError(401, 'invalid_client', 'Client authentication failed. Either the client or the client credentials are invalid.');
    }
    const jwt = parseJwt(assertion);
    const clientId = typeof jwt?.payload.iss === 'string' ? jwt.payload.iss : undefined;
    const app = clientId === undefined ? undefined : apps.get(clientId);
    if (!jwt || !app) throw oauthError(401, 'invalid_client', 'The client_assertion token is invalid.');
    if (app.keyId !== undefined && jwt.header.kid !== undefined && jwt.header.kid !== app.keyId) {
      throw oauthError(401, 'invalid_client', 'The client_assertion signature is invalid.');
    }
    if (!verifyJws(jwt, app.publicKey)) throw oauthError(401, 'invalid_client', 'The client_assertion signature is invalid.');
    if (jwt.payload.sub !== app.clientId) throw oauthError(401, 'invalid_client', "The 'sub' claim in the client_assertion must match the client_id.");
    if (jwt.payload.aud !== `${url}${TOKEN_PATH}`) {
      throw oauthError(401, 'invalid_client', "The audience claim for client_assertion must be the endpoint invoked for the request.");
    }
    const seconds = Date.now() / 1000;
    if (typeof jwt.payload.exp !== 'number' || jwt.payload.exp < seconds) throw oauthError(401, 'invalid_client', 'The client_assertion token is expired.');
    if (typeof jwt.payload.jti === 'string') {
      if (usedAssertionIds.has(jwt.payload.jti)) throw oauthError(401, 'invalid_client', "The client_assertion token has already been used.");
      usedAssertionIds.add(jwt.payload.jti);
    }
    const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
    if (scopes.length === 0) throw oauthError(400, 'invalid_scope', "The authorization server resource does not have any configured default scopes, 'scope' must be provided.");
    const denied = scopes.filter((scope) => !app.scopes.includes(scope));
    if (denied.length > 0) throw oauthError(400, 'invalid_scope', `The following scopes were requested, but not granted: ${denied.join(' ')}`);

    let jkt: string | undefined;
    if (app.dpop) {
      const proof = exchange.request.headers.dpop;
      if (typeof proof !== 'string') throw oauthError(400, 'invalid_dpop_proof', 'The DPoP proof JWT header is missing.');
      const checked = checkDpopProof(proof, 'POST', `${url}${TOKEN_PATH}`, undefined);
      if (typeof checked === 'string') throw oauthError(400, 'invalid_dpop_proof', checked);
      if (typeof checked.nonce !== 'string' || !dpopNonces.has(checked.nonce)) {
        const nonce = randomBytes(24).toString('base64url');
        dpopNonces.add(nonce);
        throw oauthError(400, 'use_dpop_nonce', 'Authorization server requires nonce in DPoP proof.', { 'DPoP-Nonce': nonce });
      }
      jkt = checked.jkt;
    }
    const accessToken = `oat.${randomBytes(32).toString('base64url')}`;
    accessTokens.set(accessToken, { clientId: app.clientId, scopes, expiresAt: Date.now() + 3600_000, jkt });
    issuedAccessTokens.push(accessToken);
    send(
      exchange,
      200,
      { token_type: jkt ? 'DPoP' : 'Bearer', expires_in: 3600, access_token: accessToken, scope: scopes.join(' ') },
      { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
    );
  }

  /** Checks a DPoP proof; answers the problem, or the key thumbprint and nonce. */
  function checkDpopProof(proof: string, method: string, htu: string, accessToken: string | undefined): string | { jkt: string; nonce: unknown } {
    const jwt = parseJwt(proof);
    if (!jwt) return 'The DPoP proof JWT is malformed.';
    if (jwt.header.typ !== 'dpop+jwt') return "The 'typ' header in the DPoP proof JWT is invalid.";
    const jwk = jwt.header.jwk;
    if (!isRecord(jwk)) return "The 'jwk' header in the DPoP proof JWT is missing.";
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } catch {
      return "The 'jwk' header in the DPoP proof JWT is invalid.";
    }
    if (!verifyJws(jwt, key)) return 'The DPoP proof JWT signature is invalid.';
    if (jwt.payload.htm !== method) return "'htm' claim in the DPoP proof JWT is invalid.";
    if (jwt.payload.htu !== htu) return "'htu' claim in the DPoP proof JWT is invalid.";
    if (typeof jwt.payload.iat !== 'number' || Math.abs(jwt.payload.iat - Date.now() / 1000) > 300) return "'iat' claim in the DPoP proof JWT is invalid.";
    if (typeof jwt.payload.jti !== 'string') return "'jti' claim in the DPoP proof JWT is missing.";
    if (accessToken !== undefined && jwt.payload.ath !== createHash('sha256').update(accessToken).digest('base64url')) {
      return "'ath' claim in the DPoP proof JWT is invalid.";
    }
    return { jkt: jwkThumbprint(jwk), nonce: jwt.payload.nonce };
  }

  // ---- management API ---------------------------------------------------------------------------------------

  function api(exchange: Exchange): void {
    const nowMs = Date.now();
    const bucket = exchange.path.startsWith('/api/v1/groups') ? 'groups' : 'users';
    const limits = rateLimitHeaders(bucket, nowMs);
    const baseHeaders: Record<string, string> = { Date: new Date(nowMs).toUTCString(), ...limits.headers };
    const fail = (problem: HttpProblem): never => {
      throw new HttpProblem(problem.status, problem.body, { ...baseHeaders, ...problem.headers });
    };

    if (failCountdown !== undefined) {
      if (failCountdown <= 0) fail(new HttpProblem(failStatus, oktaError('E0000009', failSummary)));
      failCountdown -= 1;
    }
    if (throttled > 0) {
      throttled -= 1;
      const spent = { 'X-Rate-Limit-Remaining': '0', 'X-Rate-Limit-Reset': String(Math.floor(nowMs / 1000) + throttleResetSeconds) };
      if (throttleAnswers) Object.assign(baseHeaders, spent);
      else fail(new HttpProblem(429, oktaError('E0000047', 'API call exceeded rate limit due to too many requests.'), spent));
    }
    if (limits.exceeded) fail(new HttpProblem(429, oktaError('E0000047', 'API call exceeded rate limit due to too many requests.')));

    const auth = authenticate(exchange);
    if (auth instanceof HttpProblem) fail(auth);
    if (Array.isArray(auth)) {
      const needed = bucket === 'groups' ? ['okta.groups.read', 'okta.groups.manage'] : ['okta.users.read', 'okta.users.manage'];
      if (!needed.some((scope) => auth.includes(scope))) {
        fail(
          new HttpProblem(403, oktaError('E0000006', 'You do not have permission to perform the requested action'), {
            'WWW-Authenticate': `Bearer authorization_uri="${url}/oauth2/v1/authorize", realm="${url}", scope="${needed[0]}", error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="${exchange.path}"`,
          }),
        );
      }
    }
    if (exchange.method !== 'GET') fail(new HttpProblem(405, oktaError('E0000022', 'The endpoint does not support the provided HTTP method')));

    const segments = exchange.path.split('/').slice(3).map(safeDecode);
    let result: { body: unknown; links?: string[] };
    try {
      result = route(exchange, segments);
    } catch (error) {
      if (error instanceof HttpProblem) fail(error);
      throw error;
    }
    const headers: Record<string, string | string[]> = { ...baseHeaders };
    if (result.links) headers.Link = result.links;
    send(exchange, 200, result.body, headers);
  }

  /** Answers the token's scopes (OAuth), true (API token) or the 401 / 400 to send. */
  function authenticate(exchange: Exchange): string[] | true | HttpProblem {
    const header = exchange.request.headers.authorization ?? '';
    const space = header.indexOf(' ');
    const scheme = space > 0 ? header.slice(0, space) : header;
    const credential = space > 0 ? header.slice(space + 1).trim() : '';
    const invalid = (challenge?: string): HttpProblem =>
      new HttpProblem(401, oktaError('E0000011', 'Invalid token provided'), challenge ? { 'WWW-Authenticate': challenge } : {});
    const challenge = (kind: string, description: string): string =>
      `${kind} authorization_uri="${url}/oauth2/v1/authorize", realm="${url}", error="invalid_token", error_description="${description}", resource="${exchange.path}"`;

    if (scheme === 'SSWS') return apiTokens.has(credential) ? true : invalid();
    if (scheme !== 'Bearer' && scheme !== 'DPoP') return invalid();
    const token = accessTokens.get(credential);
    if (!token || token.expiresAt < Date.now()) return invalid(challenge(scheme, 'The access token is invalid.'));
    if (scheme === 'Bearer') {
      return token.jkt === undefined ? token.scopes : invalid(challenge('DPoP', 'The access token is bound to a DPoP key: use the DPoP scheme.'));
    }
    if (token.jkt === undefined) return invalid(challenge('Bearer', 'The access token is not DPoP bound.'));
    const proof = exchange.request.headers.dpop;
    const checked =
      typeof proof === 'string' ? checkDpopProof(proof, exchange.method, `${url}${exchange.path}`, credential) : 'The DPoP proof JWT header is missing.';
    const problem = typeof checked === 'string' ? checked : checked.jkt === token.jkt ? undefined : 'The DPoP proof key does not match the access token.';
    if (problem === undefined) return token.scopes;
    return new HttpProblem(
      400,
      { error: 'invalid_dpop_proof', error_description: problem },
      {
        'WWW-Authenticate': `DPoP algs="RS256 RS384 RS512 ES256 ES384 ES512", authorization_uri="${url}/oauth2/v1/authorize", realm="${url}", error="invalid_dpop_proof", error_description="${problem}", resource="${exchange.path}"`,
      },
    );
  }

  function route(exchange: Exchange, segments: string[]): { body: unknown; links?: string[] } {
    const [collection, id, sub, ...rest] = segments;
    if (rest.length === 0 && collection === 'users') {
      if (id === undefined) return listUsers(exchange);
      const user = users.get(id) ?? [...users.values()].find((candidate) => sameText(candidate.profile.login, id));
      if (!user) throw new HttpProblem(404, oktaError('E0000007', `Not found: Resource not found: ${id} (User)`));
      if (sub === undefined) return { body: userJson(user, true) };
      if (sub === 'groups') return { body: [...groups.values()].filter((group) => group.members.includes(user.id)).sort(byId).map(groupJson) };
    }
    if (rest.length === 0 && collection === 'groups') {
      if (id === undefined) return listGroups(exchange);
      const group = groups.get(id);
      if (!group) throw new HttpProblem(404, oktaError('E0000007', `Not found: Resource not found: ${id} (UserGroup)`));
      if (sub === undefined) return { body: groupJson(group) };
      if (sub === 'users') {
        const members = group.members.flatMap((member) => users.get(member) ?? []).sort(byId);
        return pageOf(exchange, members, GROUP_USERS_MAX, GROUP_USERS_MAX, (user) => userJson(user, false));
      }
    }
    throw new HttpProblem(404, oktaError('E0000007', `Not found: Resource not found: ${exchange.path}`));
  }

  function listUsers(exchange: Exchange): { body: unknown; links?: string[] } {
    const { params } = exchange;
    const q = params.get('q');
    let list = [...users.values()];
    if (q !== null) {
      const prefix = q.toLowerCase();
      list = list.filter(
        (user) =>
          user.status !== 'DEPROVISIONED' &&
          ['firstName', 'lastName', 'email'].some((attribute) => {
            const value = user.profile[attribute];
            return typeof value === 'string' && value.toLowerCase().startsWith(prefix);
          }),
      );
      const limit = clampLimit(params.get('limit'), USER_QUERY_DEFAULT, USER_LIST_MAX);
      return { body: list.sort(byId).slice(0, limit).map((user) => userJson(user, false)), links: [selfLink(exchange)] };
    }
    const search = params.get('search');
    const filter = params.get('filter');
    if (search === null && filter === null) {
      list = list.filter((user) => user.status !== 'DEPROVISIONED');
    } else {
      const matchers = [
        ...(search === null ? [] : [compileExpression(search, 'search', USER_FILTER_ATTRIBUTES)]),
        ...(filter === null ? [] : [compileExpression(filter, 'filter', USER_FILTER_ATTRIBUTES)]),
      ];
      list = list.filter((user) => matchers.every((matches) => matches((path) => userAttribute(user, path))));
    }
    const sortBy = search === null ? null : params.get('sortBy');
    if (sortBy) {
      const direction = params.get('sortOrder')?.toLowerCase() === 'desc' ? -1 : 1;
      list.sort((a, b) => direction * compareValues(userAttribute(a, sortBy), userAttribute(b, sortBy)) || byId(a, b));
    } else {
      list.sort(byId);
    }
    return pageOf(exchange, list, USER_LIST_MAX, USER_LIST_MAX, (user) => userJson(user, false), !!sortBy);
  }

  function listGroups(exchange: Exchange): { body: unknown; links?: string[] } {
    const { params } = exchange;
    let list = [...groups.values()].sort(byId);
    const q = params.get('q');
    if (q !== null) {
      const prefix = q.toLowerCase();
      list = list.filter((group) => group.name.toLowerCase().startsWith(prefix));
      const limit = clampLimit(params.get('limit'), GROUP_QUERY_DEFAULT, GROUP_LIST_MAX);
      return { body: list.slice(0, limit).map(groupJson), links: [selfLink(exchange)] };
    }
    const search = params.get('search');
    const filter = params.get('filter');
    const matchers = [
      ...(search === null ? [] : [compileExpression(search, 'search', GROUP_FILTER_ATTRIBUTES)]),
      ...(filter === null ? [] : [compileExpression(filter, 'filter', GROUP_FILTER_ATTRIBUTES)]),
    ];
    list = list.filter((group) => matchers.every((matches) => matches((path) => groupAttribute(group, path))));
    return pageOf(exchange, list, GROUP_LIST_MAX, GROUP_LIST_MAX, groupJson);
  }

  function selfLink(exchange: Exchange): string {
    const query = exchange.params.toString();
    return `<${url}${exchange.path}${query ? `?${query}` : ''}>; rel="self"`;
  }

  function pageOf<T extends { id: string }>(
    exchange: Exchange,
    sorted: T[],
    defaultLimit: number,
    maxLimit: number,
    toJson: (item: T) => unknown,
    customOrder = false,
  ): { body: unknown; links: string[] } {
    const { params } = exchange;
    const limit = clampLimit(params.get('limit'), defaultLimit, maxLimit);
    const after = params.get('after');
    let rest = sorted;
    if (after !== null && after !== '') {
      const index = sorted.findIndex((item) => item.id === after);
      rest = index >= 0 ? sorted.slice(index + 1) : customOrder ? [] : sorted.filter((item) => item.id > after);
    }
    const page = rest.slice(0, limit);
    const links = [selfLink(exchange)];
    const last = page[page.length - 1];
    if (rest.length > limit && last) {
      const next = new URLSearchParams({ after: last.id, limit: String(limit) });
      for (const [key, value] of params) if (key !== 'after' && key !== 'limit') next.append(key, value);
      links.push(`<${url}${exchange.path}?${next.toString()}>; rel="next"`);
    }
    return { body: page.map(toJson), links };
  }

  // ---- JSON shapes ------------------------------------------------------------------------------------------

  function userJson(user: OktaUser, single: boolean): unknown {
    const self = `${url}/api/v1/users/${encodeURIComponent(user.id)}`;
    const profile: Record<string, unknown> = { mobilePhone: null, secondEmail: null, ...user.profile };
    const email = typeof user.profile.email === 'string' ? user.profile.email : undefined;
    const links: Record<string, unknown> = { self: { href: self } };
    if (single) {
      const lifecycle = user.status === 'DEPROVISIONED' ? ['activate'] : user.status === 'STAGED' ? ['activate', 'deactivate'] : ['suspend', 'resetPassword', 'expirePassword', 'deactivate'];
      for (const action of lifecycle) links[action] = { href: `${self}/lifecycle/${action === 'expirePassword' ? 'expire_password' : action === 'resetPassword' ? 'reset_password' : action}`, method: 'POST' };
      links.schema = { href: `${url}/api/v1/meta/schemas/user/osc1default0000000x7` };
      links.type = { href: `${url}/api/v1/meta/types/user/${user.typeId}` };
    }
    return {
      id: user.id,
      status: user.status,
      created: user.created,
      activated: user.activated,
      statusChanged: user.statusChanged,
      lastLogin: user.lastLogin,
      lastUpdated: user.lastUpdated,
      passwordChanged: user.passwordChanged,
      type: { id: user.typeId },
      profile,
      credentials: {
        ...(user.status === 'STAGED' ? {} : { password: {} }),
        ...(email ? { emails: [{ value: email, status: 'VERIFIED', type: 'PRIMARY' }] } : {}),
        provider: { type: 'OKTA', name: 'OKTA' },
      },
      _links: links,
    };
  }

  function groupJson(group: OktaGroup): unknown {
    const base = `${url}/api/v1/groups/${encodeURIComponent(group.id)}`;
    return {
      id: group.id,
      created: group.created,
      lastUpdated: group.lastUpdated,
      lastMembershipUpdated: group.lastMembershipUpdated,
      objectClass: ['okta:user_group'],
      type: group.type,
      profile: { name: group.name, description: group.description },
      _links: {
        logo: [
          { name: 'medium', href: `${url}/assets/img/logos/groups/okta-medium.png`, type: 'image/png' },
          { name: 'large', href: `${url}/assets/img/logos/groups/okta-large.png`, type: 'image/png' },
        ],
        users: { href: `${base}/users` },
        apps: { href: `${base}/apps` },
      },
    };
  }

  // ---- start ------------------------------------------------------------------------------------------------

  const server = http.createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify(oktaError('E0000009', `Internal Server Error: ${String(error)}`)));
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    addToken: (token) => void apiTokens.add(token),
    revokeToken(token) {
      apiTokens.delete(token);
      accessTokens.delete(token);
    },
    addServiceApp(app) {
      apps.set(app.clientId, {
        clientId: app.clientId,
        publicKey: createPublicKey(app.publicKeyPem),
        keyId: app.keyId,
        scopes: [...(app.scopes ?? DEFAULT_SERVICE_APP_SCOPES)],
        dpop: app.dpop ?? false,
      });
    },
    accessTokens: issuedAccessTokens,
    users,
    groups,
    addUser,
    updateUser,
    removeUser,
    addGroup,
    updateGroup(id, patch) {
      const group = requireGroup(id);
      if (patch.name !== undefined) group.name = patch.name;
      if (patch.description !== undefined) group.description = patch.description;
      group.lastUpdated = now().toISOString();
      return group;
    },
    setMembers(groupId, userIds) {
      const group = requireGroup(groupId);
      group.members = [...new Set(userIds)];
      group.lastMembershipUpdated = now().toISOString();
    },
    removeGroup(id) {
      if (!groups.delete(id)) throw new Error(`No group ${id}`);
    },
    setClock(date) {
      pinnedClock = date === null ? undefined : new Date(date).getTime();
    },
    now,
    throttle(count, options = {}) {
      throttled = count;
      throttleResetSeconds = options.resetSeconds ?? 1;
      throttleAnswers = options.answer ?? false;
    },
    failAfter(requestsFromNow, status = 500, errorSummary = 'Internal Server Error') {
      failCountdown = requestsFromNow;
      failStatus = status;
      failSummary = errorSummary;
    },
    heal() {
      failCountdown = undefined;
      throttled = 0;
    },
    setLatency(ms) {
      latencyMs = ms;
    },
    rateLimits,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Filter / search expressions
// ---------------------------------------------------------------------------------------------------------------

type Getter = (path: string) => unknown;
type Matcher = (get: Getter) => boolean;
type Mode = 'search' | 'filter';

/** `filter` attributes and whether they allow the inequality operators. */
const USER_FILTER_ATTRIBUTES: ReadonlyMap<string, boolean> = new Map([
  ['status', false],
  ['lastUpdated', true],
  ['id', false],
  ['profile.login', false],
  ['profile.email', false],
  ['profile.firstName', false],
  ['profile.lastName', false],
]);
const GROUP_FILTER_ATTRIBUTES: ReadonlyMap<string, boolean> = new Map([
  ['id', false],
  ['type', false],
  ['lastUpdated', true],
  ['lastMembershipUpdated', true],
]);
const DATE_ATTRIBUTES = new Set(['created', 'activated', 'statusChanged', 'lastLogin', 'lastUpdated', 'passwordChanged', 'lastMembershipUpdated']);
const OPERATORS = new Set(['eq', 'ne', 'sw', 'co', 'gt', 'ge', 'lt', 'le']);

function invalidSearch(): HttpProblem {
  return new HttpProblem(400, oktaError('E0000031', 'Invalid search criteria.'));
}

function tokenize(expression: string): string[] {
  const tokens: string[] = [];
  let i = 0;
  while (i < expression.length) {
    const char = expression[i] ?? '';
    if (/\s/.test(char)) {
      i += 1;
    } else if (char === '(' || char === ')') {
      tokens.push(char);
      i += 1;
    } else if (char === '"') {
      let value = '"';
      i += 1;
      while (i < expression.length && expression[i] !== '"') {
        if (expression[i] === '\\') i += 1;
        value += expression[i] ?? '';
        i += 1;
      }
      if (i >= expression.length) throw invalidSearch();
      tokens.push(value);
      i += 1;
    } else {
      let word = '';
      while (i < expression.length && !/[\s()"]/.test(expression[i] ?? '')) {
        word += expression[i];
        i += 1;
      }
      tokens.push(word);
    }
  }
  return tokens;
}

function compileExpression(expression: string, mode: Mode, filterAttributes: ReadonlyMap<string, boolean>): Matcher {
  const tokens = tokenize(expression);
  let position = 0;
  const peek = (): string | undefined => tokens[position];
  const take = (): string => {
    const token = tokens[position];
    if (token === undefined) throw invalidSearch();
    position += 1;
    return token;
  };

  const parseOr = (): Matcher => {
    const parts = [parseAnd()];
    while (peek()?.toLowerCase() === 'or') {
      position += 1;
      parts.push(parseAnd());
    }
    return parts.length === 1 && parts[0] ? parts[0] : (get) => parts.some((part) => part(get));
  };
  const parseAnd = (): Matcher => {
    const parts = [parsePrimary()];
    while (peek()?.toLowerCase() === 'and') {
      position += 1;
      parts.push(parsePrimary());
    }
    return parts.length === 1 && parts[0] ? parts[0] : (get) => parts.every((part) => part(get));
  };
  const parsePrimary = (): Matcher => {
    if (peek() === '(') {
      position += 1;
      const inner = parseOr();
      if (take() !== ')') throw invalidSearch();
      return inner;
    }
    const attribute = take();
    if (!/^[A-Za-z_][\w.]*$/.test(attribute)) throw invalidSearch();
    const operator = take().toLowerCase();
    if (mode === 'filter') {
      const inequalities = filterAttributes.get(attribute);
      if (inequalities === undefined) throw invalidSearch();
      if (operator !== 'eq' && !(inequalities && ['gt', 'ge', 'lt', 'le'].includes(operator))) throw invalidSearch();
    }
    if (operator === 'pr') return (get) => get(attribute) !== undefined && get(attribute) !== null;
    if (!OPERATORS.has(operator) || operator === 'ne') throw invalidSearch();
    const literal = parseLiteral(take());
    return (get) => {
      const value = get(attribute);
      const values = Array.isArray(value) ? (value as unknown[]) : [value];
      return values.some((one) => compare(one, operator, literal, mode, DATE_ATTRIBUTES.has(attribute)));
    };
  };

  const matcher = parseOr();
  if (position !== tokens.length) throw invalidSearch();
  return matcher;
}

function parseLiteral(token: string): string | number | boolean | null {
  if (token.startsWith('"')) return token.slice(1);
  if (token === 'true') return true;
  if (token === 'false') return false;
  if (token === 'null') return null;
  if (/^-?\d+(\.\d+)?$/.test(token)) return Number(token);
  throw invalidSearch();
}

function compare(value: unknown, operator: string, literal: string | number | boolean | null, mode: Mode, isDate: boolean): boolean {
  if (value === undefined || value === null) return literal === null && operator === 'eq';
  if (literal === null) return false;
  if (isDate && typeof value === 'string' && typeof literal === 'string') {
    const left = Date.parse(value);
    const right = Date.parse(literal);
    if (Number.isNaN(right)) throw invalidSearch();
    return ordered(left === right ? 0 : left < right ? -1 : 1, operator);
  }
  if (typeof literal === 'string') {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return false;
    const fold = (text: string): string => (mode === 'search' ? text.toLowerCase() : text);
    const left = fold(String(value));
    const right = fold(literal);
    if (operator === 'sw') return left.startsWith(right);
    if (operator === 'co') return left.includes(right);
    return ordered(left === right ? 0 : left < right ? -1 : 1, operator);
  }
  if (typeof literal === 'number' && typeof value === 'number') return ordered(Math.sign(value - literal), operator);
  return operator === 'eq' && value === literal;
}

function ordered(comparison: number, operator: string): boolean {
  switch (operator) {
    case 'eq':
      return comparison === 0;
    case 'gt':
      return comparison > 0;
    case 'ge':
      return comparison >= 0;
    case 'lt':
      return comparison < 0;
    case 'le':
      return comparison <= 0;
    default:
      return false;
  }
}

function userAttribute(user: OktaUser, path: string): unknown {
  if (path.startsWith('profile.')) return user.profile[path.slice('profile.'.length)];
  if (path === 'type.id') return user.typeId;
  const top: Record<string, unknown> = { ...user };
  return path in top && path !== 'profile' ? top[path] : undefined;
}

function groupAttribute(group: OktaGroup, path: string): unknown {
  switch (path) {
    case 'profile.name':
      return group.name;
    case 'profile.description':
      return group.description;
    case 'id':
    case 'type':
    case 'created':
    case 'lastUpdated':
    case 'lastMembershipUpdated':
      return group[path];
    default:
      return undefined;
  }
}

function compareValues(a: unknown, b: unknown): number {
  const left = a === undefined || a === null ? '' : String(a).toLowerCase();
  const right = b === undefined || b === null ? '' : String(b).toLowerCase();
  return left === right ? 0 : left < right ? -1 : 1;
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------------

export function oktaError(errorCode: string, errorSummary: string): Record<string, unknown> {
  return { errorCode, errorSummary, errorLink: errorCode, errorId: `oae${randomBytes(16).toString('base64url').slice(0, 22)}`, errorCauses: [] };
}

function byId(a: { id: string }, b: { id: string }): number {
  return a.id === b.id ? 0 : a.id < b.id ? -1 : 1;
}

function sameText(value: unknown, text: string): boolean {
  return typeof value === 'string' && value.toLowerCase() === text.toLowerCase();
}

function clampLimit(raw: string | null, fallback: number, max: number): number {
  const limit = raw === null ? Number.NaN : Number.parseInt(raw, 10);
  return Number.isNaN(limit) || limit < 1 ? fallback : Math.min(limit, max);
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

interface ParsedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

function parseJwt(token: string): ParsedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts as [string, string, string];
  try {
    const parsedHeader: unknown = JSON.parse(Buffer.from(header, 'base64url').toString('utf8'));
    const parsedPayload: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (!isRecord(parsedHeader) || !isRecord(parsedPayload)) return undefined;
    return { header: parsedHeader, payload: parsedPayload, signingInput: `${header}.${payload}`, signature: Buffer.from(signature, 'base64url') };
  } catch {
    return undefined;
  }
}

const JWS_HASHES: Record<string, string> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
};

function verifyJws(jwt: ParsedJwt, key: KeyObject): boolean {
  const alg = typeof jwt.header.alg === 'string' ? jwt.header.alg : '';
  const hash = JWS_HASHES[alg];
  if (!hash) return false;
  const data = Buffer.from(jwt.signingInput);
  try {
    if (alg.startsWith('ES')) {
      if (key.asymmetricKeyType !== 'ec') return false;
      return verifySignature(hash, data, { key, dsaEncoding: 'ieee-p1363' }, jwt.signature);
    }
    if (key.asymmetricKeyType !== 'rsa') return false;
    return verifySignature(hash, data, key, jwt.signature);
  } catch {
    return false;
  }
}

/** RFC 7638 thumbprint (SHA-256, base64url). */
function jwkThumbprint(jwk: Record<string, unknown>): string {
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
