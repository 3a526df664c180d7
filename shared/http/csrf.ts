import { AppError } from '../errors/app-error.js';
import type { HeaderReader } from './caller.js';

/**
 * The header a change must carry unless it brings a bearer token: the console sends `console`, the CLI `cli`.
 * A cross-site form cannot set a header, and a cross-site script that tries is stopped by the browser's
 * preflight, which the API never allows (its OPTIONS answers carry no `Access-Control-Allow-*`).
 */
export const CLIENT_HEADER = 'X-UserSync-Client';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Why a request may not change anything, if it may not: a change (any method but GET, HEAD, OPTIONS) that a
 * browser could have sent on its own — with Easy Auth's session cookie in Azure, or to the local host, where
 * every caller is an admin — without X-UserSync-Client. A bearer token is never sent by a browser by itself,
 * so a request with one is a client's own (the CLI, a script).
 */
export function csrfRefusal(method: string, headers: HeaderReader): AppError | undefined {
  if (SAFE_METHODS.has(method.toUpperCase())) return undefined;
  if (/^\s*Bearer\s+\S/i.test(headers.get('authorization') ?? '')) return undefined;
  if (headers.get(CLIENT_HEADER)?.trim()) return undefined;
  return new AppError(
    'client-header-missing',
    `A request that changes something needs the header ${CLIENT_HEADER} (any value, e.g. "${CLIENT_HEADER}: script") or an Authorization: Bearer token, so that another site's page cannot send it through your browser.`,
  );
}
