import type { AuditLog } from '../audit/audit-log.js';
import type { SecretResolver } from '../config/secrets.js';
import type { ConnectionStore, FileStore, GroupStore, JobQueue, LicenceLedger, RunStore, UsernameClaims, UserStore } from './ports.js';
import type { DirectorySources } from './directory-source.js';
import type { Run } from './run-model.js';

/** Everything the sync use cases need, passed in explicitly (wired once in shared/app/compose.ts). */
export interface SyncDependencies {
  connections: ConnectionStore;
  runs: RunStore;
  users: UserStore;
  usernames: UsernameClaims;
  groups: GroupStore;
  licences: LicenceLedger;
  audit: AuditLog;
  /** The runs container: archived inputs, staged pages, shard plans. */
  runFiles: FileStore;
  queue: JobQueue;
  sources: DirectorySources;
  secrets: SecretResolver;
  /** Days a run's files (archived input, plans) are kept: USERSYNC_ARCHIVE_DAYS. */
  archiveDays: number;
  /** Bytes of staged listing one reconcile shard takes at most (USERSYNC_SHARD_BYTES): sets a run's shard count. */
  shardBytes: number;
  clock: () => Date;
  /** Operational log lines; never personal data or secrets. */
  log: (line: string) => void;
  /** Told about every run that ends (telemetry: a run summary event). */
  runFinished: (run: Run) => void;
}
