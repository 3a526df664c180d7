import { isAppError } from '../../errors/app-error.js';
import type { SyncDependencies } from '../dependencies.js';
import { isTerminal, type Run } from '../run-model.js';
import type { PageJob } from './jobs.js';

/*
 * A directory's throttling is the whole run's. The chains of a run are page jobs on different instances, so an
 * SDK's in-process backoff slows one chain only: the first chain told to slow down (HTTP 429 with Retry-After, a
 * spent Okta rate limit: the source throws `source-throttled`) records until when on the run row, and every
 * chain, before it reads a page, hands that page to a queue message delayed until then. A wait is a new message,
 * not a failed delivery, so however long a throttle lasts it cannot poison a chain.
 */

/** The longest single wait: a longer Retry-After is waited out in steps (the page job then looks again). */
export const MAX_THROTTLE_WAIT_MS = 15 * 60_000;

/** How long the directory asked to wait when `error` is its throttling; undefined for any other error. */
export function throttleOf(error: unknown): number | undefined {
  if (!isAppError(error) || error.code !== 'source-throttled') return undefined;
  const ms = Number(error.details?.retryAfterMs);
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/** The end of the run's throttling (epoch ms) while it lasts; undefined once it has passed. */
export function throttledUntil(deps: SyncDependencies, run: Run): number | undefined {
  const until = run.throttledUntil ? Date.parse(run.throttledUntil) : Number.NaN;
  return until > deps.clock().getTime() ? until : undefined;
}

/** Hands `page` to a message delayed until the run's throttling ends; false (nothing sent) when the run is not throttled. */
export async function deferWhileThrottled(deps: SyncDependencies, run: Run, page: PageJob): Promise<boolean> {
  const until = throttledUntil(deps, run);
  if (until === undefined) return false;
  const waitMs = Math.min(until - deps.clock().getTime(), MAX_THROTTLE_WAIT_MS);
  await deps.queue.send('pages', page, { delaySeconds: Math.ceil(waitMs / 1000) });
  return true;
}

/**
 * A read of `page` was throttled: the run waits `retryAfterMs` (at most MAX_THROTTLE_WAIT_MS) as a whole — the
 * later of two throttles stands — and the page is read again after it. The first chain to start a throttle
 * reports it (log, audit record `listing-throttled`); the others only wait.
 */
export async function waitOutThrottle(deps: SyncDependencies, runId: string, page: PageJob, retryAfterMs: number, reason: string): Promise<void> {
  // Retry-After: 0 reads the page again at once.
  if (retryAfterMs <= 0) return deps.queue.send('pages', page);
  const now = deps.clock().getTime();
  const until = new Date(now + Math.min(retryAfterMs, MAX_THROTTLE_WAIT_MS)).toISOString();
  let began = false;
  const latest = await deps.runs.update(runId, (current) => {
    began = false;
    if (isTerminal(current.state) || (current.throttledUntil ?? '') >= until) return undefined;
    began = throttledUntil(deps, current) === undefined;
    return { ...current, throttledUntil: until };
  });
  if (!latest || isTerminal(latest.state)) return;
  if (began) await reportThrottle(deps, latest, reason);
  // A later throttle of another chain may already have passed (a stalled worker): read again at once.
  if (!(await deferWhileThrottled(deps, latest, page))) await deps.queue.send('pages', page);
}

async function reportThrottle(deps: SyncDependencies, run: Run, reason: string): Promise<void> {
  const until = `${run.throttledUntil!.slice(11, 19)} UTC`;
  deps.log(`run ${run.runId}: listing throttled until ${run.throttledUntil}: ${reason}`);
  if (run.dryRun) return;
  await deps.audit.write([
    {
      runId: run.runId,
      connection: run.connection,
      action: 'listing-throttled',
      subject: run.runId,
      detail: `${reason} Every chain of the listing waits until ${until}.`,
      actor: run.startedBy,
      at: deps.clock().toISOString(),
    },
  ]);
}
