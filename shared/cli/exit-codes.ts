import { isAppError } from '../errors/app-error.js';
import type { Run } from '../admin/views.js';

/** The one mapping of outcomes to exit codes; scripts rely on it, and the usage text lists it. */
export const EXIT = { succeeded: 0, failed: 1, usage: 2, held: 3 } as const;

export const EXIT_CODES_HELP = `Exit codes:
  0  done (a run succeeded)
  1  a run failed or was cancelled, or an unexpected error
  2  usage or configuration error, or a refused request (the message says what to fix)
  3  a run is held for confirmation: the disable guard tripped (usersync confirm RUN_ID)`;

export function runExitCode(run: Run): number {
  if (run.state === 'succeeded') return EXIT.succeeded;
  if (run.state === 'needs-confirmation') return EXIT.held;
  return EXIT.failed;
}

/**
 * An AppError is a refusal the admin can act on (bad usage, settings, input); anything else is unexpected —
 * and so is a deployed app's `internal-error`, the same failure seen through its API (--url).
 */
export function errorExitCode(error: unknown): number {
  return isAppError(error) && error.code !== 'internal-error' ? EXIT.usage : EXIT.failed;
}
