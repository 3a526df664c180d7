import { isAppError, type ErrorCode } from '../errors/app-error.js';
import type { ApiResponse } from '../http/problem.js';

/** What every SCIM answer is sent as (RFC 7644 §3.1); requests may come as application/json too. */
export const SCIM_CONTENT_TYPE = 'application/scim+json';

export const ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error';

/** RFC 7644 §3.12: the HTTP status and, for a 400 or 409, the `scimType` a client acts on. */
const SCIM_STATUS: Partial<Record<ErrorCode, { status: number; scimType?: string }>> = {
  'username-taken': { status: 409, scimType: 'uniqueness' },
  'user-exists': { status: 409, scimType: 'uniqueness' },
  'group-exists': { status: 409, scimType: 'uniqueness' },
  'scim-filter-invalid': { status: 400, scimType: 'invalidFilter' },
  'scim-path-invalid': { status: 400, scimType: 'invalidPath' },
  'scim-no-target': { status: 400, scimType: 'noTarget' },
  'scim-value-invalid': { status: 400, scimType: 'invalidValue' },
  'user-invalid': { status: 400, scimType: 'invalidValue' },
  'member-invalid': { status: 400, scimType: 'invalidValue' },
  'body-invalid': { status: 400, scimType: 'invalidSyntax' },
  'mutability': { status: 400, scimType: 'mutability' },
  'scim-unauthorized': { status: 401 },
  'user-not-found': { status: 404 },
  'group-not-found': { status: 404 },
  'connection-not-found': { status: 404 },
  'not-found': { status: 404 },
  'method-not-allowed': { status: 405 },
  'connection-disabled': { status: 403 },
  'scim-precondition-failed': { status: 412 },
  'body-too-large': { status: 413 },
  'media-type-unsupported': { status: 415 },
  // Other requests changed the user on every try: the client retries later (Entra and Okta retry a 503).
  'user-busy': { status: 503 },
  'licences-busy': { status: 503 },
};

/** A SCIM error body (RFC 7644 §3.12): `status` is a string there; an unexpected failure says nothing of itself. */
export function scimErrorOf(error: unknown): ApiResponse {
  if (!isAppError(error)) return scimError(500, 'The request failed unexpectedly; see the function logs.');
  const mapped = SCIM_STATUS[error.code] ?? { status: 500 };
  const response = scimError(mapped.status, error.message, mapped.scimType);
  if (mapped.status === 401) response.headers = { ...response.headers, 'www-authenticate': 'Bearer' };
  const allow = error.details?.allow;
  if (typeof allow === 'string') response.headers = { ...response.headers, allow };
  return response;
}

function scimError(status: number, detail: string, scimType?: string): ApiResponse {
  return {
    status,
    headers: { 'content-type': SCIM_CONTENT_TYPE },
    jsonBody: { schemas: [ERROR_SCHEMA], status: String(status), ...(scimType ? { scimType } : {}), detail },
  };
}
