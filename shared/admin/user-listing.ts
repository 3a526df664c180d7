import { z } from 'zod';
import { AppError } from '../errors/app-error.js';
import type { SyncDependencies } from '../sync/dependencies.js';
import type { StoredUser, UserStatus } from '../sync/model.js';

export interface UserListQuery {
  limit: number;
  continuationToken?: string;
  /** Only this directory's users. */
  directoryKey?: string;
  status?: UserStatus;
  /** Case-insensitive substring of the username, email, first or last name. */
  q?: string;
}

export interface UserListPage {
  users: StoredUser[];
  /** Present while more users may follow: pass it back for the next page. */
  continuationToken?: string;
}

/**
 * Users a request may look at beyond the page itself: with a filter that matches few, a page can end short
 * (even empty) with a token, so no request reads a large directory whole.
 */
export const USERS_EXAMINED_PER_PAGE = 1000;
/** Users read at once (point reads), so a page of 100 costs a few round trips, not 100. */
const READS_AT_ONCE = 50;

const tokenSchema = z.object({ after: z.string().min(1) });

/**
 * A page of users in username order (case-insensitive): the username claims are the sorted index (16
 * sorted partitions merged), and each user is a point read. The token is the last username looked at.
 */
export async function listUsersPage(deps: SyncDependencies, query: UserListQuery): Promise<UserListPage> {
  const after = query.continuationToken === undefined ? undefined : decodeToken(query.continuationToken);
  const filtered = query.status !== undefined || query.q !== undefined;
  const matches = userFilter(query);

  const claims = deps.usernames.list({ ...(after ? { after } : {}), ...(query.directoryKey ? { directoryKey: query.directoryKey } : {}) })[Symbol.asyncIterator]();
  const budget = Math.max(query.limit, USERS_EXAMINED_PER_PAGE);
  const users: StoredUser[] = [];
  let examined = 0;
  let last: string | undefined;
  let more: boolean | undefined;
  try {
    while (more === undefined) {
      // Unfiltered, every name is (nearly always) a user: read no more than the page still needs.
      const wanted = Math.min(READS_AT_ONCE, budget - examined, filtered ? READS_AT_ONCE : query.limit - users.length);
      const batch = await take(claims, wanted);
      const read = await Promise.all(batch.map(({ owner }) => deps.users.get(owner.directoryKey, owner.key)));
      for (const [index, user] of read.entries()) {
        examined++;
        last = batch[index]!.username.toLowerCase();
        if (user && matches(user)) users.push(user);
        if (users.length === query.limit && index < batch.length - 1) {
          more = true;
          break;
        }
      }
      if (more) break;
      if (batch.length < wanted) more = false;
      // At the limit or the budget: whether more follow is one more name away.
      else if (users.length === query.limit || examined >= budget) more = (await take(claims, 1)).length > 0;
    }
  } finally {
    await claims.return?.();
  }
  return more && last !== undefined ? { users, continuationToken: encodeToken(last) } : { users };
}

/** Whether a user passes the query's `status` and `q` filters. */
export function userFilter({ status, q }: Pick<UserListQuery, 'status' | 'q'>): (user: StoredUser) => boolean {
  const needle = q?.toLowerCase();
  return (user) =>
    (status === undefined || user.status === status) &&
    (needle === undefined || [user.username, user.email, user.firstName, user.lastName].some((value) => value.toLowerCase().includes(needle)));
}

async function take<T>(iterator: AsyncIterator<T>, count: number): Promise<T[]> {
  const taken: T[] = [];
  while (taken.length < count) {
    const next = await iterator.next();
    if (next.done) break;
    taken.push(next.value);
  }
  return taken;
}

function encodeToken(after: string): string {
  return Buffer.from(JSON.stringify({ after })).toString('base64url');
}

function decodeToken(token: string): string {
  try {
    return tokenSchema.parse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))).after;
  } catch {
    throw new AppError('query-invalid', 'continuationToken: not one this API handed out; start again without it.', {
      details: { problems: [{ field: 'continuationToken', message: 'not one this API handed out' }] },
    });
  }
}
