import { performance } from 'node:perf_hooks';

/**
 * Waits `ms` by the monotonic clock: a fake's round trip (the benchmark's `--latency-ms`). A timer alone may
 * fire up to a millisecond early, so it waits again for what is left.
 */
export async function roundTrip(ms: number): Promise<void> {
  const until = performance.now() + ms;
  for (let left = ms; left > 0; left = until - performance.now()) await new Promise((resolve) => setTimeout(resolve, Math.ceil(left)));
}
