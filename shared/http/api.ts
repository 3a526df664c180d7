import { Readable } from 'node:stream';
import { perform } from '../admin/dispatch.js';
import type { AdminServices, Caller, FileAnswer, HttpMethod, Operation } from '../admin/operation.js';
import { OPERATIONS, type OperationName } from '../admin/operations.js';
import { AppError } from '../errors/app-error.js';
import { problemOf, type ApiResponse } from './problem.js';
import { parseQuery } from './query.js';

/** JSON bodies above this are refused (413) before they are parsed; a file a route streams has its own limit. */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface ApiRequest {
  method: string;
  /** The path under /api as sent, still percent-encoded, without leading slash: `connections/HR%20export/sync`. */
  path: string;
  query: URLSearchParams;
  /** The body, when there is one: as it arrives (read only as far as the route needs), or as text. */
  body?: Readable | string;
  /** The request's Content-Type header, when it has one. */
  contentType?: string;
}

interface Route {
  /** Segments; `:field` carries that input field. */
  pattern: string[];
  /** The operations of each method: those that `select` by a query parameter first, then the plain one. */
  methods: Partial<Record<HttpMethod, OperationName[]>>;
}

/** The order methods are listed in `Allow`. */
const METHOD_ORDER: readonly HttpMethod[] = ['GET', 'POST', 'PUT', 'DELETE'];

const selectorsOf = (name: OperationName) => Object.entries((OPERATIONS[name] as Operation).http.select ?? {});

/** Every route under /api, from the operations table: one per path, the methods its operations declare. */
const ROUTES: Route[] = (() => {
  const routes = new Map<string, Route>();
  for (const name of Object.keys(OPERATIONS) as OperationName[]) {
    const { http } = OPERATIONS[name] as Operation;
    const route = routes.get(http.path) ?? { pattern: http.path.split('/'), methods: {} };
    route.methods[http.method] = [...(route.methods[http.method] ?? []), name].sort((a, b) => selectorsOf(b).length - selectorsOf(a).length);
    routes.set(http.path, route);
  }
  return [...routes.values()];
})();

/** The operation a request names: one whose `select` parameters the query holds, else the route's plain one (last: it selects by nothing). */
function operationFor(candidates: readonly OperationName[], query: URLSearchParams): OperationName {
  return candidates.find((name) => selectorsOf(name).every(([key, value]) => query.get(key) === value))!;
}

/**
 * The HTTP API: a request becomes the input of the operation its route names, which runs as every
 * surface runs it (perform: role, input, use case); its output is the JSON answer, an error is
 * problem+json (problemOf). HEAD is GET without the body (its headers kept); OPTIONS answers which
 * methods a route takes. `caller`: who asks, as the HTTP function learnt it (caller.ts).
 */
export async function handleApi(services: AdminServices, request: ApiRequest, caller: Caller): Promise<ApiResponse> {
  const response = await respond(services, request, caller);
  // What the route did not read (a refused upload) is dropped, not left pending.
  if (request.body instanceof Readable) request.body.destroy();
  if (request.method.toUpperCase() !== 'HEAD') return response;
  response.body?.destroy();
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
    const candidates = route.methods[(method === 'HEAD' ? 'GET' : method) as HttpMethod];
    if (!candidates) throw new AppError('method-not-allowed', `Use ${allow} for /api/${request.path}.`, { details: { allow } });
    const name = operationFor(candidates, request.query);
    const operation = OPERATIONS[name] as Operation;
    const { http } = operation;
    // A JSON body is read (at most MAX_BODY_BYTES) before anything else; a streamed one only by its use case.
    const text = http.body === undefined || (typeof http.body === 'object' && 'stream' in http.body) ? undefined : await bodyText(request.body);
    const output = await perform(services, caller, name, () => inputOf(operation, route, segments, request, text));
    if (http.file) return fileResponse(output as unknown as FileAnswer);
    return {
      status: http.status?.(output) ?? 200,
      jsonBody: output,
      ...(http.location ? { headers: { location: http.location(output) } } : {}),
    };
  } catch (error) {
    return problemOf(error);
  }
}

/** A file answer: its content streamed, saved under its name by a browser (RFC 6266: ASCII name, then UTF-8). */
function fileResponse({ filename, contentType, content }: FileAnswer): ApiResponse {
  const ascii = filename.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return {
    status: 200,
    headers: { 'content-type': contentType, 'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(filename)}` },
    body: content,
  };
}

/** The body as text, refused (413) past MAX_BODY_BYTES without reading further. */
export async function bodyText(body: ApiRequest['body']): Promise<string | undefined> {
  if (body === undefined || typeof body === 'string') {
    if (body !== undefined && Buffer.byteLength(body) > MAX_BODY_BYTES) throw tooLarge();
    return body;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw tooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function tooLarge(): AppError {
  return new AppError('body-too-large', `The request body is larger than ${MAX_BODY_BYTES} bytes.`);
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
function inputOf({ http, input: schema }: Operation, route: Route, segments: string[], request: ApiRequest, text: string | undefined): Record<string, unknown> {
  const selectors = new Set(Object.keys(http.select ?? {}));
  const query = parseQuery(new URLSearchParams([...request.query].filter(([key]) => !selectors.has(key))), schema, http.query ?? []);
  const reads = http.body;
  let body: Record<string, unknown> = {};
  if (reads === 'fields') {
    const fields = jsonBody(text);
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) throw new AppError('body-invalid', 'The request body must be a JSON object.');
    body = fields as Record<string, unknown>;
  } else if (reads && 'json' in reads) {
    body = { [reads.json]: jsonBody(text) };
  } else if (reads) {
    body = { [reads.stream]: fileBody(request, reads.contentTypes) };
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

function jsonBody(text: string | undefined): unknown {
  try {
    return JSON.parse(text ?? '');
  } catch {
    throw new AppError('body-invalid', 'The request body is not valid JSON.');
  }
}

/** A file sent as the body, as it arrives, if it is of a media type the route takes (none said: a file). */
function fileBody(request: ApiRequest, contentTypes: readonly string[]): Readable {
  const type = (request.contentType ?? 'application/octet-stream').split(';')[0]!.trim().toLowerCase();
  if (!contentTypes.includes(type)) {
    throw new AppError('media-type-unsupported', `Send the file as ${contentTypes.join(' or ')}, not ${type || 'an empty Content-Type'}.`, { details: { accept: contentTypes.join(', ') } });
  }
  const { body } = request;
  return body instanceof Readable ? body : Readable.from(body === undefined ? [] : [Buffer.from(body)]);
}
