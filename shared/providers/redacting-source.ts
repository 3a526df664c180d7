import { AppError, isAppError } from '../errors/app-error.js';
import { redact } from '../errors/redact.js';
import type { DirectorySource } from '../sync/directory-source.js';

/**
 * A directory source whose errors carry no credential: what Okta, Graph or a web server answered is
 * passed through `redact` with the values of the secrets the profile names before anything — a run
 * error, an audit record, a log line, the host's own log of a retried job, an API or CLI answer — sees it.
 */
export function withRedactedErrors(source: DirectorySource, secretValues: () => string[]): DirectorySource {
  const guarded = async <T>(work: () => Promise<T>): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      throw redactedError(error, secretValues());
    }
  };
  const { availableGroups, chains } = source;
  return {
    requiresPassword: source.requiresPassword,
    listsUsersRepeatedly: source.listsUsersRepeatedly,
    supportsIncremental: source.supportsIncremental,
    ...(chains ? { chains: (run) => chains.call(source, run) } : {}),
    readPage: (request) => guarded(() => source.readPage(request)),
    testConnection: (profile) => guarded(() => source.testConnection(profile)),
    ...(availableGroups ? { availableGroups: (profile) => guarded(() => availableGroups.call(source, profile)) } : {}),
  };
}

/** The same error (code, transience) with its text redacted; the original, with its cause, is dropped. */
function redactedError(error: unknown, secrets: string[]): Error {
  if (isAppError(error)) return new AppError(error.code, redact(error.message, secrets), { details: error.details && redactedValues(error.details, secrets), transient: error.transient });
  const copy = new Error(redact(error instanceof Error ? error.message : String(error), secrets));
  if (error instanceof Error && error.stack) copy.stack = redact(error.stack, secrets);
  return copy;
}

function redactedValues<T>(value: T, secrets: string[]): T {
  if (typeof value === 'string') return redact(value, secrets) as T;
  if (Array.isArray(value)) return value.map((item: unknown) => redactedValues(item, secrets)) as T;
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, redactedValues(item, secrets)])) as T;
  return value;
}
