import { describe, expect, it } from 'vitest';
import { MAX_DEQUEUE_COUNT, loadConfig, storageNames, type AppConfig } from '../../shared/config/settings.js';
import { AppError } from '../../shared/errors/app-error.js';

const STORAGE = 'UseDevelopmentStorage=true';

/** Runs `loadConfig` expecting it to throw, and returns the AppError. */
function configError(env: Record<string, string | undefined>): AppError {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('loadConfig', () => {
  it('fills every default from just the storage connection string', () => {
    expect(loadConfig({ AzureWebJobsStorage: STORAGE })).toEqual<AppConfig>({
      storage: { kind: 'connection-string', connectionString: STORAGE },
      storageConnectionString: STORAGE,
      easyAuth: false,
      names: {
        connectionsTable: 'usersyncConnections',
        runsTable: 'usersyncRuns',
        usersTable: 'usersyncUsers',
        auditTable: 'usersyncAudit',
        usernamesTable: 'usersyncUsernames',
        groupsTable: 'usersyncGroups',
        licencesTable: 'usersyncLicences',
        pagesQueue: 'usersync-pages',
        reconcileQueue: 'usersync-reconcile',
        finaliseQueue: 'usersync-finalise',
        csvContainer: 'usersync-csv',
        runsContainer: 'usersync-runs',
      },
      pageSize: 1000,
      shardBytes: 6_000_000,
      allowInsecureHttp: false,
      allowPrivateSources: false,
      archiveDays: 30,
      csvMaxBytes: 104_857_600,
      timerSchedule: '0 */1 * * * *',
      licenceLimit: undefined,
      appInsightsConnectionString: undefined,
    });
  });

  it('reads every setting and ignores unrelated ones', () => {
    const config = loadConfig({
      AzureWebJobsStorage: 'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=b',
      USERSYNC_NAME_PREFIX: 'bench7',
      USERSYNC_PAGE_SIZE: '250',
      USERSYNC_SHARD_BYTES: '4000000',
      USERSYNC_ALLOW_INSECURE_HTTP: 'true',
      USERSYNC_ALLOW_PRIVATE_SOURCES: 'true',
      USERSYNC_ARCHIVE_DAYS: '7',
      USERSYNC_CSV_MAX_BYTES: '5000000',
      USERSYNC_TIMER_SCHEDULE: '0 */5 * * * *',
      USERSYNC_LICENCE_LIMIT: '500',
      FUNCTIONS_WORKER_RUNTIME: 'node',
      PATH: '/usr/bin',
    });
    expect(config).toEqual<AppConfig>({
      storage: { kind: 'connection-string', connectionString: 'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=b' },
      storageConnectionString: 'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=b',
      easyAuth: false,
      names: storageNames('bench7'),
      pageSize: 250,
      shardBytes: 4_000_000,
      allowInsecureHttp: true,
      allowPrivateSources: true,
      archiveDays: 7,
      csvMaxBytes: 5_000_000,
      timerSchedule: '0 */5 * * * *',
      licenceLimit: 500,
      appInsightsConnectionString: undefined,
    });
    expect(config.names.usersTable).toBe('bench7Users');
    expect(config.names.pagesQueue).toBe('bench7-pages');
  });

  it.each([
    ['ab', true],
    ['usersync', true],
    ['t1', true],
    ['a23456789012345678901234', true], // 24 characters
    ['a234567890123456789012345', false], // 25 characters
    ['a', false],
    ['1abc', false],
    ['UserSync', false],
    ['user-sync', false],
    ['user_sync', false],
    [' usersync', false],
  ])('prefix %j accepted: %s', (prefix, ok) => {
    const env = { AzureWebJobsStorage: STORAGE, USERSYNC_NAME_PREFIX: prefix };
    if (ok) {
      expect(loadConfig(env).names.connectionsTable).toBe(`${prefix}Connections`);
    } else {
      const error = configError(env);
      expect(error.code).toBe('config-invalid');
      expect(error.details?.problems).toEqual([
        'USERSYNC_NAME_PREFIX: use 2–24 lowercase letters or digits, starting with a letter',
      ]);
    }
  });

  it.each<[string, boolean | string[] | undefined]>([
    ['true', true],
    ['0', false],
    ['10.20.0.5', ['10.20.0.5']],
    ['10.20.0.0/16, fd00::/8', ['10.20.0.0/16', 'fd00::/8']],
    ['yes', undefined],
    ['10.20.0.0/33', undefined],
    ['10.20.0.0/16/8', undefined],
    ['hr.example.org', undefined],
  ])('USERSYNC_ALLOW_PRIVATE_SOURCES %j → %j', (value, allowed) => {
    const env = { AzureWebJobsStorage: STORAGE, USERSYNC_ALLOW_PRIVATE_SOURCES: value };
    if (allowed !== undefined) {
      expect(loadConfig(env).allowPrivateSources).toEqual(allowed);
    } else {
      expect(configError(env).details?.problems).toEqual([expect.stringMatching(/^USERSYNC_ALLOW_PRIVATE_SOURCES: true, false, or a comma-separated list/)]);
    }
  });

  it('treats blank settings as unset, so their defaults apply', () => {
    const config = loadConfig({ AzureWebJobsStorage: STORAGE, USERSYNC_NAME_PREFIX: '', USERSYNC_PAGE_SIZE: '', USERSYNC_ALLOW_INSECURE_HTTP: '' });
    expect(config).toMatchObject({ pageSize: 1000, allowInsecureHttp: false, names: { connectionsTable: 'usersyncConnections' } });
  });

  it.each<[string, number | undefined]>([
    ['1', 1],
    ['5000', 5000],
    ['1000', 1000],
    ['42', 42],
    ['0', undefined],
    ['-1', undefined],
    ['5001', undefined],
    ['1.5', undefined],
    ['abc', undefined],
  ])('page size %j → %s', (value, pageSize) => {
    const env = { AzureWebJobsStorage: STORAGE, USERSYNC_PAGE_SIZE: value };
    if (pageSize !== undefined) {
      expect(loadConfig(env).pageSize).toBe(pageSize);
    } else {
      const error = configError(env);
      expect(error.code).toBe('config-invalid');
      expect(error.details?.problems).toEqual([expect.stringMatching(/^USERSYNC_PAGE_SIZE: /)]);
    }
  });

  it.each<[string | undefined, boolean | undefined]>([
    [undefined, false],
    ['true', true],
    ['1', true],
    ['false', false],
    ['0', false],
    ['TRUE', undefined],
    ['yes', undefined],
    ['on', undefined],
    [' true', undefined],
  ])('allow insecure http %j → %s', (value, allowed) => {
    const env = { AzureWebJobsStorage: STORAGE, USERSYNC_ALLOW_INSECURE_HTTP: value };
    if (allowed !== undefined) {
      expect(loadConfig(env).allowInsecureHttp).toBe(allowed);
    } else {
      const error = configError(env);
      expect(error.code).toBe('config-invalid');
      expect(error.details?.problems).toEqual([expect.stringMatching(/^USERSYNC_ALLOW_INSECURE_HTTP: /)]);
    }
  });

  it('takes identity-based storage in Azure: the account name and the managed identity', () => {
    expect(loadConfig({ AzureWebJobsStorage__accountName: 'usersyncprod', AzureWebJobsStorage__clientId: 'c1' })).toMatchObject({
      storage: { kind: 'identity', accountName: 'usersyncprod', clientId: 'c1' },
      storageConnectionString: undefined,
    });
    expect(configError({ AzureWebJobsStorage__accountName: 'Not_An_Account' }).details?.problems).toEqual(['AzureWebJobsStorage__accountName: a storage account name']);
  });

  it('requires the storage connection string', () => {
    for (const env of [{}, { AzureWebJobsStorage: '' }]) {
      const error = configError(env);
      expect(error.code).toBe('config-invalid');
      expect(error.details?.problems).toEqual([expect.stringMatching(/^AzureWebJobsStorage: /)]);
      expect(error.message).toMatch(/^Invalid app settings: AzureWebJobsStorage: /);
    }
  });

  it('refuses an Application Insights connection string without an instrumentation key, and takes a blank one as off', () => {
    const storage = { AzureWebJobsStorage: 'UseDevelopmentStorage=true' };
    for (const value of ['garbage', 'InstrumentationKey=;IngestionEndpoint=https://example.invalid/', 'IngestionEndpoint=https://example.invalid/']) {
      expect(configError({ ...storage, APPLICATIONINSIGHTS_CONNECTION_STRING: value }).details?.problems).toEqual([
        'APPLICATIONINSIGHTS_CONNECTION_STRING: an Application Insights connection string with InstrumentationKey=…',
      ]);
    }
    const valid = 'InstrumentationKey=00000000-0000-0000-0000-000000000000;IngestionEndpoint=https://example.invalid/';
    expect(loadConfig({ ...storage, APPLICATIONINSIGHTS_CONNECTION_STRING: valid }).appInsightsConnectionString).toBe(valid);
    expect(loadConfig({ ...storage, APPLICATIONINSIGHTS_CONNECTION_STRING: '  ' }).appInsightsConnectionString).toBe('  ');
  });

  it('names every bad setting at once', () => {
    const error = configError({
      AzureWebJobsStorage: '',
      USERSYNC_NAME_PREFIX: 'Bad-Prefix',
      USERSYNC_PAGE_SIZE: '0',
      USERSYNC_ALLOW_INSECURE_HTTP: 'yes',
      USERSYNC_TIMER_SCHEDULE: 'every minute',
    });
    expect(error.name).toBe('AppError');
    expect(error.code).toBe('config-invalid');
    expect(error.transient).toBe(false);
    const problems = error.details?.problems as string[];
    expect(problems.map((problem) => problem.split(':')[0])).toEqual([
      'AzureWebJobsStorage',
      'USERSYNC_NAME_PREFIX',
      'USERSYNC_PAGE_SIZE',
      'USERSYNC_ALLOW_INSECURE_HTTP',
      'USERSYNC_TIMER_SCHEDULE',
    ]);
    expect(problems[0]).toBe('AzureWebJobsStorage: set a storage connection string, or AzureWebJobsStorage__accountName for identity-based storage');
    for (const problem of problems) expect(error.message).toContain(problem);
    expect(error.message).toMatch(/^Invalid app settings: /);
  });
});

describe('storageNames', () => {
  const TABLE = /^[A-Za-z][A-Za-z0-9]{2,62}$/;
  // Queues and containers: 3–63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.
  const QUEUE_OR_CONTAINER = /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/;
  const longest = 'a23456789012345678901234';

  it.each(['ab', 'usersync', longest])('derives valid, distinct Azure names from prefix %j', (prefix) => {
    const names = storageNames(prefix);
    const tables = [names.connectionsTable, names.runsTable, names.usersTable, names.auditTable];
    const queues = [names.pagesQueue, names.reconcileQueue, names.finaliseQueue];
    const containers = [names.csvContainer, names.runsContainer];
    for (const table of tables) expect(table).toMatch(TABLE);
    for (const name of [...queues, ...containers]) expect(name).toMatch(QUEUE_OR_CONTAINER);
    // Table names compare case-insensitively in Azure.
    expect(new Set(tables.map((t) => t.toLowerCase())).size).toBe(4);
    expect(new Set(queues).size).toBe(3);
    expect(new Set(containers).size).toBe(2);
    for (const name of Object.values(names)) expect(name.startsWith(prefix)).toBe(true);
  });

  it('keeps the longest names within 63 characters', () => {
    const names = storageNames(longest);
    expect(names.connectionsTable).toBe(`${longest}Connections`);
    expect(names.connectionsTable).toHaveLength(35);
    expect(names.reconcileQueue).toHaveLength(34);
    expect(Math.max(...Object.values(names).map((name) => name.length))).toBeLessThanOrEqual(63);
  });

  it('gives two prefixes disjoint names', () => {
    const a = Object.values(storageNames('test1'));
    const b = Object.values(storageNames('test2'));
    expect(a.filter((name) => b.includes(name))).toEqual([]);
  });
});

describe('MAX_DEQUEUE_COUNT', () => {
  it('allows a few redeliveries', () => {
    expect(MAX_DEQUEUE_COUNT).toBe(5);
  });
});
