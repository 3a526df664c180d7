/** What a redacted value is replaced with. */
export const REDACTED = '[redacted]';

/** Secret values shorter than this are not searched for: they would blank ordinary words. */
const MIN_SECRET_LENGTH = 4;

/** Text shaped like a credential, whatever secret it holds. */
const CREDENTIAL_SHAPES: [RegExp, string][] = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
  // An Authorization header (or field), to the end of its line, value or bracket.
  [/\b(authorization"?\s*[:=]\s*"?)[^\r\n"')]+/gi, `$1${REDACTED}`],
  // A scheme and its token: Bearer …, SSWS …, Basic …, DPoP … (a token has a digit or a symbol, prose does not).
  [/\b(Bearer|SSWS|Basic|DPoP)(\s+)(?=[\w.~+/=-]*[\d.~+/=-])[\w.~+/=-]{8,}/g, `$1$2${REDACTED}`],
  // A JSON Web Token (an access token, a client assertion).
  [/\beyJ[\w-]*\.[\w-]+\.[\w-]*/g, REDACTED],
  // Credentials in a URL: scheme://user:password@host.
  [/\b([a-z][a-z\d+.-]*:\/\/)[^\s/?#@]+@/gi, `$1${REDACTED}@`],
  // Secrets in a query string or form body.
  [/\b(client_secret|client_assertion|access_token|refresh_token|id_token|password|token|api_?key)=[^&\s"']+/gi, `$1=${REDACTED}`],
];

/**
 * Removes from a text (an error a directory answered, a library's message) the values of the given
 * secrets, in the forms they travel in, and anything shaped like a credential: Authorization headers,
 * bearer/SSWS/basic tokens, JWTs, private keys, URL user-info and secret query parameters.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let result = text;
  const values = secrets.filter((secret) => secret.length >= MIN_SECRET_LENGTH).flatMap((secret) => [secret, encodeURIComponent(secret)]);
  // Longest first: a secret that contains another is removed whole.
  for (const value of [...new Set(values)].sort((a, b) => b.length - a.length)) result = result.split(value).join(REDACTED);
  for (const [shape, replacement] of CREDENTIAL_SHAPES) result = result.replace(shape, replacement);
  return result;
}
