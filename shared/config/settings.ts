import { isIP } from 'node:net';
import { z } from 'zod';
import { AppError } from '../errors/app-error.js';

/**
 * Every app setting the code reads. `local.settings.sample.json` lists the same names
 * (a test keeps the two in step). Parsed once at start-up: an invalid value stops the host
 * instead of starting it with no functions registered.
 */
const booleanSetting = z
  .enum(['true', 'false', '1', '0'])
  .default('false')
  .transform((value) => value === 'true' || value === '1');

export const settingsSchema = z.object({
  /** A storage connection string (Azurite locally)… */
  AzureWebJobsStorage: z.string().min(1).optional(),
  /** …or, in Azure, identity-based storage: the account name and the managed identity's client id. */
  AzureWebJobsStorage__accountName: z.string().regex(/^[a-z0-9]{3,24}$/, 'a storage account name').optional(),
  AzureWebJobsStorage__clientId: z.string().min(1).optional(),
  USERSYNC_NAME_PREFIX: z
    .string()
    .regex(/^[a-z][a-z0-9]{1,23}$/, 'use 2–24 lowercase letters or digits, starting with a letter')
    .default('usersync'),
  USERSYNC_PAGE_SIZE: z.coerce.number().int().min(1).max(5000).default(1000),
  /** Bytes of staged listing a reconcile shard takes at most (sync/rules/partitioning.ts shardCountFor): ~7,500 Entra users (800 bytes each). */
  USERSYNC_SHARD_BYTES: z.coerce.number().int().min(1).default(6_000_000),
  USERSYNC_ALLOW_INSECURE_HTTP: booleanSetting,
  /**
   * Lets a remote CSV URL reach private, loopback or reserved addresses (an HR system on a private endpoint):
   * `true` all of them, or only those listed (`10.20.0.5,10.30.0.0/16`).
   */
  USERSYNC_ALLOW_PRIVATE_SOURCES: z
    .string()
    .default('false')
    .refine(
      (value) => /^(true|false|1|0)$/.test(value) || value.split(',').every((entry) => isAddressOrRange(entry.trim())),
      'true, false, or a comma-separated list of IP addresses and CIDR ranges such as 10.20.0.0/16',
    )
    .transform((value): boolean | string[] => (/^(true|false|1|0)$/.test(value) ? value === 'true' || value === '1' : value.split(',').map((entry) => entry.trim()))),
  /** Days a run's files (its archived input for roll-back, kept plans) are kept before they are deleted. */
  USERSYNC_ARCHIVE_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /**
   * Audit records and run summaries also go to Application Insights when set. The exporter loads after
   * start-up (only when telemetry is on), so a string it would refuse — no instrumentation key — is refused here.
   */
  APPLICATIONINSIGHTS_CONNECTION_STRING: z
    .string()
    .refine((value) => !value.trim() || /(^|;)\s*InstrumentationKey\s*=\s*[^;\s]/i.test(value), 'an Application Insights connection string with InstrumentationKey=…')
    .optional(),
  /**
   * The largest CSV file an upload stores (`PUT /connections/{name}/csv`, `usersync csv upload`); larger is
   * refused, the file already there kept. Over the HTTP host's own request limit (100 MB) raise that too.
   */
  USERSYNC_CSV_MAX_BYTES: z.coerce.number().int().min(1).default(100 * 1024 * 1024),
  /** Licences: active users of all directories and local accounts; unset means no limit. */
  USERSYNC_LICENCE_LIMIT: z.coerce.number().int().min(1).optional(),
  USERSYNC_TIMER_SCHEDULE: z
    .string()
    .regex(/^\S+( \S+){5}$/, 'a six-field NCRONTAB expression such as "0 */1 * * * *"')
    .default('0 */1 * * * *'),
});

export type Settings = z.infer<typeof settingsSchema>;

/** `10.20.0.5`, `fd00::1` or a CIDR range such as `10.20.0.0/16`. */
function isAddressOrRange(entry: string): boolean {
  const [address = '', bits, ...rest] = entry.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length) return false;
  return bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (version === 4 ? 32 : 128));
}

/** How the app reaches its storage account. */
export type StorageAccess =
  | { kind: 'connection-string'; connectionString: string }
  | { kind: 'identity'; accountName: string; clientId?: string };

