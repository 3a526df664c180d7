import type { Readable } from 'node:stream';
import { isAppError, type ErrorCode } from '../errors/app-error.js';

export interface ApiResponse {
  status: number;
  headers?: Record<string, string>;
  /** None for 204 and HEAD. */
  jsonBody?: unknown;
  /** A file answered instead of JSON (an export), streamed. */
  body?: Readable;
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  'connection-not-found': 404,
  'run-not-found': 404,
  'not-found': 404,
  'method-not-allowed': 405,
  'run-active': 409,
  'run-not-awaiting-confirmation': 409,
  'run-superseded': 409,
  'run-files-expired': 410,
  'run-not-active': 409,
  'connection-disabled': 409,
  'push-only': 409,
  'body-too-large': 413,
  'media-type-unsupported': 415,
  'directory-owned': 409,
  'profile-invalid': 400,
  'body-invalid': 400,
  'query-invalid': 400,
  'path-invalid': 400,
  'input-invalid': 400,
  'forbidden': 403,
  'client-header-missing': 403,
  'secret-missing': 422,
  'username-taken': 409,
  'user-not-found': 404,
  'account-invalid': 400,
  'no-groups-selected': 422,
  'source-auth-failed': 502,
  'source-unavailable': 502,
  'source-throttled': 502,
  'source-not-found': 502,
  'source-query-refused': 502,
  'source-tls-failed': 502,
  'source-private-address': 422,
};

/** The one place errors become HTTP: application/problem+json with the error's stable code. */
export function problemOf(error: unknown): ApiResponse {
  if (!isAppError(error)) return internalError();
  const response = problem(STATUS[error.code] ?? 500, error.code, error.message, error.details);
  const allow = error.details?.allow;
  if (typeof allow === 'string') response.headers = { ...response.headers, allow };
  return response;
}

/** A failure we did not expect: nothing of it reaches the caller but where to look. */
export function internalError(): ApiResponse {
  return problem(500, 'internal-error', 'The request failed unexpectedly; see the function logs.');
}

function problem(status: number, code: string, detail: string, extra?: Record<string, unknown>): ApiResponse {
  return {
    status,
    headers: { 'content-type': 'application/problem+json' },
    jsonBody: { type: `urn:usersync:error:${code}`, title: code, status, code, detail, ...extra },
  };
}
