import { groupMembers } from '../accounts/local-groups.js';
import { orgChartOf, visibleUser } from '../accounts/org-chart-view.js';
import type { AuditAction } from '../audit/audit-log.js';
import { availableGroups, testConnection } from '../connections/connection-checks.js';
import { deleteConnection } from '../connections/delete-connection.js';
import { parseProfile } from '../connections/profile.js';
import { AppError } from '../errors/app-error.js';
import type { StoredConnection } from '../store/ports.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import { cancelRun } from '../sync/cancel-run.js';
import { confirmRun } from '../sync/confirm-run.js';
import { RUN_ID_PATTERN } from '../sync/run-model.js';
import { startRun } from '../sync/start-run.js';
import { problemOf, type ApiResponse } from './problem.js';

/** Bodies above this are refused (413) before they are parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface ApiRequest {
  method: string;
  /** The path under /api, without leading slash: `connections/HR/sync`. */
  path: string;
  query: URLSearchParams;
  /** The raw body, when there is one. */
  body?: string;
}

type Handler = (deps: SyncDependencies, params: string[], request: ApiRequest) => Promise<ApiResponse>;

/**
 * Every route under /api: the pattern (segments; `:` marks a parameter) and a handler per method.
 * Routing lives here so the HTTP function stays one thin trigger; every error goes through problemOf.
 */
const ROUTES: { pattern: string[]; methods: Partial<Record<string, Handler>> }[] = [
  { pattern: ['connections'], methods: { GET: listConnections } },
  { pattern: ['connections', ':'], methods: { GET: getConnection, PUT: putConnection, DELETE: removeConnection } },
  { pattern: ['connections', ':', 'sync'], methods: { POST: syncConnection } },
  { pattern: ['connections', ':', 'reset'], methods: { POST: resetConnection } },
  { pattern: ['connections', ':', 'test'], methods: { POST: testConnectionRoute } },
  { pattern: ['connections', ':', 'groups', 'available'], methods: { GET: availableGroupsRoute } },
  { pattern: ['runs'], methods: { GET: listRuns } },
  { pattern: ['runs', ':'], methods: { GET: getRun } },
  { pattern: ['runs', ':', 'confirm'], methods: { POST: confirmRunRoute } },
  { pattern: ['runs', ':', 'cancel'], methods: { POST: cancelRunRoute } },
  { pattern: ['audit'], methods: { GET: queryAudit } },
  { pattern: ['users'], methods: { GET: listUsers } },
  { pattern: ['users', ':'], methods: { GET: getUser } },
  { pattern: ['groups'], methods: { GET: listGroups } },
  { pattern: ['groups', ':', 'members'], methods: { GET: listGroupMembers } },
  { pattern: ['orgchart', ':'], methods: { GET: orgChart } },
];

