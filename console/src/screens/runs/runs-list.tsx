import { useId } from 'react';
import { Link, useSearchParams } from 'react-router-dom';
import type { OutputOf } from '../../../../shared/admin/operations.js';
import { useApiGet } from '../../api/use-api.js';
import { columnsOf, DataTable } from '../../components/data-table.js';
import { countsText, RUN_STATES } from '../../format.js';
import { LoadState } from '../../components/load-state.js';
import { Time } from '../../components/time.js';
import { actorText } from './run-detail.js';

type Run = OutputOf<'runs.list'>[number];
type Connection = OutputOf<'connections.list'>[number];

/** The newest runs the list asks for: the API pages no further, and a connection's filter narrows it to its own. */
const LIMIT = 200;

/**
 * Runs (`/runs`), newest first, filtered by connection (the API's) and state (here: the API has none); the
 * filters live in the address, so a filtered list can be shared and the back button works.
 */
export function RunsList() {
  const id = useId();
  const [search, setSearch] = useSearchParams();
  const connection = search.get('connection') ?? '';
  const state = search.get('state') ?? '';
  const runs = useApiGet<Run[]>('runs', { connection, limit: LIMIT });
  const connections = useApiGet<Connection[]>('connections');
  const filter = (key: string, value: string) =>
    setSearch((current) => {
      const next = new URLSearchParams(current);
      if (value) next.set(key, value);
      else next.delete(key);
      return next;
    });
  const names = connections.loaded.state === 'ready' ? connections.loaded.data.map((c) => c.name) : [];
  return (
    <>
      <h1>Runs</h1>
      <form className="toolbar" role="search" aria-label="Filter runs" onSubmit={(event) => event.preventDefault()}>
        <div>
          <label htmlFor={`${id}-connection`}>Connection</label>
          <select id={`${id}-connection`} value={connection} onChange={(event) => filter('connection', event.target.value)}>
            <option value="">All connections</option>
            {[...new Set([...names, ...(connection ? [connection] : [])])].sort().map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label htmlFor={`${id}-state`}>State</label>
          <select id={`${id}-state`} value={state} onChange={(event) => filter('state', event.target.value)}>
            <option value="">Any state</option>
            {Object.entries(RUN_STATES).map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </div>
      </form>
      <LoadState loaded={runs.loaded} what="runs">
        {(list) => {
          const shown = state ? list.filter((run) => run.state === state) : list;
          return (
            <>
              <p className="muted" aria-live="polite">
                {shown.length} run(s){list.length === LIMIT ? ` among the newest ${LIMIT}` : ''}.
              </p>
              <DataTable<Run>
            captionHidden
                caption="Runs"
                columns={COLUMNS}
                rows={shown}
                rowId={(run) => run.runId}
                initialSorting={[{ id: 'startedAt', desc: true }]}
                empty={
                  connection || state ? (
                    <p>No run matches these filters. Choose another connection or state.</p>
                  ) : (
                    <p>
                      No runs yet. Start one from a <Link to="/connections">connection</Link>’s page (Sync now or Dry run), or wait for its schedule.
                    </p>
                  )
                }
              />
            </>
          );
        }}
      </LoadState>
    </>
  );
}

const column = columnsOf<Run>();
const COLUMNS = column.columns([
  column.accessor('startedAt', { header: 'Started', cell: ({ row }) => <Link to={`/runs/${encodeURIComponent(row.original.runId)}`}><Time iso={row.original.startedAt} /></Link> }),
  column.accessor('connection', { header: 'Connection' }),
  column.accessor((run) => `${run.kind === 'full' ? 'Full' : 'Incremental'}${run.dryRun ? ', dry run' : ''}`, { id: 'kind', header: 'Kind' }),
  column.accessor((run) => RUN_STATES[run.state], { id: 'state', header: 'State' }),
  column.accessor((run) => actorText(run.startedBy), { id: 'startedBy', header: 'Started by' }),
  column.accessor((run) => countsText(run.counts), { id: 'counts', header: 'Counts', enableSorting: false }),
]);
