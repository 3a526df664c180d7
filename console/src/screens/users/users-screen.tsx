import { Link } from 'react-router-dom';
import { usePagedApi } from '../../api/use-api.js';
import { ConnectionSelect } from '../../components/connection-select.js';
import { DataTable } from '../../components/data-table.js';
import { FilterForm, PageSizeSelect, useUrlFilters } from '../../components/filter-form.js';
import { LoadState } from '../../components/load-state.js';
import { ListFooter } from '../../components/list-footer.js';
import { TextField } from '../../components/text-field.js';
import { CONNECTION, EMAIL, NAME, STATUS, USERNAME, userColumn, userId, type User } from './user-columns.js';

const FILTERS = ['q', 'status', 'connection', 'limit'] as const;
const DEFAULT_LIMIT = '100';
const COLUMNS = userColumn.columns([USERNAME, NAME, EMAIL, STATUS, CONNECTION]);

/** Users of every directory and local accounts (GET /users), in username order, a page at a time; the export with the same filters. */
export function UsersScreen() {
  const filters = useUrlFilters(FILTERS);
  const { q, status, connection, limit } = filters.values;
  const list = usePagedApi<User>('users', 'users', { q, status, connection, limit: limit || DEFAULT_LIMIT });
  const exportQuery = new URLSearchParams({ format: 'csv' });
  for (const [name, value] of Object.entries({ connection, status, q })) if (value) exportQuery.set(name, value);
  const filtered = Boolean(q || status || connection);
  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">Users</h1>
      <FilterForm label="Search users" filters={filters}>
        <TextField id="users-q" name="q" label="Search" hint="Part of a username, email or name" type="search" defaultValue={q} autoComplete="off" />
        <div className="field">
          <label htmlFor="users-status">Status</label>
          <select id="users-status" name="status" defaultValue={status}>
            <option value="">Any status</option>
            <option value="active">Active</option>
            <option value="disabled">Disabled</option>
            <option value="blocked">Blocked (no licence)</option>
          </select>
        </div>
        <ConnectionSelect id="users-connection" name="connection" defaultValue={connection} />
        <PageSizeSelect id="users-limit" value={limit} fallback={DEFAULT_LIMIT} />
      </FilterForm>
      <p>
        {/* A plain download (GET): the same filters, every matching user, not only this page. */}
        <a className="button" href={`/api/users?${exportQuery}`} download>
          Export CSV
        </a>{' '}
        <span className="muted">every user these filters match, with their attributes</span>
      </p>
      <LoadState loaded={list.loaded} retry={list.reload}>
        {(users) => (
          <>
            {users.length ? (
              <DataTable caption="Users" columns={COLUMNS} rows={users} rowId={userId} />
            ) : list.hasMore ? null : (
              <div className="notice">
                {filtered ? (
                  <p>
                    No user matches these filters. <Link to={{ search: '' }}>Clear the filters</Link>.
                  </p>
                ) : (
                  <p>
                    There are no users yet. <Link to="/connections">Add a connection</Link> and sync it, or <Link to="/accounts">create a local account</Link>.
                  </p>
                )}
              </div>
            )}
            <ListFooter list={list} status={`${users.length} user${users.length === 1 ? '' : 's'} shown${list.hasMore ? '; more may follow.' : '.'}`} moreLabel="More users" />
          </>
        )}
      </LoadState>
    </section>
  );
}
