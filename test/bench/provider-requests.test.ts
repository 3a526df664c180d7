import { describe, expect, it } from 'vitest';
import { graphRequestKind, oktaRequestKind, summariseRequests, type LoggedRequest } from '../../bench/provider-requests.js';

/** Requests of `ms` each, one after the other from `at`, on the given paths. */
function chain(at: number, ms: number, paths: string[]): LoggedRequest[] {
  return paths.map((path, i) => ({ method: 'GET', path, startedAt: at + i * ms, endedAt: at + (i + 1) * ms }));
}

describe('provider requests of a benchmark scenario', () => {
  it('counts a full Entra listing by kind, as the Graph source sends it, leaving out the authority', () => {
    const select = 'id,userPrincipalName,mail,givenName,surname,accountEnabled,department,jobTitle';
    const log = chain(0, 10, [
      '/tenant/v2.0/.well-known/openid-configuration',
      '/v1.0/users/delta?$select=id&$deltatoken=latest',
      '/v1.0/groups/delta?$select=displayName,members&$deltatoken=latest',
      '/v1.0/groups/root?$select=id,displayName',
      `/v1.0/groups/root/transitiveMembers/microsoft.graph.user?$select=${select}&$top=999&$count=true`,
      `/v1.0/groups/root/transitiveMembers/microsoft.graph.user?$select=${select}&$top=999&$count=true&$skiptoken=RFNwdA6OTk5`,
      '/v1.0/groups?$select=id,displayName&$top=999',
      '/v1.0/groups/g1/transitiveMembers/microsoft.graph.user?$select=id&$top=999&$count=true',
      '/v1.0/groups/g2/transitiveMembers/microsoft.graph.user?$select=id&$top=999&$count=true',
      '/v1.0/users?$select=id&$expand=manager($select=id)&$top=999',
      '/v1.0/users/u1?$select=id,mail',
      '/v1.0/$batch',
    ]);
    log.at(-1)!.subRequests = ['/v1.0/groups/g3/transitiveMembers/microsoft.graph.user?$select=id&$top=999&$count=true', '/v1.0/groups/g4/transitiveMembers/microsoft.graph.user?$select=id&$top=999&$count=true&$skiptoken=x'];
    log.splice(1, 0, { method: 'POST', path: '/tenant/oauth2/v2.0/token?client-request-id=x', startedAt: 1, endedAt: 2 });

    const summary = summariseRequests(log, graphRequestKind);

    expect(summary.byKind).toEqual({ delta: 2, groups: 2, users: 3, 'group members': 2, managers: 1, batch: 1 });
    // A batch is one round trip; what it held is counted apart.
    expect(summary.batchedByKind).toEqual({ 'group members': 2 });
    expect(summary.total).toBe(11);
    expect(summary.longestSequence).toBe(11);
  });

  it('tells an Okta selected group\'s members (the users phase) from other groups\' (memberships)', () => {
    const log = chain(0, 10, [
      '/oauth2/v1/token?',
      '/api/v1/groups/00gEveryone/users?limit=200',
      '/api/v1/groups/00gEveryone/users?limit=200&after=00u9',
      '/api/v1/groups?limit=200',
      '/api/v1/groups/00gDept/users?limit=200',
      '/api/v1/users?search=lastUpdated+gt+%222026-01-01T00%3A00%3A00.000Z%22&limit=200',
      '/api/v1/users/00u1/groups?',
    ]);

    const summary = summariseRequests(log, oktaRequestKind(['00gEveryone']));

    expect(summary.byKind).toEqual({ users: 3, groups: 1, 'group members': 1, delta: 1 });
    expect(summary.total).toBe(6);
  });

  it('takes the longest sequence as the most requests that did not overlap: one chain of parallel ones', () => {
    const users = chain(0, 100, Array.from({ length: 5 }, () => '/v1.0/groups/root/transitiveMembers/microsoft.graph.user?$select=id,mail'));
    const members = chain(50, 100, Array.from({ length: 3 }, () => '/v1.0/groups/g1/transitiveMembers/microsoft.graph.user?$select=id'));
    const managers = chain(30, 100, Array.from({ length: 4 }, () => '/v1.0/users?$select=id&$expand=manager($select=id)'));
    // A request that began as the one before it ended is still in sequence; one never answered overlaps all after it.
    const unanswered: LoggedRequest = { method: 'GET', path: '/v1.0/groups?$top=999', startedAt: 450 };

    const summary = summariseRequests([...members, ...users, ...managers, unanswered], graphRequestKind);

    expect(summary.total).toBe(13);
    expect(summary.longestSequence).toBe(5);
    expect(summariseRequests(users, graphRequestKind).longestSequence).toBe(5);
    expect(summariseRequests([], graphRequestKind)).toEqual({ total: 0, byKind: {}, batchedByKind: {}, longestSequence: 0 });
  });
});
