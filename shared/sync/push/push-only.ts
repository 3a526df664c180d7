import { AppError } from '../../errors/app-error.js';
import type { ConnectionProfile } from '../../connections/profile.js';
import type { DirectorySource } from '../directory-source.js';

/**
 * The source of a `scim` connection: the provider pushes its changes (shared/sync/push/), so there is
 * nothing to read. startRun refuses such a run before it claims a slot; `readPage` only answers a run
 * that got past it anyway (an earlier version's message).
 */
export const pushOnlySource: DirectorySource = {
  requiresPassword: false,
  listsUsersRepeatedly: false,
  supportsIncremental: false,
  readPage: ({ run }) => Promise.reject(pushOnly(run.connection)),
  // The token's app setting is resolved before this runs (connection-checks.ts): a missing one is the answer.
  testConnection: (profile: ConnectionProfile) =>
    Promise.resolve({
      detail: `"${profile.name}" receives its users over SCIM at /scim/v2/${encodeURIComponent(profile.name)} (on this app's host); the bearer token's app setting is set.`,
      warnings: profile.enabled ? [] : ['The connection is disabled: the endpoint refuses every request until it is enabled.'],
    }),
};

export function pushOnly(connection: string): AppError {
  return new AppError(
    'push-only',
    `"${connection}" receives its users over SCIM: it has nothing to read. Its changes arrive as the provider (Entra provisioning, Okta) pushes them to /scim/v2/${encodeURIComponent(connection)}; start provisioning there instead.`,
  );
}
