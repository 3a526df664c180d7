import { Link } from 'react-router-dom';
import type { AuditAction } from '../../../../shared/audit/audit-log.js';
import type { OutputOf } from '../../../../shared/admin/operations.js';
import { segment } from '../../api/client.js';
import { useApiGet } from '../../api/use-api.js';
import { ConnectionSelect } from '../../components/connection-select.js';
import { FilterForm, PageSizeSelect, useUrlFilters } from '../../components/filter-form.js';
import { TextField } from '../../components/text-field.js';
import { AuditTrail } from './audit-trail.js';

/** Every action the trail records, for the action filter. */
const AUDIT_ACTIONS = [
  'created',
  'updated',
  'disabled',
  're-enabled',
  'blocked',
  'activated',
  'skipped',
  'conflict',
  'adopted',
  'local-account-created',
  'local-account-disabled',
  'local-account-enabled',
  'local-account-deleted',
  'password-set',
  'group-created',
  'group-deleted',
  'manager-unresolved',
  'manager-cycle',
  'run-started',
  'run-succeeded',
  'run-failed',
  'run-needs-confirmation',
  'run-confirmed',
  'run-superseded',
  'run-cancelled',
  'listing-throttled',
  'connection-saved',
  'connection-deleted',
] as const satisfies readonly AuditAction[];
// An action added to the trail but not to this list fails the type check here.
const _everyAction: [Exclude<AuditAction, (typeof AUDIT_ACTIONS)[number]>] extends [never] ? true : never = true;

const FILTERS = ['user', 'action', 'connection', 'since', 'until', 'run', 'limit'] as const;
const DEFAULT_LIMIT = '50';
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The audit trail's records are filed under the user's source key (for a CSV, the match value; for Entra,
 * the object id): a username an admin types is looked up first, and what matches no user (a deleted local
 * account, a key) is searched as it is.
 */
function useSubject(user: string): { ready: boolean; subject?: string } {
  const lookup = useApiGet<OutputOf<'users.get'>>(user ? `users/${segment(user)}` : undefined);
  if (!user) return { ready: true };
  if (lookup.loaded.state === 'loading') return { ready: false };
  return { ready: true, subject: lookup.loaded.state === 'ready' ? lookup.loaded.data.key : user };
}

export function AuditScreen() {
  const filters = useUrlFilters(FILTERS);
  const { user, action, connection, since, until, run, limit } = filters.values;
  const { ready, subject } = useSubject(user);
  const filtered = FILTERS.some((name) => name !== 'limit' && filters.values[name]);
  return (
    <section aria-labelledby="audit-title">
      <h1 id="audit-title">Audit</h1>
      <p className="muted">Every change the sync and admins made, newest first: who did it, why, and each changed field old → new.</p>
      <FilterForm label="Search the audit trail" filters={filters}>
        <TextField id="audit-user" name="user" label="User" hint="Username (or a directory's user id)" defaultValue={user} autoComplete="off" />
        <div className="field">
          <label htmlFor="audit-action">Action</label>
          <select id="audit-action" name="action" defaultValue={action}>
            <option value="">Any action</option>
            {AUDIT_ACTIONS.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <ConnectionSelect id="audit-connection" name="connection" defaultValue={connection} withLocal />
        <TextField id="audit-since" name="since" label="From" hint="UTC day, included" type={!since || DAY.test(since) ? 'date' : 'text'} defaultValue={since} />
        <TextField id="audit-until" name="until" label="To" hint="UTC day, included" type={!until || DAY.test(until) ? 'date' : 'text'} defaultValue={until} />
        <TextField id="audit-run" name="run" label="Run" hint="A run's or operation's id" defaultValue={run} autoComplete="off" />
        <PageSizeSelect id="audit-limit" value={limit} fallback={DEFAULT_LIMIT} />
      </FilterForm>
      {ready ? (
        <AuditTrail
          query={{ user: subject, action, connection, since, until, run, limit: limit || DEFAULT_LIMIT }}
          caption="Audit records, newest first"
          empty={
            filtered ? (
              <p>No record matches these filters. Widen the dates, or <Link to={{ search: '' }}>clear the filters</Link>.</p>
            ) : (
              <p>
                Nothing is recorded yet. Records appear when a connection syncs or an admin changes something: <Link to="/connections">add a connection</Link> and sync it.
              </p>
            )
          }
        />
      ) : (
        <p role="status" className="muted">
          Looking up {user}…
        </p>
      )}
    </section>
  );
}
