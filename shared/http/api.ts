import { AppError } from '../errors/app-error.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import { startRun } from '../sync/start-run.js';
import { problemOf, type ApiResponse } from './problem.js';

export interface ApiRequest {
  method: string;
  /** The path under /api, without leading slash: `connections/HR/sync`. */
  path: string;
  query: URLSearchParams;
}

/**
 * Manual sync, reset and status over HTTP. Routes are matched here so the function stays one thin
 * trigger; every error goes through problemOf.
 */
export async function handleApi(deps: SyncDependencies, request: ApiRequest): Promise<ApiResponse> {
  try {
    return await route(deps, request);
  } catch (error) {
    return problemOf(error);
  }
}

async function route(deps: SyncDependencies, request: ApiRequest): Promise<ApiResponse> {
  const segments = request.path.split('/').filter(Boolean).map(decodeURIComponent);
  const [collection, id, action] = segments;
  const method = request.method.toUpperCase();

  if (collection === 'connections' && segments.length === 1) {
    allow(method, 'GET');
    const connections = await deps.connections.list();
    return ok(connections.map(({ profile, directoryKey, state }) => ({ name: profile.name, type: profile.type, enabled: profile.enabled, directoryKey, state })));
  }
  if (collection === 'connections' && id && action === 'sync' && segments.length === 3) {
    allow(method, 'POST');
    const run = await startRun(deps, { connection: id, trigger: 'manual', dryRun: request.query.get('dryRun') === 'true' });
    return { status: 202, headers: { location: `/api/runs/${run.runId}` }, jsonBody: { runId: run.runId, state: run.state } };
  }
  if (collection === 'connections' && id && action === 'reset' && segments.length === 3) {
    allow(method, 'POST');
    const reset = await requestReset(deps, id);
    return { status: 202, jsonBody: { connection: reset, resetRequested: true } };
  }
  if (collection === 'runs' && segments.length === 1) {
    allow(method, 'GET');
    const connection = request.query.get('connection') ?? undefined;
    return ok(await deps.runs.list({ ...(connection ? { connection } : {}), limit: 50 }));
  }
  if (collection === 'runs' && id && segments.length === 2) {
    allow(method, 'GET');
    const run = await deps.runs.get(id);
    if (!run) throw new AppError('run-not-found', `There is no run ${id}.`);
    return ok(run);
  }
  throw new AppError('not-found', `No API route matches /api/${request.path}.`);
}

/** "Reset": clears the wait, so the scheduler starts a run on its next tick. */
export async function requestReset(deps: SyncDependencies, name: string): Promise<string> {
  const now = deps.clock().toISOString();
  const updated = await deps.connections.updateState(name, (current) => ({ ...current.state, resetRequestedAt: now }));
  if (!updated) throw new AppError('connection-not-found', `There is no connection profile named "${name}".`);
  return updated.profile.name;
}

function allow(method: string, expected: string): void {
  if (method !== expected) throw new AppError('method-not-allowed', `Use ${expected} for this route.`, { allow: expected });
}

function ok(body: unknown): ApiResponse {
  return { status: 200, jsonBody: body };
}
