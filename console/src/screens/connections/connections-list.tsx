import { useEffect, useState } from 'react';
import { Link, useLocation } from 'react-router-dom';
import type { OutputOf } from '../../../../shared/admin/operations.js';
import type { RunView } from '../../../../shared/admin/views.js';
import { api, segment } from '../../api/client.js';
import { useApiGet } from '../../api/use-api.js';
import { columnsOf, DataTable } from '../../components/data-table.js';
import { countsText, RUN_STATES } from '../../format.js';
import { LoadState } from '../../components/load-state.js';
import { Time } from '../../components/time.js';
import { canChange, useSession } from '../../session.js';
import { CONNECTION_TYPES, ConnectionTypeChoices } from './connection-types.js';

type Connection = OutputOf<'connections.list'>[number];
type Row = Connection & { lastRun?: RunView };

/** Connections (`/connections`): each with its type, schedule, state, last run and next scheduled run. */
export function ConnectionsList() {
  const session = useSession();
  const { loaded: result } = useApiGet<Connection[]>('connections');
  const lastRuns = useLastRuns(result.state === 'ready' ? result.data : undefined);
  // What the screen that sent the admin here did (a connection deleted).
  const notice = (useLocation().state as { notice?: string } | null)?.notice;
  return (
    <>
      <h1>Connections</h1>
      {notice ? (
        <p className="notice" role="status">
          {notice}
        </p>
      ) : null}
      {canChange(session) ? (
        <p>
          <Link className="button" to="/connections/new">
            Add a connection
          </Link>
        </p>
      ) : null}
      <LoadState loaded={result} what="connections">
        {(connections) => (
          <DataTable<Row>
            captionHidden
            caption="Connections"
            columns={COLUMNS}
            rows={connections.map((connection) => ({ ...connection, lastRun: lastRuns.get(connection.name) }))}
            rowId={(row) => row.name}
            initialSorting={[{ id: 'name', desc: false }]}
            empty={
              <>
                <h2>No connections yet</h2>
                {canChange(session) ? (
                  <>
                    <p>A connection reads one directory and keeps the intranet’s users in step with it. Add one of these:</p>
                    <ConnectionTypeChoices />
                  </>
                ) : (
                  <p>An admin (UserSync.Admin) adds them: a CSV export, a Microsoft Entra ID tenant or an Okta org.</p>
                )}
              </>
            }
          />
        )}
      </LoadState>
    </>
  );
}

/** Each connection's last run (GET /api/runs/{id}), for its outcome and counts; one that cannot be read is left out. */
function useLastRuns(connections: Connection[] | undefined): Map<string, RunView> {
  const [runs, setRuns] = useState(new Map<string, RunView>());
  useEffect(() => {
    if (!connections) return;
    let live = true;
    const reads = connections.flatMap(({ name, state }) => (state.lastRunId ? [api<RunView>('GET', `runs/${segment(state.lastRunId)}`).then((run) => [name, run] as const)] : []));
    void Promise.allSettled(reads).then((settled) => {
      if (live) setRuns(new Map(settled.flatMap((read) => (read.status === 'fulfilled' ? [read.value] : []))));
    });
    return () => {
      live = false;
    };
  }, [connections]);
  return runs;
}

const column = columnsOf<Row>();
const COLUMNS = column.columns([
  column.accessor('name', {
    header: 'Name',
    cell: ({ row }) => <Link to={`/connections/${encodeURIComponent(row.original.name)}`}>{row.original.name}</Link>,
  }),
  column.accessor('type', { header: 'Type', cell: ({ getValue }) => CONNECTION_TYPES.find((choice) => choice.type === getValue())?.label ?? getValue() }),
  column.accessor((row) => (row.profile.type === 'scim' ? 'Pushed (SCIM)' : scheduleText(row.profile.schedule)), { id: 'schedule', header: 'Schedule' }),
  column.accessor((row) => stateText(row), { id: 'state', header: 'State' }),
  column.accessor((row) => row.state.lastRunEndedAt ?? '', {
    id: 'lastRun',
    header: 'Last run',
    cell: ({ row }) => <LastRun connection={row.original} />,
  }),
  column.accessor((row) => row.nextRunAt ?? '', {
    id: 'nextRun',
    header: 'Next run',
    cell: ({ row }) => (row.original.nextRunAt ? <Time iso={row.original.nextRunAt} /> : <span className="muted">not scheduled</span>),
  }),
]);

function LastRun({ connection: { state, lastRun } }: { connection: Row }) {
  if (!state.lastRunId) return <span className="muted">never run</span>;
  return (
    <>
      <Link to={`/runs/${encodeURIComponent(state.lastRunId)}`}>{RUN_STATES[(lastRun?.state ?? state.lastRunStatus) as RunView['state']] ?? state.lastRunStatus}</Link>
      {lastRun ? <div className="muted">{countsText(lastRun.counts)}</div> : null}
      <div className="muted">
        <Time iso={state.lastRunEndedAt} />
      </div>
    </>
  );
}

function stateText(connection: Connection): string {
  if (connection.problems?.length) return 'Needs saving again';
  if (connection.state.activeRunId) return 'Running';
  return connection.profile.enabled ? 'Enabled' : 'Disabled';
}

export function scheduleText(schedule: Extract<Connection['profile'], { schedule: unknown }>['schedule']): string {
  switch (schedule.kind) {
    case 'off':
      return 'Manual only';
    case 'hourly':
      return 'Every hour';
    case 'interval':
      return `Every ${schedule.minutes} minutes`;
    case 'daily':
      return `Daily at ${String(schedule.hour).padStart(2, '0')}:00 (${schedule.timeZone})`;
  }
}
