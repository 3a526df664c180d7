import { z } from 'zod';
import { groupMembers } from '../accounts/local-groups.js';
import { orgChartOf, visibleUser } from '../accounts/org-chart-view.js';
import { listUsersPage } from '../accounts/user-listing.js';
import type { AuditAction } from '../audit/audit-log.js';
import { availableGroups, testConnection } from '../connections/connection-checks.js';
import { deleteConnection } from '../connections/delete-connection.js';
import { parseProfile } from '../connections/profile.js';
import { AppError } from '../errors/app-error.js';
import type { StoredConnection } from '../sync/ports.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import { cancelRun } from '../sync/pipeline/cancel-run.js';
import { confirmRun } from '../sync/pipeline/confirm-run.js';
import { RUN_ID_PATTERN } from '../sync/run-model.js';
import { startRun } from '../sync/pipeline/start-run.js';
import { problemOf, type ApiResponse } from './problem.js';
import { flag, NO_QUERY, pageLimit, parseQuery, text, type QuerySchema } from './query.js';

/** Bodies above this are refused (413) before they are parsed. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface ApiRequest {
  method: string;
  /** The path under /api as sent, still percent-encoded, without leading slash: `connections/HR%20export/sync`. */
  path: string;
  query: URLSearchParams;
  /** The raw body, when there is one. */
  body?: string;
}

/** `query` is what the route's query schema parsed (each handler names its type). */
type Handler = (deps: SyncDependencies, params: string[], request: ApiRequest, query: never) => Promise<ApiResponse>;

interface Route {
  pattern: string[];
  methods: Partial<Record<string, Handler>>;
  /** The query parameters the route takes; without one it takes none. */
  query?: QuerySchema;
}

const SYNC_QUERY = z.strictObject({ dryRun: flag.optional(), incremental: flag.optional(), fromRun: z.string().regex(RUN_ID_PATTERN, 'not a run id').optional() });
const RUNS_QUERY = z.strictObject({ connection: text.optional() });
const AUDIT_QUERY = z.strictObject({
  run: text.optional(),
  user: text.optional(),
  action: text.optional(),
  connection: text.optional(),
  limit: pageLimit.default(100),
  continuationToken: text.optional(),
});
const USERS_QUERY = z.strictObject({
  connection: text.optional(),
  status: z.enum(['active', 'disabled', 'blocked'], { error: 'must be active, disabled or blocked' }).optional(),
  q: text.optional(),
  limit: pageLimit.default(100),
  continuationToken: text.optional(),
});

/**
 * Every route under /api: the pattern (segments; `:` marks a parameter), a handler per method and the
 * query it takes. Routing lives here so the HTTP function stays one thin trigger; every error goes through problemOf.
 */
const ROUTES: Route[] = [
  { pattern: ['connections'], methods: { GET: listConnections } },
  { pattern: ['connections', ':'], methods: { GET: getConnection, PUT: putConnection, DELETE: removeConnection } },
  { pattern: ['connections', ':', 'sync'], methods: { POST: syncConnection }, query: SYNC_QUERY },
  { pattern: ['connections', ':', 'reset'], methods: { POST: resetConnection } },
  { pattern: ['connections', ':', 'test'], methods: { POST: testConnectionRoute } },
  { pattern: ['connections', ':', 'groups', 'available'], methods: { GET: availableGroupsRoute } },
  { pattern: ['runs'], methods: { GET: listRuns }, query: RUNS_QUERY },
  { pattern: ['runs', ':'], methods: { GET: getRun } },
  { pattern: ['runs', ':', 'confirm'], methods: { POST: confirmRunRoute } },
  { pattern: ['runs', ':', 'cancel'], methods: { POST: cancelRunRoute } },
  { pattern: ['audit'], methods: { GET: queryAudit }, query: AUDIT_QUERY },
  { pattern: ['users'], methods: { GET: listUsers }, query: USERS_QUERY },
  { pattern: ['users', ':'], methods: { GET: getUser } },
  { pattern: ['groups'], methods: { GET: listGroups } },
  { pattern: ['groups', ':', 'members'], methods: { GET: listGroupMembers } },
  { pattern: ['orgchart', ':'], methods: { GET: orgChart } },
];

/** HEAD is GET without the body (its headers kept); OPTIONS answers which methods a route takes. */
export async function handleApi(deps: SyncDependencies, request: ApiRequest): Promise<ApiResponse> {
  const response = await respond(deps, request);
  if (request.method.toUpperCase() !== 'HEAD') return response;
  return { status: response.status, headers: { 'content-type': 'application/json', ...response.headers } };
}

