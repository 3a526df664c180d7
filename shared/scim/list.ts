import { AppError } from '../errors/app-error.js';

export const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
export const DEFAULT_COUNT = 100;
export const MAX_COUNT = 1000;

export interface Paging {
  /** 1-based (RFC 7644 §3.4.2.4). */
  startIndex: number;
  count: number;
}

/** `startIndex` below 1 is 1 and a negative `count` is 0, as RFC 7644 §3.4.2.4 says; `count` at most MAX_COUNT. */
export function pagingOf(query: URLSearchParams): Paging {
  const startIndex = integerParameter(query, 'startIndex') ?? 1;
  const count = integerParameter(query, 'count') ?? DEFAULT_COUNT;
  return { startIndex: Math.max(1, startIndex), count: Math.min(MAX_COUNT, Math.max(0, count)) };
}

function integerParameter(query: URLSearchParams, name: string): number | undefined {
  const text = query.get(name);
  if (text === null || text.trim() === '') return undefined;
  if (!/^\s*-?\d{1,9}\s*$/.test(text)) throw new AppError('scim-value-invalid', `The query parameter ${name} must be an integer, not ${JSON.stringify(text)}.`);
  return Number(text);
}

/** The page of `matches` that paging names, as a ListResponse. */
export async function listResponse<T>(
  matches: AsyncIterable<T> | Iterable<T>,
  { startIndex, count }: Paging,
  present: (item: T) => Record<string, unknown>,
): Promise<Record<string, unknown>> {
  const resources: Record<string, unknown>[] = [];
  let totalResults = 0;
  for await (const item of matches) {
    totalResults++;
    if (totalResults >= startIndex && resources.length < count) resources.push(present(item));
  }
  return { schemas: [LIST_SCHEMA], totalResults, startIndex, itemsPerPage: resources.length, Resources: resources };
}

/** Attributes a resource always answers (RFC 7643 §7, `returned: always`). */
const ALWAYS = new Set(['id', 'schemas']);

/**
 * The resource with only the `attributes` asked for, or without the `excludedAttributes` (RFC 7644 §3.4.2.5;
 * Entra asks for groups with `excludedAttributes=members`). Names are top-level attributes or extension
 * schema URNs, case-insensitive; a sub-attribute (`name.givenName`) names its whole attribute.
 */
export function projected(resource: Record<string, unknown>, query: URLSearchParams): Record<string, unknown> {
  const attributes = namesOf(query.get('attributes'));
  const excluded = namesOf(query.get('excludedAttributes'));
  return Object.fromEntries(
    Object.entries(resource).filter(([key]) => {
      const name = key.toLowerCase();
      if (ALWAYS.has(name)) return true;
      if (attributes) return attributes.has(name);
      return !excluded?.has(name);
    }),
  );
}

function namesOf(text: string | null): Set<string> | undefined {
  if (!text?.trim()) return undefined;
  return new Set(text.split(',').map((name) => topLevelOf(name.trim().toLowerCase())));
}

/** `name.givenName` → `name`; `urn:…:User:department` → `urn:…:User` (the extension's object); a URN alone stays. */
function topLevelOf(name: string): string {
  // A schema URN ends in its resource's name (`…:2.0:User`); anything after it is an attribute of it.
  if (name.startsWith('urn:')) return /:(user|group)$/.test(name) ? name : name.slice(0, name.lastIndexOf(':'));
  return name.split('.')[0]!;
}
