import type okta from '@okta/okta-sdk-nodejs';
import type { RequestOptions } from '@okta/okta-sdk-nodejs/src/types/request-options.js';
import type { SecretResolver } from '../../config/secrets.js';
import type { OktaProfile } from '../../connections/profile.js';
import { AppError, isAppError } from '../../errors/app-error.js';

/** Below this share of the minute's budget, wait for the window to reset instead of spending it. */
const SLOW_DOWN_BELOW = 0.1;
/** What to wait when a 429 does not say until when. */
const DEFAULT_THROTTLE_MS = 10_000;

/**
 * The Okta SDK is loaded on first use: it is the largest module the app imports (~90 MB resident), and most
 * deployments sync no Okta org.
 */
let sdk: Promise<{ Client: typeof okta.Client; PacedRequestExecutor: typeof okta.DefaultRequestExecutor }> | undefined;
function loadSdk(): NonNullable<typeof sdk> {
  sdk ??= import('@okta/okta-sdk-nodejs').then(({ default: loaded }) => ({ Client: loaded.Client, PacedRequestExecutor: pacedRequestExecutor(loaded.DefaultRequestExecutor) }));
  return sdk;
}

/**
 * Paces requests by Okta's rate-limit headers, for the whole run rather than this process: a 429, or a request
 * about to be sent while the window's remaining budget is low, throws `source-throttled` with the time until
 * `X-Rate-Limit-Reset`, and every chain of the run waits that long (the SDK's own 429 retries are off: they
 * would slow this one request while the run's other chains, on other instances, go on).
 */
function pacedRequestExecutor(Base: typeof okta.DefaultRequestExecutor): typeof okta.DefaultRequestExecutor {
  return class PacedRequestExecutor extends Base {
    private remaining: number | undefined;
    private limit: number | undefined;
    private resetAt = 0;

    override async fetch(request: RequestOptions) {
      if (this.remaining !== undefined && this.limit !== undefined && this.remaining <= this.limit * SLOW_DOWN_BELOW) {
        const { remaining, limit } = this;
        // Told once: from here the run waits as a whole, and a request still sent is answered 429 at worst.
        this.remaining = undefined;
        const wait = this.resetAt - Date.now();
        if (wait > 0) throw throttled(request, wait, `only ${remaining} of ${limit} requests are left until the rate limit resets`);
      }
      const response = await super.fetch(request);
      if (response.status === 429) throw throttled(request, this.untilReset(response) ?? DEFAULT_THROTTLE_MS, 'HTTP 429, rate limit exceeded');
      const remaining = Number(response.headers.get('x-rate-limit-remaining'));
      const limit = Number(response.headers.get('x-rate-limit-limit'));
      if (Number.isFinite(remaining) && response.headers.has('x-rate-limit-remaining')) this.remaining = remaining;
      if (Number.isFinite(limit) && limit > 0) this.limit = limit;
      const untilReset = this.untilReset(response);
      if (untilReset !== undefined) this.resetAt = Date.now() + untilReset;
      return response;
    }

    /** The time until `X-Rate-Limit-Reset` by the org's own clock (its Date header; ours may differ), as the SDK reckons a 429's wait. */
    private untilReset(response: Awaited<ReturnType<okta.DefaultRequestExecutor['fetch']>>): number | undefined {
      if (!this.validateRetryResponseHeaders(response) || !response.headers.has('date')) return undefined;
      const ms = this.getRetryDelayMs(response);
      return Number.isFinite(ms) ? ms : undefined;
    }
  };
}

function throttled(request: RequestOptions, waitMs: number, why: string): AppError {
  const host = request.url ? new URL(request.url).host : 'Okta';
  const retryAfterMs = Math.max(0, waitMs);
  return new AppError('source-throttled', `${host} is throttling this app (${why}; wait ${Math.ceil(retryAfterMs / 1000)} s).`, { transient: true, details: { retryAfterMs } });
}

/** Okta clients, one per org and credential: an API token or an OAuth 2.0 service app's private key, from an app setting. */
export class OktaClients {
  private readonly clients = new Map<string, okta.Client>();

  constructor(private readonly options: { secrets: SecretResolver; allowInsecureHttp: boolean }) {}

  async for(profile: OktaProfile): Promise<okta.Client> {
    const url = new URL(profile.orgUrl);
    if (url.protocol !== 'https:' && !this.options.allowInsecureHttp) {
      throw new AppError('source-insecure-url', `The Okta org URL must use https:// (got ${url.protocol}//${url.host}).`);
    }
    // Loaded before the lookup, so the lookup and the insert below are not split by an await.
    const { Client, PacedRequestExecutor } = await loadSdk();
    const id = `${profile.orgUrl}|${JSON.stringify(profile.credential)}`;
    let client = this.clients.get(id);
    if (!client) {
      const { credential } = profile;
      // No cache: a single read must see the latest state (collections are never cached anyway).
      const base = { orgUrl: url.origin, cacheMiddleware: null, requestExecutor: new PacedRequestExecutor({ maxRetries: 0, requestTimeout: 0 }) };
      client =
        credential.kind === 'token'
          ? new Client({ ...base, token: this.options.secrets.resolve(credential.tokenSecret) })
          : new Client({
              ...base,
              authorizationMode: 'PrivateKey',
              clientId: credential.clientId,
              scopes: ['okta.users.read', 'okta.groups.read'],
              privateKey: this.options.secrets.resolve(credential.privateKeySecret),
              ...(credential.keyId ? { keyId: credential.keyId } : {}),
            });
      this.clients.set(id, client);
    }
    return client;
  }
}

/** Okta pages with an opaque `after` cursor inside the `Link: rel="next"` URL. */
export function afterOf(nextUri: string | undefined): string | undefined {
  return nextUri ? (new URL(nextUri).searchParams.get('after') ?? undefined) : undefined;
}

/** Okta failures as errors an admin can act on; the token is never part of them. */
export function oktaFailure(error: unknown, profile: OktaProfile): AppError {
  if (isAppError(error)) return error;
  const host = new URL(profile.orgUrl).host;
  const status = typeof error === 'object' && error !== null && 'status' in error ? Number((error as { status: unknown }).status) : undefined;
  const code = typeof error === 'object' && error !== null && 'errorCode' in error ? String((error as { errorCode: unknown }).errorCode) : undefined;
  const summary = typeof error === 'object' && error !== null && 'errorSummary' in error ? String((error as { errorSummary: unknown }).errorSummary) : error instanceof Error ? error.message : String(error);
  if (status === 401 || code === 'E0000011') {
    return new AppError(
      'source-auth-failed',
      `${host} refused the credentials (${code ?? 'HTTP 401'}: ${summary}). An API token is revoked when its user is deactivated and expires after 30 days unused: create a new one as an active admin user and update the app setting.`,
    );
  }
  if (status === 403) return new AppError('source-auth-failed', `${host} denied access (${code ?? 'HTTP 403'}: ${summary}); grant okta.users.read and okta.groups.read.`);
  if (status === 404) return new AppError('source-not-found', `${host} has no such object (${code ?? 'HTTP 404'}: ${summary}); check the selected group ids.`);
  const transient = status === undefined || status === 429 || status >= 500;
  return new AppError('source-unavailable', `${host} answered ${status ? `HTTP ${status}` : 'nothing usable'} (${summary}).`, { transient });
}
