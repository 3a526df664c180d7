import { HttpRequest, InvocationContext } from '@azure/functions';
import { scimFunction } from '../../functions/scim.js';
import { environmentSecrets } from '../../shared/config/secrets.js';
import type { AttributeMap } from '../../shared/scim/user-resource.js';
import { FakePushedDirectory } from '../fakes/pushed-directory.js';

export const TOKEN = 'scim-test-token-0123456789';
export const BASE = 'https://usersync.example/scim/v2/Push';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

export interface ScimAnswer {
  status: number;
  headers: Headers;
  body: ScimBody;
}

/** What the tests read of an answer's JSON (a resource, a ListResponse or an error). */
export interface ScimBody {
  [key: string]: unknown;
  id?: string;
  externalId?: string;
  active?: boolean;
  status?: string;
  scimType?: string;
  detail?: string;
  meta?: { version: string; location: string; created?: string; lastModified?: string; resourceType: string };
  members?: { value: string }[];
  totalResults?: number;
  startIndex?: number;
  itemsPerPage?: number;
  Resources?: ScimBody[];
}

/**
 * The SCIM HTTP function (functions/scim.ts) over a fake pushed directory (test/fakes/pushed-directory.ts):
 * connection `Push`, token in app setting `PUSH_SCIM_TOKEN`; `Pull` is a connection of another type.
 */
export function scimEndpoint(attributeMap: AttributeMap = { title: 'jobTitle' }) {
  const directory = new FakePushedDirectory('Push');
  const secrets = environmentSecrets({ PUSH_SCIM_TOKEN: TOKEN });
  const fn = scimFunction(async (name) => (name.toLowerCase() === 'push' ? { tokenSecret: 'PUSH_SCIM_TOKEN', attributeMap, open: async () => directory } : undefined), secrets);
  async function send(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ScimAnswer> {
    const request = new HttpRequest({
      method,
      url: path.startsWith('https://') ? path : `${BASE}/${path}`,
      headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/scim+json' }), ...headers },
      ...(body === undefined ? {} : { body: { string: typeof body === 'string' ? body : JSON.stringify(body) } }),
    });
    const response = await fn.handler(request, new InvocationContext({ functionName: fn.name }));
    const text = response.jsonBody === undefined ? undefined : JSON.stringify(response.jsonBody);
    return { status: response.status ?? 200, headers: new Headers(response.headers as Record<string, string>), body: text === undefined ? {} : JSON.parse(text) };
  }
  const patch = (path: string, ...operations: object[]) => send('PATCH', path, { schemas: [PATCH_OP], Operations: operations });
  return { directory, send, patch };
}

/** A User as Entra's provisioning service creates one (its tutorial's request). */
export function entraUser(externalId: string, userName: string, extra: Record<string, unknown> = {}) {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE],
    externalId,
    userName,
    active: true,
    emails: [{ primary: true, type: 'work', value: userName }],
    name: { formatted: 'Ann Example', familyName: 'Example', givenName: 'Ann' },
    ...extra,
  };
}
