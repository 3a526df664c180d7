import { AppInsightsAuditLog, runSummaryEvent, startTelemetry } from '../telemetry/app-insights.js';
import { environmentSecrets } from '../config/secrets.js';
import { loadConfig, type AppConfig } from '../config/settings.js';
import { CsvDirectorySource } from '../providers/csv/csv-directory-source.js';
import { GraphDirectorySource } from '../providers/entra/graph-directory-source.js';
import { OktaDirectorySource } from '../providers/okta/okta-directory-source.js';
import { BlobFileStore } from '../store/blob/blob-file-store.js';
import type { FileStore } from '../sync/ports.js';
import { StorageJobQueue } from '../store/queue/storage-job-queue.js';
import { ensureStorage, storageClients } from '../store/storage-clients.js';
import { TableAuditLog } from '../store/table/table-audit-log.js';
import { TableConnectionStore } from '../store/table/table-connection-store.js';
import { TableRunStore } from '../store/table/table-run-store.js';
import { TableUserStore } from '../store/table/table-user-store.js';
import { TableUsernameClaims } from '../store/table/table-username-claims.js';
import { TableGroupStore } from '../store/table/table-group-store.js';
import { TableLicenceLedger } from '../store/table/table-licence-ledger.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import type { DirectorySource } from '../sync/directory-source.js';
import { withRedactedErrors } from '../providers/redacting-source.js';
import { pushOnlySource } from '../sync/push/push-only.js';
import { pushedDirectories } from '../sync/push/pushed-directories.js';
import type { PushedDirectories } from '../sync/push/pushed-directory.js';
import { secretNamesOf, type ConnectionProfile } from '../connections/profile.js';

export interface ComposedApp {
  config: AppConfig;
  deps: SyncDependencies;
  /** Uploaded CSV files (the "intranet DMS"). */
  csvFiles: FileStore;
  /** The users and groups of a `scim` connection, which its provider pushes (the SCIM endpoint's port). */
  pushedDirectories: PushedDirectories;
  ensureStorage(): Promise<void>;
  /** Sends what telemetry is still batched; call before the process exits. */
  close(): Promise<void>;
}

/**
 * The one wiring point: settings → typed config (throws when invalid) → adapters → the use cases'
 * dependencies. Used by the Functions entry point, the local host, the CLI, tests and the benchmark.
 */
export function composeApp(env: Record<string, string | undefined>, options: { log?: (line: string) => void } = {}): ComposedApp {
  const config = loadConfig(env);
  const clients = storageClients(config.storage);
  const { names } = config;
  const secrets = environmentSecrets(env);
  const runFiles = new BlobFileStore(clients.container(names.runsContainer));
  const csvFiles = new BlobFileStore(clients.container(names.csvContainer));
  const csv: DirectorySource = new CsvDirectorySource({
    runFiles,
    csvFiles,
    secrets,
    pageSize: config.pageSize,
    allowInsecureHttp: config.allowInsecureHttp,
    allowPrivateSources: config.allowPrivateSources,
  });
  const entra: DirectorySource = new GraphDirectorySource(secrets, config.pageSize);
  const oktaSource: DirectorySource = new OktaDirectorySource({ secrets, allowInsecureHttp: config.allowInsecureHttp, clock: () => new Date() }, config.pageSize);
  const sourcesByType: Record<ConnectionProfile['type'], DirectorySource> = { csv, entra, okta: oktaSource, scim: pushOnlySource };
  const telemetry = startTelemetry(config.appInsightsConnectionString);
  const deps: SyncDependencies = {
    connections: new TableConnectionStore(clients.table(names.connectionsTable)),
    runs: new TableRunStore(clients.table(names.runsTable)),
    users: new TableUserStore(clients.table(names.usersTable)),
    usernames: new TableUsernameClaims(clients.table(names.usernamesTable)),
    groups: new TableGroupStore(clients.table(names.groupsTable)),
    licences: new TableLicenceLedger(clients.table(names.licencesTable), config.licenceLimit),
    audit: new AppInsightsAuditLog(new TableAuditLog(clients.table(names.auditTable)), telemetry),
    runFiles,
    queue: new StorageJobQueue(clients.queues, names),
    // Errors a directory answers pass through one redactor, with the values of the secrets the profile names.
    sources: (profile) => withRedactedErrors(sourcesByType[profile.type], () => secretNamesOf(profile).flatMap((name) => (secrets.has(name) ? [secrets.resolve(name)] : []))),
    secrets,
    archiveDays: config.archiveDays,
    shardBytes: config.shardBytes,
    clock: () => new Date(),
    log: options.log ?? (() => undefined),
    runFinished: (run) => runSummaryEvent(telemetry, run),
  };
  return { config, deps, csvFiles, pushedDirectories: pushedDirectories(deps), ensureStorage: () => ensureStorage(clients, names), close: () => telemetry.shutdown() };
}
