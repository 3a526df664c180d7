import { Readable } from 'node:stream';
import type { AdminServices } from '../shared/admin/operation.js';
import type { HttpFunction, HttpMethod } from '../shared/app/registry.js';
import { handleApi } from '../shared/http/api.js';
import { callerOf, type CallerTrust } from '../shared/http/caller.js';
import { csrfRefusal } from '../shared/http/csrf.js';
import { problemOf } from '../shared/http/problem.js';
import { API_HEADERS, withHeaders } from '../shared/http/security-headers.js';

/**
 * Every method reaches the API, so it answers 405 with each route's own `Allow` (and OPTIONS, HEAD). Not
 * TRACE or CONNECT: the Fetch API's Request (which HttpRequest is) refuses them, so the host's 405 answers.
 */
const ALL_METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'];

/** The route's literal segment (host.json's routePrefix is empty: the console is at the root). */
const API_PREFIX = /^\/api(?:\/|$)/i;

/**
 * One HTTP function for every route under /api: the admin operations (shared/admin/operations.ts), each
 * run as the caller `trust` says the request comes from (shared/http/caller.ts). A change a browser could
 * have sent on another site's behalf is refused here, before any route (shared/http/csrf.ts); every answer
 * carries the API's security headers.
 */
export function httpApiFunction(services: AdminServices, trust: CallerTrust): HttpFunction {
  return {
    name: 'httpApi',
    trigger: { kind: 'http', route: 'api/{*path}', methods: ALL_METHODS },
    handler: async (request) => {
      const refused = csrfRefusal(request.method, request.headers);
      if (refused) return withHeaders(problemOf(refused), API_HEADERS);
      const url = new URL(request.url);
      // The path as sent, not the host's decoded `params.path`: the API decodes each segment once, so an
      // encoded `/` (`a%2Fb`) stays inside its segment. The query from the URL keeps repeated parameters.
      const path = url.pathname.replace(API_PREFIX, '');
      // The body as it arrives: the API reads a JSON body up to its limit, and streams an uploaded file on.
      const contentType = request.headers.get('content-type');
      const response = await handleApi(services, {
        method: request.method,
        path,
        query: url.searchParams,
        ...(request.body ? { body: Readable.fromWeb(request.body) } : {}),
        ...(contentType ? { contentType } : {}),
      }, callerOf(trust, request.headers));
      return withHeaders(response, API_HEADERS);
    },
  };
}
