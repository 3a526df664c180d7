import { existsSync, readFileSync } from 'node:fs';

/** The `extensions.queues` settings of host.json that the local host honours, durations in milliseconds. */
export interface QueueSettings {
  /** Attempts before a message moves to `<queue>-poison` (host.json `maxDequeueCount`, default 5). */
  maxDequeueCount: number;
  /** Delay before a failed message is visible again (host.json `visibilityTimeout`, default 0). */
  visibilityTimeoutMs: number;
  /** Most messages fetched per receive call (host.json `batchSize`, default 16). */
  batchSize: number;
  /** Ceiling of the idle poll back-off (host.json `maxPollingInterval`; Azure's default is 1 min, ours 2 s). */
  maxPollingIntervalMs: number;
  /** How message text is encoded (host.json `messageEncoding`, default base64). */
  messageEncoding: 'base64' | 'none';
}

export const DEFAULT_QUEUE_SETTINGS: QueueSettings = {
  maxDequeueCount: 5,
  visibilityTimeoutMs: 0,
  batchSize: 16,
  maxPollingIntervalMs: 2_000,
  messageEncoding: 'base64',
};

/** What the local host honours of host.json. */
export interface HostJsonSettings {
  queues: Partial<QueueSettings>;
  /**
   * `extensions.http.routePrefix`: the path segment(s) every HTTP route is under, without slashes (`api`, the
   * Functions host's default when absent; `""`: routes from the root, as ours are — the console at `/`).
   */
  routePrefix: string;
}

export const DEFAULT_ROUTE_PREFIX = 'api';

/** The settings `file` sets (defaults when it does not exist); throws naming the key that is wrong. */
export function readHostJson(file: string): HostJsonSettings {
  if (!existsSync(file)) return { queues: {}, routePrefix: DEFAULT_ROUTE_PREFIX };
  let extensions: { queues?: unknown; http?: { routePrefix?: unknown } } | undefined;
  try {
    extensions = (JSON.parse(readFileSync(file, 'utf8')) as { extensions?: typeof extensions }).extensions;
  } catch (error) {
    throw new Error(`LocalHost: cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const routePrefix = extensions?.http?.routePrefix ?? DEFAULT_ROUTE_PREFIX;
  if (typeof routePrefix !== 'string') throw new Error(`LocalHost: ${file}: extensions.http.routePrefix must be a string`);
  return { queues: queueSettings(extensions?.queues, file), routePrefix: routePrefix.replace(/^\/+|\/+$/g, '') };
}

function queueSettings(queues: unknown, file: string): Partial<QueueSettings> {
  if (queues === undefined) return {};
  if (typeof queues !== 'object' || queues === null) throw new Error(`LocalHost: ${file}: extensions.queues must be an object`);
  const q = queues as Record<string, unknown>;
  const where = (key: string): string => `LocalHost: ${file}: extensions.queues.${key}`;
  const settings: Partial<QueueSettings> = {};
  if (q.maxDequeueCount !== undefined) settings.maxDequeueCount = positiveInteger(q.maxDequeueCount, where('maxDequeueCount'));
  if (q.batchSize !== undefined) settings.batchSize = positiveInteger(q.batchSize, where('batchSize'));
  if (q.visibilityTimeout !== undefined) settings.visibilityTimeoutMs = duration(q.visibilityTimeout, where('visibilityTimeout'));
  if (q.maxPollingInterval !== undefined) {
    settings.maxPollingIntervalMs = duration(q.maxPollingInterval, where('maxPollingInterval'));
  }
  if (q.messageEncoding !== undefined) {
    const encoding = String(q.messageEncoding).toLowerCase();
    if (encoding !== 'base64' && encoding !== 'none') throw new Error(`${where('messageEncoding')} must be "base64" or "none"`);
    settings.messageEncoding = encoding;
  }
  return settings;
}

function positiveInteger(value: unknown, where: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) throw new Error(`${where} must be a positive integer`);
  return value;
}

/** A .NET TimeSpan string ("[d.]hh:mm:ss[.fffffff]") or, as host.json also accepts, a number of milliseconds. */
function duration(value: unknown, where: string): number {
  if (typeof value === 'number' && value >= 0) return value;
  const match = typeof value === 'string' ? /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/.exec(value) : null;
  if (!match) throw new Error(`${where} must be a duration like "00:00:10"`);
  const [, days = '0', hours = '0', minutes = '0', seconds = '0', fraction = '0'] = match;
  return (
    ((Number(days) * 24 + Number(hours)) * 60 + Number(minutes)) * 60_000 +
    Number(seconds) * 1000 +
    Math.round(Number(`0.${fraction}`) * 1000)
  );
}