async function respond(deps: SyncDependencies, request: ApiRequest): Promise<ApiResponse> {
  try {
    const segments = request.path.split('/').filter(Boolean).map((segment) => decodeSegment(segment, request.path));
    const route = ROUTES.find(({ pattern }) => pattern.length === segments.length && pattern.every((part, i) => part === ':' || part === segments[i]));
    if (!route) throw new AppError('not-found', `No API route matches /api/${request.path}.`);
    const method = request.method.toUpperCase();
    const allow = allowedMethods(route).join(', ');
    if (method === 'OPTIONS') return { status: 204, headers: { allow } };
    const handler = route.methods[method === 'HEAD' ? 'GET' : method];
    if (!handler) throw new AppError('method-not-allowed', `Use ${allow} for /api/${request.path}.`, { details: { allow } });
    if (request.body !== undefined && Buffer.byteLength(request.body) > MAX_BODY_BYTES) {
      throw new AppError('body-too-large', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
    }
    const query = parseQuery(route.query ?? NO_QUERY, request.query);
    const params = route.pattern.flatMap((part, i) => (part === ':' ? [segments[i]!] : []));
    return await handler(deps, params, request, query as never);
  } catch (error) {
    return problemOf(error);
  }
}

function allowedMethods(route: Route): string[] {
  const methods = Object.keys(route.methods);
  return [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'];
}

/**
 * Each segment is decoded exactly once, here: the HTTP function hands over the path as sent, so `a%2Fb`
 * is one segment `a/b` and `%2525` is `%25`. Malformed percent-encoding is the caller's mistake.
 */
function decodeSegment(segment: string, path: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new AppError('path-invalid', `The path /api/${path} is not valid percent-encoding: write a literal % as %25.`);
  }
}

function ok(body: unknown, status = 200, headers?: Record<string, string>): ApiResponse {
  return { status, jsonBody: body, ...(headers ? { headers } : {}) };
}

/** A profile as the API shows it: profiles hold only the names of their secrets, never values. */
function connectionView({ profile, directoryKey, createdAt, updatedAt, state, problems }: StoredConnection) {
  return { name: profile.name, type: profile.type, directoryKey, createdAt, updatedAt, state, profile, ...(problems ? { problems } : {}) };
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

async function syncConnection(deps: SyncDependencies, [name]: string[], _request: ApiRequest, query: z.output<typeof SYNC_QUERY>) {
  const run = await startRun(deps, {
    connection: name!,
    trigger: 'manual',
    dryRun: query.dryRun ?? false,
    incremental: query.incremental ?? false,
    ...(query.fromRun ? { fromRunId: query.fromRun } : {}),
  });
  return ok({ runId: run.runId, state: run.state, kind: run.kind, dryRun: run.dryRun }, 202, { location: `/api/runs/${run.runId}` });
}

async function resetConnection(deps: SyncDependencies, [name]: string[]) {
  return ok({ connection: await requestReset(deps, name!), resetRequested: true }, 202);
}

/** 200 either way: a directory that refuses is the answer to "test", not a failed request. */
async function testConnectionRoute(deps: SyncDependencies, [name]: string[]) {
  return ok(await testConnection(deps, name!));
}

async function availableGroupsRoute(deps: SyncDependencies, [name]: string[]) {
  return ok(await availableGroups(deps, name!));
}

async function listRuns(deps: SyncDependencies, _params: string[], _request: ApiRequest, { connection }: z.output<typeof RUNS_QUERY>) {
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

async function queryAudit(deps: SyncDependencies, _params: string[], _request: ApiRequest, query: z.output<typeof AUDIT_QUERY>) {
  const page = await deps.audit.query({
    limit: query.limit,
    ...(query.run ? { runId: query.run } : {}),
    ...(query.user ? { subject: query.user.toLowerCase() } : {}),
    ...(query.action ? { action: query.action as AuditAction } : {}),
    ...(query.connection ? { connection: query.connection } : {}),
    ...(query.continuationToken ? { continuationToken: query.continuationToken } : {}),
  });
  return ok(page);
}

async function listUsers(deps: SyncDependencies, _params: string[], _request: ApiRequest, { connection: name, ...query }: z.output<typeof USERS_QUERY>) {
  let directoryKey: string | undefined;
  if (name) {
    const connection = await deps.connections.get(name);
    if (!connection) throw new AppError('connection-not-found', `There is no connection profile named "${name}".`);
    directoryKey = connection.directoryKey;
  }
  const page = await listUsersPage(deps, { ...query, ...(directoryKey ? { directoryKey } : {}) });
  return ok({ ...page, users: page.users.map(visibleUser) });
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
