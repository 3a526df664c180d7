import { filter as predicateOf, parse, type Filter } from 'scim2-parse-filter';
import { AppError } from '../errors/app-error.js';
import type { UserLookup } from '../sync/push/pushed-directory.js';

export interface ParsedFilter<L> {
  /** The one point read that answers the filter, when it is `<attribute> eq "value"` of a looked-up attribute. */
  lookup?: L;
  /** Whether a resource (as SCIM JSON) matches: for any other filter, evaluated over every resource. */
  matches: (resource: Record<string, unknown>) => boolean;
}

/** A `filter` query parameter (RFC 7644 §3.4.2.2), parsed by scim2-parse-filter; a malformed one is `invalidFilter`. */
export function parseFilter<L>(text: string, lookupOf: (attribute: string, value: string) => L | undefined): ParsedFilter<L> {
  let ast: Filter;
  try {
    ast = parse(text);
  } catch (error) {
    throw new AppError('scim-filter-invalid', `The filter ${JSON.stringify(text)} is not a SCIM filter (RFC 7644 §3.4.2.2): ${(error as Error).message}.`);
  }
  const lookup = ast.op === 'eq' && typeof ast.compValue === 'string' ? lookupOf(ast.attrPath.toLowerCase(), ast.compValue) : undefined;
  return { ...(lookup ? { lookup } : {}), matches: predicateOf(ast) };
}

/** The attributes of a User filter that the port reads a user by. */
export function userLookupOf(attribute: string, value: string): UserLookup | undefined {
  if (attribute === 'id') return { by: 'id', value };
  if (attribute === 'externalid') return { by: 'externalId', value };
  if (attribute === 'username') return { by: 'userName', value };
  return undefined;
}

export type GroupLookup = { by: 'id' | 'externalId' | 'displayName'; value: string };

export function groupLookupOf(attribute: string, value: string): GroupLookup | undefined {
  if (attribute === 'id') return { by: 'id', value };
  if (attribute === 'externalid') return { by: 'externalId', value };
  if (attribute === 'displayname') return { by: 'displayName', value };
  return undefined;
}
