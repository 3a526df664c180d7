import type { Readable } from 'node:stream';
import type { SecretResolver } from '../config/secrets.js';
import { AppError } from '../errors/app-error.js';
import { bodyText } from '../http/api.js';
import type { HeaderReader } from '../http/caller.js';
import type { ApiResponse } from '../http/problem.js';
import { checkBearer, unauthorized } from './auth.js';
import { resourceTypes, schemas, serviceProviderConfig } from './discovery.js';
import { SCIM_CONTENT_TYPE, scimErrorOf } from './errors.js';
import { handleGroups } from './groups.js';
import type { ResourceRequest, ScimConnections } from './resource-request.js';
import { handleUsers, notAllowed } from './users.js';

export interface ScimRequest {
  method: string;
  /** The request's URL: its path is `/scim/v2/<connection>/<endpoint>…`, still percent-encoded. */
  url: URL;
  headers: HeaderReader;
  body?: Readable | string;
}

const PREFIX = /^\/scim\/v2\/?/i;
/** Bodies a client may send (RFC 7644 §3.1: application/scim+json; most clients also send application/json). */
const BODY_TYPES = new Set([SCIM_CONTENT_TYPE, 'application/json']);

/**
 * The SCIM 2.0 endpoint of every `scim` connection: `/scim/v2/<connection>/…`. The caller's bearer token is
 * checked against the connection's token before anything else; an unknown connection gets the same 401 as a
 * wrong token, so a caller learns no connection's name. Every answer is application/scim+json.
 */
export async function handleScim(connections: ScimConnections, secrets: SecretResolver, request: ScimRequest): Promise<ApiResponse> {
  let response: ApiResponse;
  try {
    response = await respond(connections, secrets, request);
  } catch (error) {
    response = scimErrorOf(error);
  }
  return { ...response, headers: { ...(response.jsonBody === undefined ? {} : { 'content-type': SCIM_CONTENT_TYPE }), ...response.headers } };
}

async function respond(connections: ScimConnections, secrets: SecretResolver, request: ScimRequest): Promise<ApiResponse> {
  const [name, endpoint, id, ...rest] = segmentsOf(request.url.pathname.replace(PREFIX, ''));
  const connection = name === undefined ? undefined : await connections(name);
  if (!connection) throw unauthorized();
  checkBearer(request.headers.get('authorization'), secrets, connection.tokenSecret);
  if (endpoint === undefined || rest.length > 0) throw notFound(request.url);
  const method = request.method.toUpperCase();
  const baseUrl = `${request.url.origin}/scim/v2/${encodeURIComponent(name!)}`;
  const ifMatch = request.headers.get('if-match') ?? undefined;
  const resource = async (): Promise<ResourceRequest> => ({
    connection: { directory: await connection.open(), attributeMap: connection.attributeMap },
    method,
    ...(id === undefined ? {} : { id }),
    ...(ifMatch ? { ifMatch } : {}),
    query: request.url.searchParams,
    body: await bodyOf(request),
    baseUrl,
  });
  switch (endpoint.toLowerCase()) {
    case 'users':
      return handleUsers(await resource());
    case 'groups':
      return handleGroups(await resource());
    case 'serviceproviderconfig':
      return discovery(method, id === undefined ? serviceProviderConfig(baseUrl) : undefined, request.url);
    case 'schemas':
      return discovery(method, schemas(baseUrl, id), request.url);
    case 'resourcetypes':
      return discovery(method, resourceTypes(baseUrl, id), request.url);
    default:
      throw notFound(request.url);
  }
}

function discovery(method: string, answer: Record<string, unknown> | undefined, url: URL): ApiResponse {
  if (!answer) throw notFound(url);
  if (method !== 'GET') throw notAllowed('GET');
  return { status: 200, jsonBody: answer };
}

/** The path's segments, each decoded once (an id may hold an encoded `/`). */
function segmentsOf(path: string): string[] {
  try {
    return path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    throw new AppError('path-invalid', 'The path is not valid percent-encoding.');
  }
}

/** The JSON body, read (up to the API's limit) only by a route that takes one; a wrong media type is 415. */
async function bodyOf(request: ScimRequest): Promise<() => unknown> {
  if (request.body === undefined || !['POST', 'PUT', 'PATCH'].includes(request.method.toUpperCase())) return () => bodyError('The request needs a JSON body.');
  const type = (request.headers.get('content-type') ?? SCIM_CONTENT_TYPE).split(';')[0]!.trim().toLowerCase();
  if (!BODY_TYPES.has(type)) throw new AppError('media-type-unsupported', `Send the body as ${SCIM_CONTENT_TYPE} (or application/json), not ${type}.`);
  const text = await bodyText(request.body);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text ?? '');
  } catch {
    return () => bodyError('The request body is not valid JSON.');
  }
  return () => parsed;
}

function bodyError(sentence: string): never {
  throw new AppError('body-invalid', sentence);
}

function notFound(url: URL): AppError {
  return new AppError('not-found', `There is no SCIM endpoint at ${url.pathname}.`);
}
