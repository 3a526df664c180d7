import { Readable } from 'node:stream';
import type { AdminServices } from '../shared/admin/operation.js';
import type { HttpFunction, HttpMethod } from '../shared/app/registry.js';
import { handleApi } from '../shared/http/api.js';
import { callerOf, type CallerTrust } from '../shared/http/caller.js';

/**
 * Every method reaches the API, so it answers 405 with each route's own `Allow` (and OPTIONS, HEAD). Not
 * TRACE or CONNECT: the Fetch API's Request (which HttpRequest is) refuses them, so the host's 405 answers.
 */
const ALL_METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];

/** host.json `extensions.http.routePrefix`. */
const ROUTE_PREFIX = /^\/api(?:\/|$)/i;

/**
 * One HTTP function for every route under /api: the admin operations (shared/admin/operations.ts), each
 * run as the caller `trust` says the request comes from (shared/http/caller.ts).
 */
export function httpApiFunction(services: AdminServices, trust: CallerTrust): HttpFunction {
  return {
    name: 'httpApi',
    trigger: { kind: 'http', route: '{*path}', methods: ALL_METHODS },
    handler: async (request) => {
      const url = new URL(request.url);
      // The path as sent, not the host's decoded `params.path`: the API decodes each segment once, so an
      // encoded `/` (`a%2Fb`) stays inside its segment. The query from the URL keeps repeated parameters.
      const path = url.pathname.replace(ROUTE_PREFIX, '');
      // The body as it arrives: the API reads a JSON body up to its limit, and streams an uploaded file on.
      const contentType = request.headers.get('content-type');
      return handleApi(services, {
        method: request.method,
        path,
        query: url.searchParams,
        ...(request.body ? { body: Readable.fromWeb(request.body) } : {}),
        ...(contentType ? { contentType } : {}),
      }, callerOf(trust, request.headers));
    },
  };
}
