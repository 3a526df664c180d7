import { logs, type AnyValueMap, type Logger } from '@opentelemetry/api-logs';
import { COUNTED_ACTIONS } from '../sync/model.js';
import type { Run } from '../sync/run-model.js';
import type { AuditLog, AuditPage, AuditQuery, AuditRecord } from '../audit/audit-log.js';

/** What an event may carry: flat strings and numbers (App Insights stores them all as strings). */
export type EventProperties = Record<string, string | number | undefined>;

/**
 * Custom events to Application Insights. `startTelemetry(undefined)` gives a no-op one, so callers never
 * need to ask whether telemetry is on.
 */
export interface Telemetry {
  /** True when events actually go somewhere. */
  readonly enabled: boolean;
  /** Sends a custom event; `undefined` properties are left out. Never throws. */
  event(name: string, properties: EventProperties): void;
  /** Sends what is buffered (call before a short-lived process ends). */
  flush(): Promise<void>;
  /** Flushes and stops the exporter; events after this are dropped. */
  shutdown(): Promise<void>;
}

/** The attribute that makes the Azure Monitor exporter turn a log record into a custom event (`EventData`). */
const CUSTOM_EVENT_NAME = 'microsoft.custom_event.name';
const LOGGER_NAME = 'usersync';

export const noTelemetry: Telemetry = {
  enabled: false,
  event() {},
  async flush() {},
  async shutdown() {},
};

export const CLOUD_ROLE_NAME = 'usersync';

/** `useAzureMonitor` installs process-global providers: it runs at most once per process. */
let live: Telemetry | undefined;

/**
 * Starts Azure Monitor (OpenTelemetry) for this process when a connection string is set; otherwise returns a
 * no-op telemetry. A second call returns the first telemetry (a different connection string is ignored: the
 * exporter is process-global).
 */
export function startTelemetry(connectionString: string | undefined): Telemetry {
  const trimmed = connectionString?.trim();
  if (!trimmed) return noTelemetry;
  if (live) return live;

  // Azure Monitor's OpenTelemetry distro (~60 MB resident) is loaded only when telemetry is on. Events sent
  // while it loads wait for it, in order.
  const started = Promise.all([import('@azure/monitor-opentelemetry'), import('@opentelemetry/resources')]).then(
    ([{ useAzureMonitor, shutdownAzureMonitor }, { resourceFromAttributes }]): { logger: Logger; shutdown: () => Promise<void> } => {
      // `disableOfflineStorage` is an exporter option: at the top level it is a type error and ignored at run time.
      useAzureMonitor({
        azureMonitorExporterOptions: { connectionString: trimmed, disableOfflineStorage: true },
        // The cloud role name App Insights shows (and Kusto's cloud_RoleName filters on), not "unknown_service:node".
        resource: resourceFromAttributes({ 'service.name': CLOUD_ROLE_NAME }),
        enableLiveMetrics: false,
      });
      return { logger: logs.getLogger(LOGGER_NAME), shutdown: shutdownAzureMonitor };
    },
  );
  // A failed load surfaces in flush and shutdown; events are best effort and are dropped.
  started.catch(() => undefined);
  let stopped = false;
  const telemetry: Telemetry = {
    enabled: true,
    event(name, properties) {
      if (stopped) return;
      const attributes = { ...definedOnly(properties), [CUSTOM_EVENT_NAME]: name };
      // Telemetry is best effort: it never fails the work it describes.
      started.then(({ logger }) => logger.emit({ attributes })).catch(() => undefined);
    },
    async flush() {
      if (stopped) return;
      await started;
      // The SDK's LoggerProvider (global after useAzureMonitor) flushes its batch processor through the exporter.
      const provider = logs.getLoggerProvider() as { forceFlush?: () => Promise<void> };
      await provider.forceFlush?.();
    },
    async shutdown() {
      if (stopped) return;
      stopped = true;
      await (await started).shutdown();
    },
  };
  live = telemetry;
  return telemetry;
}

/**
 * Decorates an AuditLog: every record written is also sent as the custom event `UserSync.<action>`. Only the
 * whitelisted fields below leave the process, whatever else a record object may carry.
 */
export class AppInsightsAuditLog implements AuditLog {
  constructor(
    private readonly inner: AuditLog,
    private readonly telemetry: Telemetry,
  ) {}

  async write(records: readonly AuditRecord[]): Promise<void> {
    // The store of record first: if it fails, nothing is reported as done.
    await this.inner.write(records);
    if (!this.telemetry.enabled) return;
    for (const record of records) this.telemetry.event(`UserSync.${record.action}`, auditProperties(record));
  }

  query(query: AuditQuery): Promise<AuditPage> {
    return this.inner.query(query);
  }
}

/** The whitelist of audit fields sent to Application Insights. */
export function auditProperties(record: AuditRecord): EventProperties {
  return {
    runId: record.runId,
    connection: record.connection,
    subject: record.subject,
    username: record.username,
    ref: record.ref,
    reason: record.reason,
    detail: record.detail,
    changedFields: record.changedFields?.length ? record.changedFields.join(',') : undefined,
    // Already clipped and without secrets (field-changes.ts): one JSON property, queryable with parse_json().
    changes: record.changes?.length ? JSON.stringify(record.changes) : undefined,
    actor: record.actor,
    confirmedAt: record.confirmedAt,
  };
}

/**
 * Sends `UserSync.runSummary` for a run: counts per action, duration and throughput (users decided per second,
 * `unchanged` included). A run without `endedAt` is measured up to `now`.
 */
export function runSummaryEvent(telemetry: Telemetry, run: Run, now: Date = new Date()): void {
  if (!telemetry.enabled) return;
  telemetry.event('UserSync.runSummary', runSummaryProperties(run, now));
}

export function runSummaryProperties(run: Run, now: Date = new Date()): EventProperties {
  const counts: EventProperties = {};
  let users = 0;
  for (const action of COUNTED_ACTIONS) {
    const count = run.counts[action] ?? 0;
    counts[action] = count;
    users += count;
  }
  const started = Date.parse(run.startedAt);
  const ended = run.endedAt ? Date.parse(run.endedAt) : now.getTime();
  const seconds = Number.isFinite(started) && Number.isFinite(ended) ? Math.max(0, (ended - started) / 1000) : undefined;
  return {
    runId: run.runId,
    connection: run.connection,
    kind: run.kind,
    state: run.state,
    ...counts,
    durationSeconds: seconds,
    usersPerSecond: seconds ? Math.round((users / seconds) * 100) / 100 : undefined,
    errorCode: run.error?.code,
  };
}

function definedOnly(properties: EventProperties): AnyValueMap {
  const attributes: AnyValueMap = {};
  for (const [key, value] of Object.entries(properties)) if (value !== undefined) attributes[key] = value;
  return attributes;
}
