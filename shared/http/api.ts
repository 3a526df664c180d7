import { perform } from '../admin/dispatch.js';
import type { AdminServices, Caller, HttpMethod, Operation } from '../admin/operation.js';
import { OPERATIONS, type OperationName } from '../admin/operations.js';
import { AppError } from '../errors/app-error.js';
import { problemOf, type ApiResponse } from './problem.js';
import { parseQuery } from './query.js';

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

interface Route {
  /** Segments; `:field` carries that input field. */
  pattern: string[];
  methods: Partial<Record<HttpMethod, OperationName>>;
}

/** The order methods are listed in `Allow`. */
const METHOD_ORDER: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'DELETE'];

/** Every route under /api, from the operations table: one per path, the methods its operations declare. */
const ROUTES: Route[] = (() => {
  const routes = new Map<string, Route>();
  for (const name of Object.keys(OPERATIONS) as OperationName[]) {
    const { http } = OPERATIONS[name] as Operation;
    if (!http) continue;
    const route = routes.get(http.path) ?? { pattern: http.path.split('/'), methods: {} };
    route.methods[http.method] = name;
    routes.set(http.path, route);
  }
  return [...routes.values()];
})();

/**
 * The HTTP API: a request becomes the input of the operation its route names, which runs as every
 * surface runs it (perform: role, input, use case); its output is the JSON answer, an error is
 * problem+json (problemOf). HEAD is GET without the body (its headers kept); OPTIONS answers which
 * methods a route takes. `caller`: who asks, as the HTTP function learnt it (caller.ts).
 */
export async function handleApi(services: AdminServices, request: ApiRequest, caller: Caller): Promise<ApiResponse> {
  const response = await respond(services, request, caller);
  if (request.method.toUpperCase() !== 'HEAD') return response;
  return { status: response.status, headers: { 'content-type': 'application/json', ...response.headers } };
}

async function respond(services: AdminServices, request: ApiRequest, caller: Caller): Promise<ApiResponse> {
  try {
    const segments = request.path.split('/').filter(Boolean).map((segment) => decodeSegment(segment, request.path));
    const route = routeOf(segments);
    if (!route) throw new AppError('not-found', `No API route matches /api/${request.path}.`);
    const method = request.method.toUpperCase();
    const allow = allowedMethods(route).join(', ');
    if (method === 'OPTIONS') return { status: 204, headers: { allow } };
    const name = route.methods[(method === 'HEAD' ? 'GET' : method) as HttpMethod];
    if (!name) throw new AppError('method-not-allowed', `Use ${allow} for /api/${request.path}.`, { details: { allow } });
    if (request.body !== undefined && Buffer.byteLength(request.body) > MAX_BODY_BYTES) {
      throw new AppError('body-too-large', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
    }
    const operation = OPERATIONS[name] as Operation;
    const output = await perform(services, caller, name, () => inputOf(operation, route, segments, request));
    const http = operation.http!;
    return {
      status: http.status?.(output) ?? 200,
      jsonBody: output,
      ...(http.location ? { headers: { location: http.location(output) } } : {}),
    };
  } catch (error) {
    return problemOf(error);
  }
}

/** The route of these segments; a literal segment matches before a `:field` one (`runs/recent` before `runs/:id`). */
function routeOf(segments: string[]): Route | undefined {
  const literals = ({ pattern }: Route) => pattern.filter((part) => !part.startsWith(':')).length;
  return ROUTES.filter(({ pattern }) => pattern.length === segments.length && pattern.every((part, i) => part.startsWith(':') || part === segments[i])).sort(
    (a, b) => literals(b) - literals(a),
  )[0];
}

function allowedMethods(route: Route): string[] {
  const methods = METHOD_ORDER.filter((method) => route.methods[method]);
  return [...methods, ...(methods.includes('GET') ? ['HEAD'] : []), 'OPTIONS'];
}

/** The operation's input, from the path's fields, the query parameters it takes and the body it reads. */
function inputOf({ http, input: schema }: Operation, route: Route, segments: string[], request: ApiRequest): Record<string, unknown> {
  const query = parseQuery(request.query, schema, http?.query ?? []);
  let body: Record<string, unknown> = {};
  if (http?.body === 'fields') {
    const fields = jsonBody(request);
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw new AppError('body-invalid', 'The request body must be a JSON object.');
    body = fields as Record<string, unknown>;
  } else if (http?.body && 'json' in http.body) {
    body = { [http.body.json]: jsonBody(request) };
  }
  // Spread, not assigned: a body's own `__proto__` key stays a key (the strict schema refuses it).
  const path = Object.fromEntries(route.pattern.flatMap((part, i) => (part.startsWith(':') ? [[part.slice(1), segments[i]]] : [])));
  return { ...body, ...query, ...path };
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

function jsonBody(request: ApiRequest): unknown {
  try {
    return JSON.parse(request.body ?? '');
  } catch {
    throw new AppError('body-invalid', 'The request body is not valid JSON.');
  }
}
