import type { SyncDependencies } from '../shared/sync/dependencies.js';

/** Rows the pipeline asked Table Storage to write, by table, plus blob writes and queue messages. */
export interface WriteCounts {
  users: number;
  audit: number;
  usernames: number;
  runs: number;
  other: number;
  blobs: number;
  messages: number;
}

export function emptyWriteCounts(): WriteCounts {
  return { users: 0, audit: 0, usernames: 0, runs: 0, other: 0, blobs: 0, messages: 0 };
}

export function tableWrites(counts: WriteCounts): number {
  return counts.users + counts.audit + counts.usernames + counts.runs + counts.other;
}

/**
 * The app's own ports, wrapped to count writes as they pass (no Azure SDK is mocked: every call still
 * reaches Azurite). A read-modify-write whose change function returns undefined writes nothing and is not counted.
 */
/** Calls and summed duration (overlapping calls each count in full) of one port method. */
export interface CallStats {
  calls: number;
  ms: number;
}

export function countingDeps(deps: SyncDependencies): { deps: SyncDependencies; counts: WriteCounts; calls: Map<string, CallStats>; reset(): void } {
  const counts = emptyWriteCounts();
  const calls = new Map<string, CallStats>();
  const timed = (name: string, result: unknown): unknown => {
    const stats = calls.get(name) ?? { calls: 0, ms: 0 };
    calls.set(name, stats);
    stats.calls++;
    if (!(result instanceof Promise)) return result;
    const started = performance.now();
    return result.finally(() => {
      stats.ms += performance.now() - started;
    });
  };
  const wrap = <T extends object>(target: T, counters: Partial<Record<keyof T, (...args: never[]) => [keyof WriteCounts, number]>>, portName = ''): T =>
    new Proxy(target, {
      get(object, property, receiver) {
        const value = Reflect.get(object, property, receiver) as unknown;
        if (typeof value !== 'function') return value;
        const counter = counters[property as keyof T] as ((...args: unknown[]) => [keyof WriteCounts, number]) | undefined;
        return (...args: unknown[]) => {
          if (counter) {
            const [table, n] = counter(...args);
            counts[table] += n;
          }
          return timed(`${portName}.${String(property)}`, (value as (...a: unknown[]) => unknown).apply(object, args));
        };
      },
    });
  // The change function of an optimistic update decides whether a row is written: count only those.
  const countedChange =
    <T, R>(table: keyof WriteCounts, change: (current: T) => R | undefined) =>
    (current: T): R | undefined => {
      const next = change(current);
      if (next !== undefined) counts[table]++;
      return next;
    };
  const runs = wrap(deps.runs, {
    create: () => ['runs', 1],
    putPage: () => ['runs', 1],
    putShardResult: () => ['runs', 1],
  }, 'runs');
  const counted: SyncDependencies = {
    ...deps,
    users: wrap(deps.users, {
      write: (users: readonly unknown[]) => ['users', users.length],
      setManagerLinks: (_directoryKey: string, links: readonly unknown[]) => ['users', links.length],
      delete: () => ['users', 1],
    }, 'users'),
    audit: wrap(deps.audit, { write: (records: readonly unknown[]) => ['audit', records.length] }, 'audit'),
    usernames: wrap(deps.usernames, { claim: () => ['usernames', 1], claimMany: (claims: readonly unknown[]) => ['usernames', claims.length], release: () => ['usernames', 1], transfer: () => ['usernames', 1] }, 'usernames'),
    groups: wrap(deps.groups, { createIfAbsent: () => ['other', 1] }, 'groups'),
    licences: wrap(deps.licences, { take: () => ['other', 1], release: () => ['other', 1], reset: () => ['other', 1] }, 'licences'),
    runFiles: wrap(deps.runFiles, { put: () => ['blobs', 1], putIfAbsent: () => ['blobs', 1], putStream: () => ['blobs', 1] }, 'runFiles'),
    queue: wrap(deps.queue, { send: () => ['messages', 1] }, 'queue'),
    runs: {
      ...bindAll(runs),
      update: (runId, change) => timed('runs.update', deps.runs.update(runId, countedChange('runs', change))) as ReturnType<typeof deps.runs.update>,
    },
    connections: {
      ...bindAll(deps.connections),
      updateState: (name, change) => timed('connections.updateState', deps.connections.updateState(name, countedChange('other', change))) as ReturnType<typeof deps.connections.updateState>,
    },
  };
  return {
    deps: counted,
    counts,
    calls,
    reset: () => {
      Object.assign(counts, emptyWriteCounts());
      calls.clear();
    },
  };
}

/** The methods of a class instance as own, bound properties (a spread copies none of them). */
function bindAll<T extends object>(target: T): T {
  const bound: Record<string, unknown> = {};
  let proto: object | null = target;
  while (proto && proto !== Object.prototype) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      const value = (target as Record<string, unknown>)[name];
      if (name !== 'constructor' && typeof value === 'function' && !(name in bound)) bound[name] = (value as (...a: unknown[]) => unknown).bind(target);
    }
    proto = Object.getPrototypeOf(proto) as object | null;
  }
  return bound as T;
}
