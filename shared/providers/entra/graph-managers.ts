import type { Client } from '@microsoft/microsoft-graph-client';
import type { SourcePage } from '../../sync/directory-source.js';
import type { SourceEntry } from '../../sync/model.js';
import { AppError } from '../../errors/app-error.js';
import { get, isGraphStatus, type GraphPage } from './graph-client.js';
import type { PhaseCursor } from './graph-cursor.js';

/**
 * The managers phase: every user with its manager expanded. Graph answers at most 100 users a page when a request
 * expands (known issue 13635, whatever `$top` says), so one chain would be the listing's longest by far (1,000
 * requests in sequence for 100,000 users); the phase is read as several chains instead, each over a range of
 * userPrincipalName.
 *
 * A range is `ge` its lower bound and `le` its upper one: the only comparisons userPrincipalName supports by default
 * (`lt`/`gt` do not exist on directory objects; `not`, `ne` need advanced query parameters, which do not combine with
 * `$expand`). The bounds are single characters, which no UPN equals (a UPN holds `@` and a domain), so `ge` and `le`
 * never meet a tie and every UPN falls in exactly one range, whatever the directory's collation: the first range is
 * only `le`, the last only `ge`.
 */
export function managerChains(count: number): Record<string, PhaseCursor<'managers'>> {
  const bounds = splitInitials(count);
  return Object.fromEntries(
    [undefined, ...bounds].map((from, index) => {
      const to = bounds[index];
      return [`managers-${index}`, { phase: 'managers', ...(from ? { from } : {}), ...(to ? { to } : {}) }];
    }),
  );
}

/** A page of users and their managers, of the cursor's range (none: every user, as runs of earlier versions read). */
export async function managersPage(client: Client, cursor: PhaseCursor<'managers'>, ref: string, pageSize: number): Promise<SourcePage> {
  const url = cursor.next ?? `/users?$select=id&$expand=manager($select=id)&$top=${pageSize}${rangeFilter(cursor)}`;
  const page = await get<GraphPage<{ id: string; manager?: { id?: string } }>>(client, url).catch((error: unknown) => {
    throw isGraphStatus(error, 400) && (cursor.from || cursor.to) ? rangeRefused(error.message) : error;
  });
  const entries: SourceEntry[] = page.value
    .filter((user) => user.manager?.id)
    .map((user) => ({ kind: 'manager', key: user.id, ref, manager: user.manager!.id! }));
  return { entries, next: page['@odata.nextLink'] ? { ...cursor, next: page['@odata.nextLink'] } : null };
}

/**
 * Graph's pages on userPrincipalName's `ge`/`le` disagree (the user resource lists them; the advanced-queries table
 * does not): should a tenant refuse the range, the admin is told how to read the managers in one chain instead.
 */
function rangeRefused(detail: string): AppError {
  return new AppError(
    'source-query-refused',
    `Microsoft Graph refused to list users by a range of userPrincipalName (${detail}), which is how the managers are read in several chains at once. Set the profile's listingConcurrency to 1 to read them in one chain (slower), or orgChart to false.`,
  );
}

function rangeFilter({ from, to }: PhaseCursor<'managers'>): string {
  const clauses = [...(from ? [`userPrincipalName ge '${from}'`] : []), ...(to ? [`userPrincipalName le '${to}'`] : [])];
  return clauses.length ? `&$filter=${encodeURIComponent(clauses.join(' and '))}` : '';
}

/**
 * Roughly the share of people whose given name starts with each letter (UPNs are mostly `first.last@`): the ranges
 * hold about as many users each. A range cannot be smaller than a letter, so the split stops at about a dozen.
 */
const INITIALS: Record<string, number> = {
  a: 8, b: 4.5, c: 7, d: 7, e: 3.5, f: 1.5, g: 2.5, h: 2.5, i: 1, j: 10.5, k: 5.5, l: 5, m: 9,
  n: 2.5, o: 0.5, p: 2, q: 0.2, r: 5.5, s: 7, t: 4.5, u: 0.3, v: 1.5, w: 2, x: 0.1, y: 0.5, z: 0.5,
};

/** The `count - 1` letters (fewer where a letter is larger than a share) where a new range starts. */
function splitInitials(count: number): string[] {
  const total = Object.values(INITIALS).reduce((sum, weight) => sum + weight, 0);
  const bounds: string[] = [];
  let before = 0;
  for (const [letter, weight] of Object.entries(INITIALS)) {
    // A letter opens the next range when most of it lies past the range's end.
    if (before + weight / 2 >= ((bounds.length + 1) * total) / count && bounds.length < count - 1) bounds.push(letter);
    before += weight;
  }
  return bounds;
}
