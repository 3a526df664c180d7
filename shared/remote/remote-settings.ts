import { BlockList, isIP } from 'node:net';
import { AppError } from '../errors/app-error.js';

/** Where a deployed app's API is and how to get in: the CLI's remote mode. */
export interface RemoteSettings {
  /** The API's base, `https://APP.azurewebsites.net/api/`. */
  api: URL;
  /** What an admin reads in messages: the address as given, without `/api`. */
  app: string;
  /** The token scope of the API's app registration (`api://<appId>/.default`); none: no token is sent. */
  scope?: string;
  /** Sent as `x-functions-key` where the app's functions require a key. */
  functionKey?: string;
}

/** The options every command takes (`--url`, `--scope`), before the environment fills in what they leave out. */
export interface RemoteOptions {
  url?: string;
  scope?: string;
}

/** 127.0.0.0/8 and ::1: the local host (`npm start`) needs no token and may speak plain http. */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

const WHERE_TO_FIND = 'azd env get-value USERSYNC_URL';

/**
 * Remote mode, from the options or else USERSYNC_URL, USERSYNC_API_SCOPE and USERSYNC_FUNCTION_KEY; undefined
 * without a URL (the CLI works on storage). The key comes from the environment only, never a flag, so it stays
 * out of shell history and process lists. Refused before anything is sent: a URL that is not an app's address,
 * plain http beyond this machine (a token and a key would travel in clear), and a remote app without a scope
 * (Easy Auth answers every request without a token with 401).
 */
export function remoteSettings(options: RemoteOptions, env: Record<string, string | undefined>): RemoteSettings | undefined {
  const given = options.url ?? nonBlank(env.USERSYNC_URL);
  if (given === undefined) {
    if (options.scope !== undefined) throw new AppError('usage-invalid', '--scope names the API of the app --url (or USERSYNC_URL) gives; without one, usersync works on storage.');
    return undefined;
  }
  const url = appUrl(given);
  const local = isLoopback(url.hostname);
  if (url.protocol === 'http:' && !local) {
    throw new AppError('config-invalid', `The app's address must use https (${url.host}): plain http is only for this machine (127.0.0.1, localhost).`);
  }
  const scope = options.scope ?? nonBlank(env.USERSYNC_API_SCOPE);
  if (scope === undefined && !local) {
    throw new AppError(
      'config-invalid',
      `Signing in to ${url.host} needs the API's scope: set USERSYNC_API_SCOPE (azd env get-value USERSYNC_API_SCOPE) or pass --scope api://<app id>/.default.`,
    );
  }
  const functionKey = nonBlank(env.USERSYNC_FUNCTION_KEY);
  // `https://APP` and `https://APP/api` both name the app; the routes live under /api.
  const app = `${url.origin}${url.pathname.replace(/\/+$/, '').replace(/\/api$/i, '')}`;
  return { api: new URL(`${app}/api/`), app, ...(scope !== undefined ? { scope } : {}), ...(functionKey !== undefined ? { functionKey } : {}) };
}

/** The app's address: http(s), no user name or password (never echoed: it could be one), no query (a `?code=` key belongs in USERSYNC_FUNCTION_KEY). */
function appUrl(given: string): URL {
  const example = `give the app's address, e.g. https://APP.azurewebsites.net (${WHERE_TO_FIND})`;
  const url = URL.canParse(given) ? new URL(given) : undefined;
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) throw new AppError('config-invalid', `The app's address is not an http(s) URL: ${example}.`);
  if (url.username || url.password) throw new AppError('config-invalid', `The app's address must not hold a user name or password (${url.hostname}): ${example}.`);
  if (url.search || url.hash) {
    throw new AppError('config-invalid', `The app's address must not hold a query or fragment (${url.host}): ${example}; a function key goes in USERSYNC_FUNCTION_KEY.`);
  }
  return url;
}

function isLoopback(hostname: string): boolean {
  if (hostname === 'localhost') return true;
  const address = hostname.replace(/^\[|\]$/g, '');
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? 'ipv4' : 'ipv6');
}

function nonBlank(value: string | undefined): string | undefined {
  return value?.trim() ? value.trim() : undefined;
}
