import { randomBytes } from 'node:crypto';
import { TableClient } from '@azure/data-tables';
import { inject } from 'vitest';
import { functionDefinitions } from '../../functions/registry.js';
import { composeApp, type ComposedApp } from '../../shared/app/compose.js';
import type { FunctionDefinition } from '../../shared/app/registry.js';
import type { ConnectionProfileInput } from '../../shared/connections/profile.js';
import { parseProfile } from '../../shared/connections/profile.js';
import { awaitRun } from '../../shared/host/await-run.js';
import type { StoredUser } from '../../shared/sync/model.js';
import { isTerminal, type Run } from '../../shared/sync/run-model.js';
import { startRun, type StartRunRequest } from '../../shared/sync/pipeline/start-run.js';
import type { AuditRecord } from '../../shared/audit/audit-log.js';
import { waitFor } from './wait.js';

export interface TestApp {
  app: ComposedApp;
  definitions: FunctionDefinition[];
  env: Record<string, string>;
  /** Raw client of a table, to check what really is stored (ETags, secrets). */
  table(name: 'usersTable' | 'auditTable' | 'runsTable' | 'connectionsTable' | 'licencesTable'): TableClient;
}

/** A console folder that holds no build: the app answers a path outside /api with its 503 "not built" page. */
export const NO_CONSOLE = 'test/support/no-console-here';

/** The real app on the shared Azurite, under a fresh name prefix so tests never see each other's data. */
export async function createTestApp(env: Record<string, string> = {}): Promise<TestApp> {
  const connectionString = inject('storageConnectionString');
  const fullEnv = {
    AzureWebJobsStorage: connectionString,
    USERSYNC_NAME_PREFIX: `t${randomBytes(5).toString('hex')}`,
    USERSYNC_PAGE_SIZE: '4',
    ...env,
  };
  const app = composeApp(fullEnv);
  await app.ensureStorage();
  return {
    app,
    // As the local host serves them: every HTTP caller an admin (test/functions/http-roles.test.ts checks Easy Auth's).
    // No console build, whatever the worktree's dist holds, so a path outside /api answers alike everywhere
    // (test/support/console-browser.ts builds its own).
    definitions: functionDefinitions(app, { localHost: true, consoleFolder: NO_CONSOLE }),
    env: fullEnv,
    table: (name) => TableClient.fromConnectionString(connectionString, app.config.names[name], { allowInsecureConnection: true }),
  };
}

export async function putProfile(t: TestApp, profile: ConnectionProfileInput): Promise<void> {
  await t.app.deps.connections.put(parseProfile(profile), new Date().toISOString());
}

export async function uploadCsv(t: TestApp, blobName: string, content: string | Buffer): Promise<void> {
  await t.app.csvFiles.put(blobName, content);
}

/** Starts a run and works the queues until it ends. */
export async function syncNow(t: TestApp, connection: string, request: Partial<StartRunRequest> = {}): Promise<Run> {
  const run = await startRun(t.app.deps, { connection, trigger: 'manual', startedBy: 'cli:tester', ...request });
  return awaitRun(t.app, t.definitions, run.runId, { timeoutMs: 60_000 });
}

/** Waits for a run that a running host works to end (any terminal state); throws after `timeoutMs`. */
export async function awaitRunEnd(t: TestApp, runId: string, timeoutMs = 50_000): Promise<Run> {
  return waitFor(
    async () => {
      const run = await t.app.deps.runs.get(runId);
      return run && isTerminal(run.state) ? run : undefined;
    },
    `run ${runId} to end`,
    timeoutMs,
    50,
  );
}

export async function usersOf(t: TestApp, connection: string): Promise<Map<string, StoredUser>> {
  const stored = await t.app.deps.connections.get(connection);
  if (!stored) throw new Error(`no connection ${connection}`);
  const users = new Map<string, StoredUser>();
  for await (const user of t.app.deps.users.list(stored.directoryKey)) users.set(user.username, user);
  return users;
}

export async function auditOf(t: TestApp, runId: string): Promise<AuditRecord[]> {
  const page = await t.app.deps.audit.query({ runId, limit: 1000 });
  return page.records;
}

/** Every row of a table with its ETag: an unchanged ETag proves the row was not rewritten. */
export async function etags(t: TestApp, name: 'usersTable'): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  for await (const entity of t.table(name).listEntities()) result.set(`${entity.partitionKey}/${entity.rowKey}`, String(entity.etag));
  return result;
}

/**
 * Test directories hold a handful of users, where one leaver is already more than the default 10%;
 * tests of other behaviour use this guard, and test/sync/disable-guard.test.ts covers the default.
 */
export const SMALL_DIRECTORY_GUARD = { maxPercent: 100, maxCount: 500 };

export function csvProfile(name: string, blobName: string, extra: Partial<ConnectionProfileInput> = {}): ConnectionProfileInput {
  return {
    name,
    type: 'csv',
    source: { kind: 'blob', blobName },
    defaultPasswordSecret: 'TEST_DEFAULT_PASSWORD',
    schedule: { kind: 'off' },
    disableGuard: SMALL_DIRECTORY_GUARD,
    ...extra,
  } as ConnectionProfileInput;
}

/**
 * An Entra profile reaching a tenant of the Graph fake (at `graphUrl`, which also signs in), its client secret in the
 * app setting `secretName`, syncing the fake's group `all`: the base of the Entra pipeline tests, `extra` on top.
 */
export function fakeEntraProfile(
  name: string,
  fake: { tenantId: string; clientId: string; graphUrl: string; secretName: string },
  extra: Partial<ConnectionProfileInput> = {},
): ConnectionProfileInput {
  return {
    name,
    type: 'entra',
    schedule: { kind: 'off' },
    disableGuard: SMALL_DIRECTORY_GUARD,
    tenantId: fake.tenantId,
    clientId: fake.clientId,
    credential: { kind: 'secret', secretName: fake.secretName },
    selectedGroups: ['all'],
    graphBaseUrl: fake.graphUrl,
    authorityHost: fake.graphUrl,
    ...extra,
  } as ConnectionProfileInput;
}
