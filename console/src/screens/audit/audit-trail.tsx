import type { ReactNode } from 'react';
import { Link } from 'react-router-dom';
import type { AuditAction } from '../../../../shared/audit/audit-log.js';
import type { OutputOf } from '../../../../shared/admin/operations.js';
import { segment } from '../../api/client.js';
import { usePagedApi, type Query } from '../../api/use-api.js';
import { columnsOf, DataTable } from '../../components/data-table.js';
import { LoadState } from '../../components/load-state.js';
import { ListFooter } from '../../components/list-footer.js';
import { Time } from '../../components/time.js';
import { actorLabel, connectionLabel, reasonLabel } from '../../format.js';

/** A page of the audit trail (GET /audit), newest first, with "Older records" following its token: the Audit screen's and a user's history. */

export type AuditRecord = OutputOf<'audit.query'>['records'][number];

/** What an admin operation records: its id has a run id's form (`usersync audit --run` finds it), but there is no run to open. */
const OPERATION_ACTIONS: ReadonlySet<AuditAction> = new Set<AuditAction>([
  'local-account-created',
  'local-account-disabled',
  'local-account-enabled',
  'local-account-deleted',
  'password-set',
  'group-deleted',
  'adopted',
  'connection-saved',
  'connection-deleted',
]);

/** Whether a record was written by a run (a deleted connection's disables are its delete operation's). */
function fromRun(record: AuditRecord): boolean {
  return !OPERATION_ACTIONS.has(record.action) && record.reason !== 'connection-deleted';
}

function Changes({ record }: { record: AuditRecord }) {
  if (record.changes?.length) {
    return (
      <ul className="changes" aria-label="Changed fields">
        {record.changes.map((change) => (
          <li key={change.field}>
            <span className="field-name">{change.field}</span>:{' '}
            {change.withheld ? (
              <span className="muted">changed (not shown)</span>
            ) : (
              <>
                {value(change.from)} → {value(change.to)}
              </>
            )}
          </li>
        ))}
      </ul>
    );
  }
  if (record.changedFields?.length) return <p className="muted">Fields: {record.changedFields.join(', ')}</p>;
  return null;
}

function value(text: string | undefined): ReactNode {
  return text === undefined ? <span className="muted">(none)</span> : <q>{text}</q>;
}

const column = columnsOf<AuditRecord>();

const TIME = column.accessor('at', { header: 'Time', cell: (info) => <Time iso={info.getValue()} /> });
const ACTION = column.accessor('action', { header: 'Action', cell: (info) => <span className={`action action-${info.getValue()}`}>{info.getValue()}</span> });
const USER = column.accessor((record) => record.username ?? '', {
  id: 'user',
  header: 'User',
  cell: (info) => {
    const username = info.row.original.username;
    return username ? <Link to={`/users/${segment(username)}`}>{username}</Link> : null;
  },
});
const CONNECTION = column.accessor('connection', { header: 'Connection', cell: (info) => connectionLabel(info.getValue()) });
const ACTOR = column.accessor((record) => actorLabel(record.actor), {
  id: 'actor',
  header: 'By',
  cell: (info) => (
    <>
      {info.getValue()}
      {info.row.original.confirmedAt ? (
        <span className="muted">
          {' '}
          (confirmed <Time iso={info.row.original.confirmedAt} />)
        </span>
      ) : null}
    </>
  ),
});
const DETAILS = column.display({
  id: 'details',
  header: 'What happened',
  cell: (info) => {
    const record = info.row.original;
    return (
      <div className="record-details">
        {record.reason ? <p className="reason">{reasonLabel(record.reason)}</p> : null}
        {record.detail ? <p>{record.detail}</p> : null}
        {record.ref ? <p className="muted">Where: {record.ref}</p> : null}
        <Changes record={record} />
      </div>
    );
  },
});
const RUN = column.accessor('runId', {
  header: 'Run',
  cell: (info) =>
    fromRun(info.row.original) ? (
      <Link to={`/runs/${segment(info.getValue())}`}>{info.getValue()}</Link>
    ) : (
      <Link to={{ pathname: '/audit', search: `?run=${encodeURIComponent(info.getValue())}` }} title="Every record of this admin operation">
        {info.getValue()}
      </Link>
    ),
});

const TRAIL_COLUMNS = column.columns([TIME, ACTION, USER, CONNECTION, ACTOR, DETAILS, RUN]);
/** A user's own history: the user column would say the same on every row. */
const HISTORY_COLUMNS = column.columns([TIME, ACTION, CONNECTION, ACTOR, DETAILS, RUN]);

const recordId = (record: AuditRecord) => [record.at, record.runId, record.subject, record.action, record.ref ?? ''].join('~');

interface AuditTrailProps {
  /** The API's filters (user, action, connection, since, until, run, limit). */
  query: Query;
  caption: string;
  /** What to say when no record matches, and what to do next. */
  empty: ReactNode;
  /** A single user's history: no user column. */
  history?: boolean;
}

export function AuditTrail({ query, caption, empty, history = false }: AuditTrailProps) {
  const list = usePagedApi<AuditRecord>('audit', 'records', query);
  return (
    <LoadState loaded={list.loaded} retry={list.reload}>
      {(records) =>
        records.length === 0 ? (
          <div className="notice">{empty}</div>
        ) : (
          <>
            <DataTable caption={caption} columns={history ? HISTORY_COLUMNS : TRAIL_COLUMNS} rows={records} rowId={recordId} />
            <ListFooter
              list={list}
              status={`${records.length} record${records.length === 1 ? '' : 's'}, newest first${list.hasMore ? '; older records follow.' : '.'}`}
              moreLabel="Older records"
            />
          </>
        )
      }
    </LoadState>
  );
}
