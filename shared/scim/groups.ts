import { AppError } from '../errors/app-error.js';
import type { ApiResponse } from '../http/problem.js';
import type { PushedGroup } from '../sync/push/pushed-directory.js';
import { groupLookupOf, parseFilter } from './filter.js';
import { groupInputOf, scimGroupOf } from './group-resource.js';
import { listResponse, pagingOf, projected } from './list.js';
import { patched, patchOperationsOf } from './patch.js';
import { checkVersion, scimAnswer, type ResourceRequest } from './resource-request.js';
import { matching, notAllowed } from './users.js';

/** `/Groups` and `/Groups/{id}`: groups of the connection and their members (ids of its users). */
export async function handleGroups({ connection: { directory }, method, id, query, ifMatch, body, baseUrl }: ResourceRequest): Promise<ApiResponse> {
  const present = (group: PushedGroup) => projected(scimGroupOf(group, `${baseUrl}/Groups/${encodeURIComponent(group.id)}`, `${baseUrl}/Users`), query);
  const answer = (group: PushedGroup, created = false) => scimAnswer(present(group), group.version, created);
  // Members are read only when the answer shows them: Entra asks with excludedAttributes=members.
  const members = present({ id: '', displayName: '', members: [], version: '' }).members !== undefined;

  if (id === undefined) {
    if (method === 'GET') return { status: 200, jsonBody: await listResponse(await matchingGroups(), pagingOf(query), present) };
    if (method === 'POST') {
      const { input, members: memberIds } = groupInputOf(body());
      return answer(await directory.createGroup(input, memberIds ?? []), true);
    }
    throw notAllowed('GET, POST');
  }
  if (method === 'GET') return answer(found(await directory.getGroup(id, { members })));
  if (method === 'PUT') {
    const { input, members: memberIds } = groupInputOf(body());
    if (ifMatch) checkVersion(ifMatch, found(await directory.getGroup(id, { members: false })).version);
    return answer(await directory.updateGroup(id, { input, replaceMembers: memberIds ?? [] }));
  }
  if (method === 'PATCH') {
    const operations = patchOperationsOf(body());
    const current = found(await directory.getGroup(id, { members: true }));
    checkVersion(ifMatch, current.version);
    const { input, members: after = [] } = groupInputOf(patched(patchableGroup(current), operations));
    // Only the members the operations added or removed: a concurrent PATCH's members are kept.
    const before = new Set(current.members ?? []);
    const add = after.filter((member) => !before.has(member));
    const remove = [...before].filter((member) => !after.includes(member));
    const renamed = input.displayName !== current.displayName || input.externalId !== current.externalId;
    return answer(await directory.updateGroup(id, { ...(renamed ? { input } : {}), add, remove }));
  }
  if (method === 'DELETE') {
    if (ifMatch) checkVersion(ifMatch, found(await directory.getGroup(id, { members: false })).version);
    await directory.deleteGroup(id);
    return { status: 204 };
  }
  throw notAllowed('GET, PUT, PATCH, DELETE');

  async function matchingGroups(): Promise<AsyncIterable<PushedGroup> | PushedGroup[]> {
    const text = query.get('filter');
    if (!text) return directory.listGroups({ members });
    const filter = parseFilter(text, groupLookupOf);
    if (filter.lookup) {
      const group = await directory.findGroup(filter.lookup, { members });
      return group ? [group] : [];
    }
    return matching(directory.listGroups({ members: true }), (group) => filter.matches(scimGroupOf(group, '', '')));
  }
}

/**
 * The group as PATCH sees it: members by their value alone, as Entra names those it removes
 * (`{ op: "Remove", path: "members", value: [{ value: id }] }`; scim-patch compares whole values).
 */
function patchableGroup(group: PushedGroup): Record<string, unknown> {
  return { ...scimGroupOf(group, '', ''), members: (group.members ?? []).map((value) => ({ value })) };
}

function found(group: PushedGroup | undefined): PushedGroup {
  if (!group) throw new AppError('group-not-found', 'There is no such group in this SCIM connection.');
  return group;
}