export interface AppConfig {
  storage: StorageAccess;
  /** The connection string, when storage is reached with one (the local host and the CLI need it). */
  storageConnectionString: string | undefined;
  /**
   * App Service authentication (Easy Auth) is on for this app: the platform's `WEBSITE_AUTH_ENABLED=True`, not
   * an app setting of ours. Only then is its `x-ms-client-principal` header believed (shared/http/caller.ts).
   */
  easyAuth: boolean;
  names: StorageNames;
  pageSize: number;
  /** Bytes of staged listing a reconcile shard takes at most: how a run chooses its shard count. */
  shardBytes: number;
  /** Test-only switch: lets a CSV profile read a plain http:// URL. */
  allowInsecureHttp: boolean;
  /** Private, loopback or reserved addresses a remote CSV source may resolve to: all (true), none (false) or those listed. */
  allowPrivateSources: boolean | string[];
  /** Days a run's files are kept (roll-back with --from-run works within them). */
  archiveDays: number;
  /** The largest CSV file an upload stores, in bytes. */
  csvMaxBytes: number;
  timerSchedule: string;
  licenceLimit: number | undefined;
  appInsightsConnectionString: string | undefined;
}

/** Table, queue and container names, all derived from one prefix so tests and benchmarks can isolate themselves. */
export interface StorageNames {
  connectionsTable: string;
  runsTable: string;
  usersTable: string;
  auditTable: string;
  usernamesTable: string;
  groupsTable: string;
  licencesTable: string;
  pagesQueue: string;
  reconcileQueue: string;
  finaliseQueue: string;
  /** Uploaded CSV files (the "intranet DMS" source). */
  csvContainer: string;
  /** Each run's archived input and its staged pages and plans. */
  runsContainer: string;
}

export function storageNames(prefix: string): StorageNames {
  return {
    connectionsTable: `${prefix}Connections`,
    runsTable: `${prefix}Runs`,
    usersTable: `${prefix}Users`,
    auditTable: `${prefix}Audit`,
    usernamesTable: `${prefix}Usernames`,
    groupsTable: `${prefix}Groups`,
    licencesTable: `${prefix}Licences`,
    pagesQueue: `${prefix}-pages`,
    reconcileQueue: `${prefix}-reconcile`,
    finaliseQueue: `${prefix}-finalise`,
    csvContainer: `${prefix}-csv`,
    runsContainer: `${prefix}-runs`,
  };
}

export function loadConfig(env: Record<string, string | undefined>): AppConfig {
  // A setting left blank (as the Azure portal allows) means "not set": its default applies.
  const given = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const parsed = settingsSchema.safeParse(given);
  const problems = parsed.success ? [] : parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
  if (!given.AzureWebJobsStorage && !given.AzureWebJobsStorage__accountName) {
    problems.unshift('AzureWebJobsStorage: set a storage connection string, or AzureWebJobsStorage__accountName for identity-based storage');
  }
  if (!parsed.success || problems.length) {
    throw new AppError('config-invalid', `Invalid app settings: ${problems.join('; ')}`, { details: { problems } });
  }
  const settings = parsed.data;
  const storage: StorageAccess = settings.AzureWebJobsStorage
    ? { kind: 'connection-string', connectionString: settings.AzureWebJobsStorage }
    : {
        kind: 'identity',
        accountName: settings.AzureWebJobsStorage__accountName ?? '',
        ...(settings.AzureWebJobsStorage__clientId ? { clientId: settings.AzureWebJobsStorage__clientId } : {}),
      };
  return {
    storage,
    storageConnectionString: settings.AzureWebJobsStorage,
    easyAuth: env.WEBSITE_AUTH_ENABLED?.toLowerCase() === 'true',
    names: storageNames(settings.USERSYNC_NAME_PREFIX),
    pageSize: settings.USERSYNC_PAGE_SIZE,
    shardBytes: settings.USERSYNC_SHARD_BYTES,
    allowInsecureHttp: settings.USERSYNC_ALLOW_INSECURE_HTTP,
    allowPrivateSources: settings.USERSYNC_ALLOW_PRIVATE_SOURCES,
    archiveDays: settings.USERSYNC_ARCHIVE_DAYS,
    csvMaxBytes: settings.USERSYNC_CSV_MAX_BYTES,
    timerSchedule: settings.USERSYNC_TIMER_SCHEDULE,
    licenceLimit: settings.USERSYNC_LICENCE_LIMIT,
    appInsightsConnectionString: settings.APPLICATIONINSIGHTS_CONNECTION_STRING,
  };
}

/**
 * Deliveries of one queue message before the host moves it to the poison queue. Must equal
 * host.json `extensions.queues.maxDequeueCount` (a test checks): the last delivery of a job records
 * its failure instead of throwing, so a run always finishes.
 */
export const MAX_DEQUEUE_COUNT = 5;
