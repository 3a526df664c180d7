import { Readable } from 'node:stream';
import type { HttpFunction, HttpMethod } from '../shared/app/registry.js';
import type { SecretResolver } from '../shared/config/secrets.js';
import type { ScimConnections } from '../shared/scim/resource-request.js';
import { handleScim } from '../shared/scim/router.js';
import { API_HEADERS, withHeaders } from '../shared/http/security-headers.js';

const METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * The SCIM 2.0 endpoint Entra ID and Okta push to (shared/scim/). No CSRF header: it is no browser's API, the
 * connection's bearer token is the credential, checked by the endpoint itself (Easy Auth lets /scim through).
 */
export function scimFunction(connections: ScimConnections, secrets: SecretResolver): HttpFunction {
  return {
    name: 'scim',
    trigger: { kind: 'http', route: 'scim/v2/{*path}', methods: METHODS },
    handler: async (request) => {
      const response = await handleScim(connections, secrets, {
        method: request.method,
        // The URL as sent, not the host's decoded `params.path`: each segment is decoded once (an id may hold `/`).
        url: new URL(request.url),
        headers: request.headers,
        ...(request.body ? { body: Readable.fromWeb(request.body) } : {}),
      });
      return withHeaders(response, API_HEADERS);
    },
  };
}
