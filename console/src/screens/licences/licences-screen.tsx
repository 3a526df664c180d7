import { useMemo, useState } from 'react';
import { Link } from 'react-router-dom';
import type { OutputOf } from '../../../../shared/admin/operations.js';
import { api, segment } from '../../api/client.js';
import { useAction } from '../../api/use-action.js';
import { useApiGet } from '../../api/use-api.js';
import { columnsOf, DataTable } from '../../components/data-table.js';
import { LoadState } from '../../components/load-state.js';
import { Problem } from '../../components/problem.js';
import { Time } from '../../components/time.js';
import { connectionLabel } from '../../format.js';
import { canChange, useSession } from '../../session.js';

type Licences = OutputOf<'licences.show'>;
type ByConnection = Licences['byConnection'][number];
type Waiting = Licences['blocked'][number] & { position: number };

const perConnection = columnsOf<ByConnection>();
const CONNECTION_COLUMNS = perConnection.columns([
  perConnection.accessor('connection', { header: 'Connection', cell: (info) => connectionLabel(info.getValue()) }),
  perConnection.accessor('active', { header: 'Active (using a licence)' }),
  perConnection.accessor('blocked', { header: 'Blocked (waiting)' }),
]);

const queue = columnsOf<Waiting>();
const QUEUE_COLUMNS = queue.columns([
  queue.accessor('position', { header: 'Order' }),
  queue.accessor('username', { header: 'Username', cell: (info) => <Link to={`/users/${segment(info.getValue())}`}>{info.getValue()}</Link> }),
  queue.accessor('connection', { header: 'Connection', cell: (info) => connectionLabel(info.getValue()) }),
  queue.accessor('since', { header: 'Waiting since', cell: (info) => <Time iso={info.getValue()} /> }),
]);

const connectionId = (of: ByConnection) => of.connection;
const waitingId = (user: Waiting) => user.username;

function BlockedQueue({ blocked }: { blocked: Licences['blocked'] }) {
  const rows = useMemo(() => blocked.map((user, index) => ({ ...user, position: index + 1 })), [blocked]);
  return <DataTable caption="Blocked users, in the order they get a licence" columns={QUEUE_COLUMNS} rows={rows} rowId={waitingId} />;
}

function Summary({ licences }: { licences: Licences }) {
  const counted = licences.byConnection.reduce((sum, of) => sum + of.active, 0);
  return (
    <>
      {licences.limit === undefined ? (
        <p className="summary">
          <strong>{licences.used}</strong> licences in use; no limit is set (the app setting USERSYNC_LICENCE_LIMIT).
        </p>
      ) : (
        <p className="summary">
          <strong>{licences.used}</strong> of <strong>{licences.limit}</strong> licences in use{' '}
          <meter min={0} max={licences.limit} value={licences.used} aria-label="Licences in use">
            {licences.used} of {licences.limit}
          </meter>
        </p>
      )}
      {counted !== licences.used ? (
        <p className="notice">
          The users count {counted} active, the ledger the sync hands licences out by says {licences.used}: Recount sets the ledger from the users.
        </p>
      ) : null}
    </>
  );
}

/** Licences (GET /licences): used of the limit, per connection, and the users waiting for one in the order they get one. */
export function LicencesScreen() {
  const admin = canChange(useSession());
  const { loaded, reload, replace } = useApiGet<Licences>('licences');
  const action = useAction();
  const [message, setMessage] = useState('');
  async function recount() {
    setMessage('');
    await action.run(async () => {
      const counted = await api<Licences>('POST', 'licences/recount');
      replace(counted);
      setMessage(`Recounted: ${counted.used} licences in use.`);
    });
  }
  return (
    <section aria-labelledby="licences-title">
      <h1 id="licences-title">Licences</h1>
      <p className="muted">Active users of every directory and local accounts each use a licence; disabled and blocked ones do not.</p>
      <LoadState loaded={loaded} retry={reload}>
        {(licences) => (
          <>
            <Summary licences={licences} />
            {admin ? (
              <p>
                <button type="button" onClick={() => void recount()} disabled={action.busy}>
                  Recount
                </button>{' '}
                <span className="muted">sets the count from the users themselves (after tables were edited by hand)</span>
              </p>
            ) : null}
            <p aria-live="polite" className="ok">
              {message}
            </p>
            {action.problem ? <Problem problem={action.problem} /> : null}
            <h2>Per connection</h2>
            {licences.byConnection.length ? (
              <DataTable caption="Licences per connection" columns={CONNECTION_COLUMNS} rows={licences.byConnection} rowId={connectionId} />
            ) : (
              <p className="notice">
                No users yet: <Link to="/connections">add a connection</Link> and sync it.
              </p>
            )}
            <h2>Waiting for a licence</h2>
            {licences.blocked.length ? (
              <>
                <p>A user created when no licence was free is blocked; as licences free up (a user leaves, the limit rises), the next sync of their connection activates them in this order.</p>
                <BlockedQueue blocked={licences.blocked} />
              </>
            ) : (
              <p className="notice">No one is waiting for a licence.</p>
            )}
          </>
        )}
      </LoadState>
    </section>
  );
}