export async function handleApi(deps: SyncDependencies, request: ApiRequest): Promise<ApiResponse> {
  try {
    const segments = request.path.split('/').filter(Boolean).map(decodeSegment);
    const route = ROUTES.find(({ pattern }) => pattern.length === segments.length && pattern.every((part, i) => part === ':' || part === segments[i]));
    if (!route) throw new AppError('not-found', `No API route matches /api/${request.path}.`);
    const handler = route.methods[request.method.toUpperCase()];
    if (!handler) {
      const allow = Object.keys(route.methods).join(', ');
      throw new AppError('method-not-allowed', `Use ${allow} for /api/${request.path}.`, { allow });
    }
    if (request.body !== undefined && Buffer.byteLength(request.body) > MAX_BODY_BYTES) {
      throw new AppError('body-too-large', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
    }
    const params = route.pattern.flatMap((part, i) => (part === ':' ? [segments[i]!] : []));
    return await handler(deps, params, request);
  } catch (error) {
    return problemOf(error);
  }
}

/**
 * Hosts hand over the path already decoded (the local host does), so a segment that is not valid
 * percent-encoding (a username with `%`) is taken as it is rather than failing the request.
 */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function ok(body: unknown, status = 200, headers?: Record<string, string>): ApiResponse {
  return { status, jsonBody: body, ...(headers ? { headers } : {}) };
}

/** A profile as the API shows it: profiles hold only the names of their secrets, never values. */
function connectionView({ profile, directoryKey, createdAt, updatedAt, state }: StoredConnection) {
  return { name: profile.name, type: profile.type, directoryKey, createdAt, updatedAt, state, profile };
}

function jsonBody(request: ApiRequest): unknown {
  try {
    return JSON.parse(request.body ?? '');
  } catch {
    throw new AppError('body-invalid', 'The request body is not valid JSON.');
  }
}

async function listConnections(deps: SyncDependencies) {
  return ok((await deps.connections.list()).map(connectionView));
}

async function getConnection(deps: SyncDependencies, [name]: string[]) {
  const connection = await deps.connections.get(name!);
  if (!connection) throw new AppError('connection-not-found', `There is no connection profile named "${name}".`);
  return ok(connectionView(connection));
}

async function putConnection(deps: SyncDependencies, [name]: string[], request: ApiRequest) {
  const body = jsonBody(request);
  const profile = parseProfile(typeof body === 'object' && body !== null ? { ...body, name } : body);
  const { connection, created } = await deps.connections.put(profile, deps.clock().toISOString());
  return ok(connectionView(connection), created ? 201 : 200);
}

async function removeConnection(deps: SyncDependencies, [name]: string[]) {
  return ok(await deleteConnection(deps, name!));
}

async function syncConnection(deps: SyncDependencies, [name]: string[], request: ApiRequest) {
  const run = await startRun(deps, {
    connection: name!,
    trigger: 'manual',
    dryRun: request.query.get('dryRun') === 'true',
    incremental: request.query.get('incremental') === 'true',
  });
  return ok({ runId: run.runId, state: run.state, kind: run.kind, dryRun: run.dryRun }, 202, { location: `/api/runs/${run.runId}` });
}

async function resetConnection(deps: SyncDependencies, [name]: string[]) {
  return ok({ connection: await requestReset(deps, name!), resetRequested: true }, 202);
}

async function testConnectionRoute(deps: SyncDependencies, [name]: string[]) {
  return ok({ ok: true, detail: await testConnection(deps, name!) });
}

async function availableGroupsRoute(deps: SyncDependencies, [name]: string[]) {
  return ok(await availableGroups(deps, name!));
}

async function listRuns(deps: SyncDependencies, _params: string[], request: ApiRequest) {
  const connection = request.query.get('connection') ?? undefined;
  return ok(await deps.runs.list({ ...(connection ? { connection } : {}), limit: 50 }));
}

async function getRun(deps: SyncDependencies, [id]: string[]) {
  const run = RUN_ID_PATTERN.test(id!) ? await deps.runs.get(id!) : undefined;
  if (!run) throw new AppError('run-not-found', `There is no run ${id}.`);
  return ok(run);
}

async function confirmRunRoute(deps: SyncDependencies, [id]: string[]) {
  const run = await confirmRun(deps, id!);
  return ok({ runId: run.runId, state: run.state, confirmedAt: run.confirmedAt, disabling: run.heldDisables?.count ?? 0 }, 202, { location: `/api/runs/${run.runId}` });
}

async function cancelRunRoute(deps: SyncDependencies, [id]: string[]) {
  // Function keys do not say who called; the audit record says it came through the API.
  return ok(await cancelRun(deps, id!, 'an admin through the API'));
}

async function queryAudit(deps: SyncDependencies, _params: string[], request: ApiRequest) {
  const { query } = request;
  const limit = Math.min(Math.max(Number(query.get('limit') ?? 100) || 100, 1), 1000);
  const page = await deps.audit.query({
    limit,
    ...(query.get('run') ? { runId: query.get('run')! } : {}),
    ...(query.get('user') ? { subject: query.get('user')!.toLowerCase() } : {}),
    ...(query.get('action') ? { action: query.get('action') as AuditAction } : {}),
    ...(query.get('connection') ? { connection: query.get('connection')! } : {}),
    ...(query.get('continuationToken') ? { continuationToken: query.get('continuationToken')! } : {}),
  });
  return ok(page);
}

async function listUsers(deps: SyncDependencies, _params: string[], request: ApiRequest) {
  const name = request.query.get('connection');
  let directoryKey: string | undefined;
  if (name) {
    const connection = await deps.connections.get(name);
    if (!connection) throw new AppError('connection-not-found', `There is no connection profile named "${name}".`);
    directoryKey = connection.directoryKey;
  }
  const users = [];
  for await (const user of deps.users.list(directoryKey)) users.push(visibleUser(user));
  return ok(users.sort((a, b) => a.username.localeCompare(b.username)));
}

async function getUser(deps: SyncDependencies, [username]: string[]) {
  const owner = await deps.usernames.find(username!);
  const user = owner ? await deps.users.get(owner.directoryKey, owner.key) : undefined;
  if (!user) throw new AppError('user-not-found', `There is no user "${username}".`);
  return ok(visibleUser(user));
}

async function listGroups(deps: SyncDependencies) {
  return ok(await deps.groups.list());
}

async function listGroupMembers(deps: SyncDependencies, [name]: string[]) {
  return ok((await groupMembers(deps, name!)).map(visibleUser));
}

async function orgChart(deps: SyncDependencies, [username]: string[]) {
  const view = await orgChartOf(deps, username!);
  return ok({ user: visibleUser(view.user), managers: view.chain.map(visibleUser), loops: view.loops, directReports: view.reports.map(visibleUser) });
}

/** "Reset": clears the wait, so the scheduler starts a run on its next tick. */
export async function requestReset(deps: SyncDependencies, name: string): Promise<string> {
  const now = deps.clock().toISOString();
  const updated = await deps.connections.updateState(name, (current) => ({ ...current.state, resetRequestedAt: now }));
  if (!updated) throw new AppError('connection-not-found', `There is no connection profile named "${name}".`);
  return updated.profile.name;
}
