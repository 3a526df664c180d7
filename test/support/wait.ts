/**
 * Polls until `condition` holds, checking every `intervalMs`; fails after `timeoutMs` naming what it
 * waited for. For waiting on state another process or worker produces: the deadline is only a safety
 * net, so give it room (a busy machine may be ten times slower than yours).
 */
export async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000, intervalMs = 20): Promise<void> {
  await waitFor(async () => ((await condition()) ? true : undefined), what, timeoutMs, intervalMs);
}

/** Polls `probe` until it returns a value (not undefined), which it returns; fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(probe: () => T | undefined | Promise<T | undefined>, what: string, timeoutMs = 30_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}.`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves as `event` does; fails after `timeoutMs` naming `what`. */
export async function within<T>(event: Promise<T>, what: string, timeoutMs = 30_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Timed out after ${timeoutMs / 1000} s waiting for ${what}.`)), timeoutMs);
  });
  try {
    return await Promise.race([event, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
