import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import type { SyncDependencies } from '../sync/dependencies.js';
import type { StoredUser, UserStatus } from '../sync/model.js';
import { defineOperation, READER, type FileAnswer } from './operation.js';
import { listUsersPage, userFilter } from './user-listing.js';
import { directoryKeyOf, userFilters } from './users.js';

/**
 * The users as a CSV file to open in a spreadsheet: the columns an admin expects, then one per attribute
 * the exported users hold (sorted); no internal field (keys, source hash, password hash).
 */
export const EXPORT_COLUMNS = ['username', 'email', 'firstName', 'lastName', 'status', 'connection', 'manager', 'groups', 'localGroups'] as const;

/** Users read at once from the listing: the file is written page by page, never the directory held whole. */
const PAGE = 1000;

interface ExportQuery {
  directoryKey?: string;
  status?: UserStatus;
  q?: string;
}

/**
 * RFC 4180 (quoted where needed, CRLF), with a BOM so spreadsheets read it as UTF-8. A cell that begins
 * with = + - @ tab or CR is prefixed with ' (OWASP, CSV injection): a spreadsheet shows it as text instead
 * of running it. Any cell with a line break is quoted, a lone LF too.
 */
function csvText(rows: readonly (readonly string[])[], first: boolean): string {
  return stringify(rows as string[][], { bom: first, escape_formulas: true, record_delimiter: 'windows', quoted_match: /[\r\n]/ });
}

function rowOf(user: StoredUser, attributes: readonly string[]): string[] {
  return [
    user.username,
    user.email,
    user.firstName,
    user.lastName,
    user.status,
    user.connection,
    user.manager ?? '',
    (user.groups ?? []).join('; '),
    (user.localGroups ?? []).join('; '),
    ...attributes.map((name) => user.attributes[name] ?? ''),
  ];
}

/**
 * Two passes: the attribute names first (a scan that keeps only the names: the header must list them),
 * then the rows in username order, a page at a time, as the file is read.
 */
async function exportUsers(deps: SyncDependencies, query: ExportQuery, filename: string): Promise<FileAnswer> {
  const matches = userFilter(query);
  const names = new Set<string>();
  for await (const user of deps.users.list(query.directoryKey)) if (matches(user)) for (const name of Object.keys(user.attributes)) names.add(name);
  const attributes = [...names].sort();
  async function* pages(): AsyncGenerator<string> {
    yield csvText([[...EXPORT_COLUMNS, ...attributes]], true);
    let continuationToken: string | undefined;
    do {
      const page = await listUsersPage(deps, { ...query, limit: PAGE, ...(continuationToken ? { continuationToken } : {}) });
      if (page.users.length) yield csvText(page.users.map((user) => rowOf(user, attributes)), false);
      continuationToken = page.continuationToken;
    } while (continuationToken);
  }
  return { filename, contentType: 'text/csv; charset=utf-8', content: Readable.from(pages()) };
}

export const userExportOperations = {
  /** `GET /users?format=csv`: the users listing's filters, every matching user. */
  'users.export': defineOperation({
    role: READER,
    input: z.strictObject(userFilters),
    http: { method: 'GET', path: 'users', query: ['connection', 'status', 'q'], select: { format: 'csv' }, file: true },
    run: async ({ deps }, { connection, status, q }) => {
      const directoryKey = await directoryKeyOf(deps, connection);
      const day = deps.clock().toISOString().slice(0, 10);
      const query = { ...(directoryKey ? { directoryKey } : {}), ...(status ? { status } : {}), ...(q ? { q } : {}) };
      return exportUsers(deps, query, `users${connection ? `-${connection}` : ''}-${day}.csv`);
    },
  }),
};
