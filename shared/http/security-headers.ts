/**
 * The headers that keep a browser safe with what the app answers, set in one place per kind of answer
 * (functions/http-api.ts, functions/console.ts).
 */

/**
 * The console's Content-Security-Policy: its own files only — no inline script or style element, no eval, no
 * other origin (the built console has none: console/vite.config.ts), never framed (clickjacking).
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** On every answer of the console's function: its page, its files, its 404 and 503. */
export const CONSOLE_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': CONSOLE_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * On every API answer: JSON (or an export) is never run as a page nor framed, never sniffed as another type,
 * and never kept by a browser or a proxy (it holds who has access to what).
 */
export const API_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
};

/** `headers` under an answer's own (the answer's win: an export keeps its Content-Type). */
export function withHeaders<R extends { headers?: Record<string, string> | undefined }>(response: R, headers: Readonly<Record<string, string>>): R {
  return { ...response, headers: { ...headers, ...response.headers } };
}
