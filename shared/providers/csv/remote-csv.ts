import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent, type RequestFilteringAgentOptions } from 'request-filtering-agent';
import type { SecretResolver } from '../../config/secrets.js';
import type { CsvProfile } from '../../connections/profile.js';
import { AppError } from '../../errors/app-error.js';

type RemoteSource = Extract<CsvProfile['source'], { kind: 'https' }>;

export interface RemoteCsvOptions {
  secrets: SecretResolver;
  /** Test-only: lets the URL (and its redirects) be plain http. */
  allowInsecureHttp: boolean;
  /** USERSYNC_ALLOW_PRIVATE_SOURCES: private, loopback or reserved addresses allowed, all (true) or those listed. */
  allowPrivateSources: boolean | string[];
  /** How host names are resolved (tests point a public-looking name at a private address); DNS by default. */
  lookup?: LookupFunction;
  /** How long the server may stay silent (connecting, answering, sending the file). */
  idleTimeoutMs?: number;
}

const IDLE_TIMEOUT_MS = 120_000;
const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Opens a CSV file an HR system publishes over HTTPS with basic authentication. Every connection goes
 * through request-filtering-agent, which checks the address actually connected to (after DNS, so a
 * rebinding name cannot pass) against private, loopback and reserved ranges unless the setting allows
 * them. Redirects are followed here, a few at most, each through the same check, never from https to
 * http, and with the credentials only to the URL's own origin. Errors name the host and what went
 * wrong, never credentials, URL user-info or a TLS library's text.
 */
export async function openRemoteCsv(source: RemoteSource, options: RemoteCsvOptions): Promise<Readable> {
  const start = withoutUserInfo(new URL(source.url));
  if (start.protocol !== 'https:' && !options.allowInsecureHttp) {
    throw new AppError('source-insecure-url', `The CSV URL must use https:// (got ${start.protocol}//${start.host}); credentials would travel in clear.`);
  }
  const authorization =
    source.username !== undefined || source.passwordSecret !== undefined
      ? `Basic ${Buffer.from(`${source.username ?? ''}:${source.passwordSecret ? options.secrets.resolve(source.passwordSecret) : ''}`).toString('base64')}`
      : undefined;

  let url = start;
  for (let hop = 0; ; hop += 1) {
    const sameOrigin = url.origin === start.origin;
    const response = await get(url, { accept: 'text/csv, text/plain, */*', ...(authorization && sameOrigin ? { authorization } : {}) }, options);
    const status = response.statusCode ?? 0;
    if (!REDIRECTS.has(status)) return checked(response, url);
    response.resume();
    if (hop >= MAX_REDIRECTS) throw new AppError('source-unavailable', `${start.host} redirected the CSV download more than ${MAX_REDIRECTS} times.`);
    url = nextHop(url, response.headers.location, options);
  }
}

/** Where a redirect leads, if it may be followed: https only (http only from http, in tests), no user-info. */
function nextHop(from: URL, location: string | undefined, options: RemoteCsvOptions): URL {
  if (location === undefined) throw new AppError('source-unavailable', `${from.host} redirected the CSV download without saying where to.`);
  let next: URL;
  try {
    next = new URL(location, from);
  } catch {
    throw new AppError('source-unavailable', `${from.host} redirected the CSV download to an invalid URL.`);
  }
  const allowed = next.protocol === 'https:' || (next.protocol === 'http:' && from.protocol === 'http:' && options.allowInsecureHttp);
  if (!allowed) {
    throw new AppError('source-insecure-url', `${from.host} redirected the CSV download to ${next.protocol}//${next.host}; only a redirect to https:// is followed.`);
  }
  return withoutUserInfo(next);
}

/** The file, or an error for a status that is not a success. */
function checked(response: IncomingMessage, url: URL): Readable {
  const status = response.statusCode ?? 0;
  if (status >= 200 && status < 300) return response;
  response.resume();
  if (status === 401 || status === 403) {
    throw new AppError('source-auth-failed', `${url.host} refused the CSV download (HTTP ${status}); check the username and the password setting.`);
  }
  if (status === 404) throw new AppError('source-not-found', `${url.host} has no CSV file at ${url.pathname} (HTTP 404).`);
  const transient = status === 429 || status >= 500;
  throw new AppError('source-unavailable', `${url.host} answered HTTP ${status} to the CSV download.`, { transient });
}

