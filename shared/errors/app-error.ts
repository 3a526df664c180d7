/**
 * Every error we expect carries a stable code (for scripts, problem+json and audit records)
 * and a sentence an admin can act on. Never put a secret value in either.
 */
export type ErrorCode =
  | 'config-invalid'
  | 'storage-unreachable'
  | 'storage-auth-failed'
  | 'profile-invalid'
  | 'connection-not-found'
  | 'run-not-found'
  | 'run-active'
  | 'run-not-awaiting-confirmation'
  | 'run-superseded'
  | 'run-files-expired'
  | 'run-not-active'
  | 'connection-disabled'
  | 'secret-missing'
  | 'source-unavailable'
  /** The directory asked us to slow down (HTTP 429, a spent rate limit): details.retryAfterMs says how long. */
  | 'source-throttled'
  | 'source-auth-failed'
  | 'source-not-found'
  /** The directory refused a query it documents (e.g. a range of userPrincipalName): the sentence names the workaround. */
  | 'source-query-refused'
  | 'source-insecure-url'
  | 'source-private-address'
  | 'source-tls-failed'
  | 'csv-empty'
  | 'csv-header-invalid'
  | 'message-invalid'
  | 'not-found'
  | 'method-not-allowed'
  | 'body-too-large'
  /** A request body of a media type the route does not take (a CSV upload sent as JSON). */
  | 'media-type-unsupported'
  /** A change to a user or group that its directory owns (an admin may change only local ones). */
  | 'directory-owned'
  | 'body-invalid'
  | 'query-invalid'
  | 'path-invalid'
  | 'usage-invalid'
  /** An admin operation's input that its schema refuses (shared/admin/dispatch.ts). */
  | 'input-invalid'
  /** The caller lacks the role an admin operation needs. */
  | 'forbidden'
  /** A change sent with neither a bearer token nor X-UserSync-Client: it could be another site's form (CSRF). */
  | 'client-header-missing'
  | 'username-taken'
  | 'user-not-found'
  /** A `scim` connection: its users are pushed to it (SCIM), so a run has nothing to read. */
  | 'push-only'
  /** Pushed directories (shared/sync/push/): what decide() would skip, an id already used, a changed externalId, … */
  | 'user-invalid'
  | 'user-exists'
  | 'mutability'
  | 'group-not-found'
  | 'group-exists'
  | 'member-invalid'
  /** A pushed user changed by other requests on every try: the client should retry (transient). */
  | 'user-busy'
  /** The one licence count row changed by others on every try (a burst of creates): retry (transient). */
  | 'licences-busy'
  | 'account-invalid'
  | 'no-groups-selected'
  | 'checkpoint-expired'
  | 'all-rows-skipped'
  /** Run errors recorded by the pipeline itself: a job that crashed on every delivery, a run the watchdog ended. */
  | 'poison-message'
  | 'run-stalled'
  /** A staged page or shard plan of a run that does not parse: damaged, or written by another version. */
  | 'run-file-invalid'
  /** The CLI's remote mode (`--url`): the app not reached, not answering as the API does, or refusing who asks. */
  | 'api-unreachable'
  | 'api-unavailable'
  | 'api-answer-invalid'
  | 'sign-in-required'
  | 'function-key-refused'
  /** The SCIM endpoint (shared/scim/): a request it cannot read, or a bearer token it does not take. */
  | 'scim-filter-invalid'
  | 'scim-path-invalid'
  | 'scim-no-target'
  | 'scim-value-invalid'
  | 'scim-unauthorized'
  /** An If-Match that names another version of the resource than the stored one. */
  | 'scim-precondition-failed'
  /** Anything that is not an AppError: a bug, or a failure nothing expected. */
  | 'internal-error';

export interface AppErrorOptions {
  /** Extra machine-readable facts (field errors, run id…); never secrets. */
  details?: Record<string, unknown>;
  /** A transient failure is worth retrying by redelivering the queue message. */
  transient?: boolean;
}

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly details?: Record<string, unknown>;
  readonly transient: boolean;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options: AppErrorOptions = {},
  ) {
    super(message);
    this.details = options.details;
    this.transient = options.transient ?? false;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** Longer messages (one quoting a whole CSV header…) are cut: a run row or audit column must still hold them. */
const MAX_MESSAGE_LENGTH = 2000;

/** An error as a run records it (the run's, a shard's, a listing's) and its audit record and logs show it. */
export interface RunError {
  code: ErrorCode;
  message: string;
}

/** One line for logs and audit records: the code and sentence of an AppError, the message of anything else. */
export function describeError(error: unknown): RunError {
  if (isAppError(error)) return { code: error.code, message: clip(error.message) };
  if (error instanceof Error) return { code: 'internal-error', message: clip(error.message) };
  return { code: 'internal-error', message: clip(String(error)) };
}

function clip(message: string): string {
  return message.length <= MAX_MESSAGE_LENGTH ? message : `${message.slice(0, MAX_MESSAGE_LENGTH - 1)}…`;
}
