import { AppError } from '../errors/app-error.js';
import { GROUP_SCHEMA } from './group-resource.js';
import { LIST_SCHEMA, MAX_COUNT } from './list.js';
import { ENTERPRISE_USER_SCHEMA, USER_SCHEMA } from './user-resource.js';

/**
 * The discovery endpoints (RFC 7644 §4): what this endpoint supports, and the attributes it keeps of each
 * schema (RFC 7643 §7) — those the resource mapping (user-resource.ts, group-resource.ts) reads and answers.
 */
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

type Type = 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime';

function attribute(name: string, type: Type, options: { multiValued?: boolean; required?: boolean; mutability?: string; uniqueness?: string; subAttributes?: object[] } = {}) {
  return {
    name,
    type,
    multiValued: options.multiValued ?? false,
    required: options.required ?? false,
    caseExact: false,
    mutability: options.mutability ?? 'readWrite',
    returned: 'default',
    uniqueness: options.uniqueness ?? 'none',
    ...(options.subAttributes ? { subAttributes: options.subAttributes } : {}),
  };
}

const SCHEMAS = [
  {
    id: USER_SCHEMA,
    name: 'User',
    description: 'User Account',
    attributes: [
      attribute('userName', 'string', { required: true, uniqueness: 'server' }),
      attribute('externalId', 'string'),
      attribute('name', 'complex', { subAttributes: [attribute('givenName', 'string'), attribute('familyName', 'string')] }),
      attribute('displayName', 'string', { mutability: 'readOnly' }),
      attribute('emails', 'complex', { multiValued: true, subAttributes: [attribute('value', 'string'), attribute('type', 'string'), attribute('primary', 'boolean')] }),
      attribute('active', 'boolean'),
    ],
  },
  {
    id: ENTERPRISE_USER_SCHEMA,
    name: 'EnterpriseUser',
    description: 'Enterprise User',
    attributes: [
      attribute('employeeNumber', 'string'),
      attribute('department', 'string'),
      attribute('manager', 'complex', { subAttributes: [attribute('value', 'string')] }),
    ],
  },
  {
    id: GROUP_SCHEMA,
    name: 'Group',
    description: 'Group',
    attributes: [
      attribute('displayName', 'string', { required: true }),
      attribute('externalId', 'string'),
      attribute('members', 'complex', { multiValued: true, subAttributes: [attribute('value', 'string', { mutability: 'immutable' }), attribute('type', 'string', { mutability: 'immutable' })] }),
    ],
  },
];

const RESOURCE_TYPES = [
  { id: 'User', name: 'User', endpoint: '/Users', schema: USER_SCHEMA, schemaExtensions: [{ schema: ENTERPRISE_USER_SCHEMA, required: false }] },
  { id: 'Group', name: 'Group', endpoint: '/Groups', schema: GROUP_SCHEMA, schemaExtensions: [] },
];

/** ServiceProviderConfig: PATCH, filters (up to MAX_COUNT results), ETags (meta.version) yes; bulk, sort, password change no. */
export function serviceProviderConfig(baseUrl: string): Record<string, unknown> {
  return {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
    documentationUri: 'https://www.rfc-editor.org/rfc/rfc7644',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_COUNT },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [{ type: 'oauthbearertoken', name: 'Bearer token', description: 'The secret token of the SCIM connection, in Authorization: Bearer.', primary: true }],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

/** `Schemas` (all, as a ListResponse) or `Schemas/{urn}`. */
export function schemas(baseUrl: string, id?: string): Record<string, unknown> {
  const of = (schema: (typeof SCHEMAS)[number]) => ({ schemas: [SCHEMA_SCHEMA], ...schema, meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` } });
  return oneOrList(SCHEMAS.map(of), id, 'schema');
}

/** `ResourceTypes` (all) or `ResourceTypes/{name}`. */
export function resourceTypes(baseUrl: string, id?: string): Record<string, unknown> {
  const of = (type: (typeof RESOURCE_TYPES)[number]) => ({
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:ResourceType'],
    ...type,
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${type.id}` },
  });
  return oneOrList(RESOURCE_TYPES.map(of), id, 'resource type');
}

function oneOrList(resources: (Record<string, unknown> & { id: string })[], id: string | undefined, what: string): Record<string, unknown> {
  if (id === undefined) {
    return { schemas: [LIST_SCHEMA], totalResults: resources.length, startIndex: 1, itemsPerPage: resources.length, Resources: resources };
  }
  const found = resources.find((resource) => resource.id.toLowerCase() === id.toLowerCase());
  if (!found) throw new AppError('not-found', `There is no ${what} ${JSON.stringify(id)} here.`);
  return found;
}