/** One GET through the address-filtering agent; resolves with the response head. */
function get(url: URL, headers: Record<string, string>, options: RemoteCsvOptions): Promise<IncomingMessage> {
  const allowed = options.allowPrivateSources;
  const filter: RequestFilteringAgentOptions = Array.isArray(allowed) ? { allowIPAddressList: allowed } : { allowPrivateIPAddress: allowed };
  const secure = url.protocol === 'https:';
  const agent = secure ? new RequestFilteringHttpsAgent(filter) : new RequestFilteringHttpAgent(filter);
  const timeoutMs = options.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const request = (secure ? https : http).request(url, { headers, agent, ...(options.lookup ? { lookup: options.lookup } : {}) });
    request.setTimeout(timeoutMs, () => {
      request.destroy(new AppError('source-unavailable', `${url.host} did not answer the CSV download within ${timeoutMs / 1000} seconds.`, { transient: true }));
    });
    // After the head arrived, an error ends the body stream instead (the page job retries it).
    request.on('error', (error) => reject(connectionError(error, url)));
    request.once('response', resolve);
    request.end();
  });
}

/** A connection failure as a sentence an admin can act on, by the error's code (never its library text). */
function connectionError(error: unknown, url: URL): AppError {
  if (error instanceof AppError) return error;
  const { host, hostname } = url;
  const message = error instanceof Error ? error.message : '';
  // request-filtering-agent's refusal: "DNS lookup 127.0.0.1(family:4, host:…) is not allowed. Because, …".
  const refused = /^DNS lookup (\S+?)\(.*is not allowed/.exec(message);
  if (refused) {
    return new AppError(
      'source-private-address',
      `${hostname} resolves to ${refused[1]}, a private, loopback or reserved address, so the CSV download was refused before connecting. ` +
        'Use a public address, or allow it with USERSYNC_ALLOW_PRIVATE_SOURCES (true, or a list of addresses and ranges) for an HR system on a private endpoint.',
    );
  }
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  if (code === 'ENOTFOUND') return new AppError('source-unavailable', `The host ${hostname} of the CSV URL was not found (DNS); check the URL.`);
  if (code === 'EAI_AGAIN') return new AppError('source-unavailable', `The host ${hostname} of the CSV URL could not be looked up (DNS did not answer).`, { transient: true });
  if (code === 'ECONNREFUSED') {
    return new AppError('source-unavailable', `${host} refused the connection for the CSV download: check the URL's port and that the HR system is up.`, { transient: true });
  }
  if (code === 'ETIMEDOUT') return new AppError('source-unavailable', `Connecting to ${host} for the CSV download timed out.`, { transient: true });
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return new AppError('source-tls-failed', `The TLS certificate of ${host} is not issued for ${hostname}, so the CSV download was refused.`);
  }
  if (TRUST_ERRORS.has(code)) {
    return new AppError('source-tls-failed', `The TLS certificate of ${host} is not trusted (self-signed, expired or from an unknown authority), so the CSV download was refused.`);
  }
  if (code.startsWith('ERR_SSL_') || code === 'EPROTO') {
    return new AppError('source-tls-failed', `The TLS handshake with ${host} failed: the server may not speak HTTPS on that port, or only offers outdated TLS versions.`);
  }
  return new AppError('source-unavailable', `Could not reach ${host} for the CSV file (${code || 'the connection failed'}).`, { transient: true });
}

/** OpenSSL's verification failures (Node's `code` of the error), all meaning "not a certificate we trust". */
const TRUST_ERRORS = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'INVALID_CA',
]);

/** Credentials in a URL are never sent (they would bypass the password setting) nor shown. */
function withoutUserInfo(url: URL): URL {
  const clean = new URL(url);
  clean.username = '';
  clean.password = '';
  return clean;
}
