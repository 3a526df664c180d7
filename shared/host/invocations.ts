import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { format } from 'node:util';
// Default import on purpose: in Node ESM the CommonJS bundle of @azure/functions exposes `app` etc. as named
// exports, but not its classes (`import { InvocationContext } from '@azure/functions'` fails at run time).
import azureFunctions from '@azure/functions';
import type { InvocationContext, TriggerMetadata } from '@azure/functions';

export interface InvocationCounters {
  started: number;
  succeeded: number;
  failed: number;
  /** Queue messages moved to a poison queue. */
  poisoned: number;
}

export type Outcome<T> = { ok: true; value: T; ms: number } | { ok: false; error: unknown; ms: number };

/**
 * Runs handlers as the Functions host does — each with its own InvocationContext, whose log lines name the
 * function — counting them, and keeping the work in flight (queue, timer or HTTP) so stop() can wait for it.
 */
export class Invocations {
  readonly counters: InvocationCounters = { started: 0, succeeded: 0, failed: 0, poisoned: 0 };
  private readonly active = new Set<Promise<unknown>>();

  constructor(private readonly emit: (line: string) => void) {}

  /** True when nothing tracked is in flight. */
  idle(): boolean {
    return this.active.size === 0;
  }

  track<T>(work: Promise<T>): Promise<T> {
    this.active.add(work);
    void work.finally(() => this.active.delete(work)).catch(() => undefined);
    return work;
  }

  /** Resolves once everything tracked has settled, including work that work in flight starts. */
  async settled(): Promise<void> {
    while (this.active.size > 0) await Promise.allSettled([...this.active]);
  }

  async invoke<T>(
    functionName: string,
    triggerMetadata: TriggerMetadata | undefined,
    run: (context: InvocationContext) => Promise<T>,
  ): Promise<Outcome<T>> {
    const context = new azureFunctions.InvocationContext({
      functionName,
      invocationId: randomUUID(),
      triggerMetadata,
      logHandler: (level, ...args) => this.emit(`${functionName} [${level}] ${format(...args)}`),
    });
    this.counters.started++;
    const started = performance.now();
    const elapsed = (): number => Math.round(performance.now() - started);
    try {
      const value = await run(context);
      this.counters.succeeded++;
      return { ok: true, value, ms: elapsed() };
    } catch (error) {
      this.counters.failed++;
      return { ok: false, error, ms: elapsed() };
    }
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
