import { createHash, timingSafeEqual } from 'node:crypto';
import type { SecretResolver } from '../config/secrets.js';
import { AppError } from '../errors/app-error.js';

/**
 * Whether the request's `Authorization: Bearer <token>` is the value of the connection's token setting. Both
 * are hashed first so that timingSafeEqual compares equal lengths and the time taken tells nothing of either.
 * A missing setting refuses every token (the admin is told by the connection's checks, not the caller).
 */
export function checkBearer(authorization: string | null, secrets: SecretResolver, tokenSecret: string): void {
  const sent = /^\s*Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  const expected = secrets.has(tokenSecret) ? secrets.resolve(tokenSecret) : undefined;
  if (sent !== undefined && expected !== undefined && timingSafeEqual(digest(sent), digest(expected))) return;
  throw unauthorized();
}

/** The one refusal for a wrong, missing or unknown token or connection: it tells a caller nothing more. */
export function unauthorized(): AppError {
  return new AppError('scim-unauthorized', 'Send Authorization: Bearer with the secret token configured for this SCIM connection.');
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
