import { AppError } from '../errors/app-error.js';
import type { ApiResponse } from '../http/problem.js';
import type { PushedDirectory } from '../sync/push/pushed-directory.js';
import type { AttributeMap } from './user-resource.js';

/** What the endpoint knows of a `scim` connection: the app setting of its token, its attribute map, its pushed directory. */
export interface ScimConnection {
  tokenSecret: string;
  attributeMap: AttributeMap;
  /**
   * Its pushed directory, opened only once the caller's token is checked: opening says whether the connection is
   * disabled (or its profile needs saving again), which a caller without the token must not learn.
   */
  open(): Promise<PushedDirectory>;
}

/** The `scim` connection of this name, or undefined when there is none (unknown, or of another type). */
export type ScimConnections = (name: string) => Promise<ScimConnection | undefined>;

/** A request to one resource endpoint, once the caller's token is checked. */
export interface ResourceRequest {
  connection: { directory: PushedDirectory; attributeMap: AttributeMap };
  method: string;
  /** The resource's id, for `/Users/{id}` and `/Groups/{id}`. */
  id?: string;
  query: URLSearchParams;
  /** The If-Match header: a change applies only to that version (RFC 7644 §3.14). */
  ifMatch?: string;
  /** The parsed JSON body; throws when there is none or it is not JSON. */
  body: () => unknown;
  /** `https://<host>/scim/v2/<connection>`: resources' `meta.location` starts with it. */
  baseUrl: string;
}

/**
 * A resource answered with its version as a weak ETag (RFC 7644 §3.14), which `meta.version` holds too; a
 * created one is 201 with its `Location` (§3.3).
 */
export function scimAnswer(resource: Record<string, unknown>, version: string, created = false): ApiResponse {
  const location = (resource.meta as { location?: string } | undefined)?.location;
  return { status: created ? 201 : 200, jsonBody: resource, headers: { etag: version, ...(created && location ? { location } : {}) } };
}

/** Refuses a change whose If-Match names another version (`*` any); versions are weak ETags, compared as such. */
export function checkVersion(ifMatch: string | undefined, version: string): void {
  if (ifMatch === undefined) return;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, '');
  const tags = ifMatch.split(',').map(opaque);
  if (tags.includes('*') || tags.includes(opaque(version))) return;
  throw new AppError('scim-precondition-failed', 'The resource has changed since the version in If-Match: read it again and send the change for its current version.');
}
