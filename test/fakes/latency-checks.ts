import { performance } from 'node:perf_hooks';
import { expect } from 'vitest';

/** A fake with the benchmark's latency setting and a request log (the Graph and the Okta fakes). */
interface DelayingFake<R extends { startedAt: number; endedAt?: number }> {
  setLatency(ms: number): void;
  readonly requests: R[];
}

/** `send` under an hour's latency: it must be answered at once (else the test times out). */
export async function answeredAtOnce<T>(fake: DelayingFake<{ startedAt: number }>, send: () => Promise<T>): Promise<T> {
  fake.setLatency(3_600_000);
  try {
    return await send();
  } finally {
    fake.setLatency(0);
  }
}

/**
 * `send` (one request) under a latency of `ms`: it takes at least that by the caller's clock and by the fake's
 * log; answers the request the fake logged.
 */
export async function delayedRequest<R extends { startedAt: number; endedAt?: number }>(fake: DelayingFake<R>, ms: number, send: () => Promise<unknown>): Promise<R | undefined> {
  fake.setLatency(ms);
  try {
    const mark = fake.requests.length;
    const started = performance.now();
    await send();
    expect(performance.now() - started).toBeGreaterThanOrEqual(ms);
    const [logged, ...others] = fake.requests.slice(mark);
    expect(others).toEqual([]);
    expect(logged?.endedAt).toBeDefined();
    expect(logged!.endedAt! - logged!.startedAt).toBeGreaterThanOrEqual(ms);
    return logged;
  } finally {
    fake.setLatency(0);
  }
}
