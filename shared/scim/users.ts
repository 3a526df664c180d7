import { AppError } from '../errors/app-error.js';
import type { ApiResponse } from '../http/problem.js';
import type { PushedUser } from '../sync/push/pushed-directory.js';
import { parseFilter, userLookupOf } from './filter.js';
import { listResponse, pagingOf, projected } from './list.js';
import { patched, patchOperationsOf } from './patch.js';
import { checkVersion, scimAnswer, type ResourceRequest } from './resource-request.js';
import { scimUserOf, userInputOf } from './user-resource.js';

/** `/Users` and `/Users/{id}` (RFC 7644 §3): each a call of the connection's PushedDirectory. */
export async function handleUsers({ connection, method, id, query, ifMatch, body, baseUrl }: ResourceRequest): Promise<ApiResponse> {
  const { directory, attributeMap } = connection;
  const location = (userId: string) => `${baseUrl}/Users/${encodeURIComponent(userId)}`;
  const present = (user: PushedUser) => scimUserOf(user, attributeMap, location(user.id));
  const answer = (user: PushedUser, created = false) => scimAnswer(projected(present(user), query), user.version, created);

  if (id === undefined) {
    if (method === 'GET') return { status: 200, jsonBody: await listResponse(await matchingUsers(), pagingOf(query), (user) => projected(present(user), query)) };
    if (method === 'POST') {
      return answer(await directory.createUser(userInputOf(body(), attributeMap)), true);
    }
    throw notAllowed('GET, POST');
  }
  if (method === 'GET') return answer(found(await directory.getUser(id)));
  if (method === 'PUT') {
    const input = userInputOf(body(), attributeMap);
    if (ifMatch) checkVersion(ifMatch, found(await directory.getUser(id)).version);
    return answer(await directory.replaceUser(id, input));
  }
  if (method === 'PATCH') {
    const operations = patchOperationsOf(body());
    // Applied to the user as it is when written: the port calls this again if another request wrote it first.
    return answer(await directory.updateUser(id, (current) => {
      checkVersion(ifMatch, current.version);
      return userInputOf(patched(present(current), operations), attributeMap);
    }));
  }
  if (method === 'DELETE') {
    if (ifMatch) checkVersion(ifMatch, found(await directory.getUser(id)).version);
    await directory.disableUser(id);
    return { status: 204 };
  }
  throw notAllowed('GET, PUT, PATCH, DELETE');

  /** A filter on id, externalId or userName is a point read; any other is evaluated over every user of the connection. */
  async function matchingUsers(): Promise<AsyncIterable<PushedUser> | PushedUser[]> {
    const text = query.get('filter');
    if (!text) return directory.listUsers();
    const filter = parseFilter(text, userLookupOf);
    if (filter.lookup) {
      const user = await directory.findUser(filter.lookup);
      return user ? [user] : [];
    }
    return matching(directory.listUsers(), (user) => filter.matches(present(user)));
  }
}

function found(user: PushedUser | undefined): PushedUser {
  if (!user) throw new AppError('user-not-found', 'There is no such user in this SCIM connection.');
  return user;
}

export function notAllowed(allow: string): AppError {
  return new AppError('method-not-allowed', `Use ${allow} here.`, { details: { allow } });
}

export async function* matching<T>(items: AsyncIterable<T>, predicate: (item: T) => boolean): AsyncIterable<T> {
  for await (const item of items) if (predicate(item)) yield item;
}
