/**
 * What the directory fakes saw during a scenario: provider requests by kind, and the longest run of them that
 * happened strictly one after another — the latency floor is that count × the fake's latency.
 */

/** A request as a fake logs it (times in ms on the fake's own monotonic clock). */
export interface LoggedRequest {
  method: string;
  /** The path with its query string. */
  path: string;
  startedAt: number;
  endedAt?: number;
  /** A batch's requests (Graph `$batch`), their paths with their queries. */
  subRequests?: string[];
}

export type RequestKind = 'users' | 'group members' | 'managers' | 'groups' | 'delta' | 'batch' | 'other';

export interface ProviderRequests {
  /** Directory requests (the token endpoint and the authority's metadata are not counted: they are not delayed). */
  total: number;
  byKind: Partial<Record<RequestKind, number>>;
  /** The requests inside batches, by kind (a batch is one round trip in `total`, and its requests the work it did). */
  batchedByKind: Partial<Record<RequestKind, number>>;
  /**
   * The most requests that did not overlap in time (each began after the one before had been answered): with
   * one page chain every request; with several chains at once, about the longest chain's.
   */
  longestSequence: number;
}

/** Graph: which phase of the listing a request serves, from its URL alone. */
export function graphRequestKind(pathWithQuery: string): RequestKind | undefined {
  const [path = '', query = ''] = pathWithQuery.split('?');
  const lower = path.toLowerCase();
  if (!lower.startsWith('/v1.0/')) return undefined;
  const params = new URLSearchParams(query);
  if (lower === '/v1.0/$batch') return 'batch';
  if (/\/delta(\(\))?$/.test(lower)) return 'delta';
  if (/^\/v1\.0\/groups\/[^/]+\/(transitive)?members(\/|$)/.test(lower)) {
    // The users phase reads the selected groups' members with the properties a profile maps; the memberships
    // phase reads only their ids.
    return (params.get('$select') ?? '').toLowerCase() === 'id' ? 'group members' : 'users';
  }
  if (lower.startsWith('/v1.0/groups')) return 'groups';
  if (lower === '/v1.0/users' && /^manager\b/i.test(params.get('$expand') ?? '')) return 'managers';
  if (lower.startsWith('/v1.0/users')) return 'users';
  return 'other';
}

/**
 * Okta: the members of a selected group are the users phase, of any other group the memberships phase; a user
 * search on `lastUpdated` is an incremental run's changes.
 */
export function oktaRequestKind(selectedGroupIds: readonly string[]): (pathWithQuery: string) => RequestKind | undefined {
  return (pathWithQuery) => {
    const [path = '', query = ''] = pathWithQuery.split('?');
    if (!path.startsWith('/api/v1/')) return undefined;
    const members = /^\/api\/v1\/groups\/([^/]+)\/users$/.exec(path);
    if (members) return selectedGroupIds.includes(decodeURIComponent(members[1]!)) ? 'users' : 'group members';
    if (path.startsWith('/api/v1/groups')) return 'groups';
    if (path.startsWith('/api/v1/users')) return /lastUpdated/.test(new URLSearchParams(query).get('search') ?? '') ? 'delta' : 'users';
    return 'other';
  };
}

export function summariseRequests(log: readonly LoggedRequest[], kindOf: (pathWithQuery: string) => RequestKind | undefined): ProviderRequests {
  const byKind: Partial<Record<RequestKind, number>> = {};
  const batchedByKind: Partial<Record<RequestKind, number>> = {};
  const counted: { startedAt: number; endedAt: number }[] = [];
  for (const request of log) {
    const kind = kindOf(request.path);
    if (kind === undefined) continue;
    byKind[kind] = (byKind[kind] ?? 0) + 1;
    for (const sub of request.subRequests ?? []) {
      const subKind = kindOf(sub) ?? 'other';
      batchedByKind[subKind] = (batchedByKind[subKind] ?? 0) + 1;
    }
    counted.push({ startedAt: request.startedAt, endedAt: request.endedAt ?? Number.POSITIVE_INFINITY });
  }
  return { total: counted.length, byKind, batchedByKind, longestSequence: longestSequence(counted) };
}

/** The largest set of pairwise non-overlapping intervals: earliest end first, greedily (optimal for intervals). */
function longestSequence(intervals: { startedAt: number; endedAt: number }[]): number {
  let count = 0;
  let lastEnd = Number.NEGATIVE_INFINITY;
  for (const interval of [...intervals].sort((a, b) => a.endedAt - b.endedAt)) {
    if (interval.startedAt < lastEnd) continue;
    count++;
    lastEnd = interval.endedAt;
  }
  return count;
}
