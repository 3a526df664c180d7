import { Link, useParams } from 'react-router-dom';
import type { OutputOf } from '../../../../shared/admin/operations.js';
import { segment } from '../../api/client.js';
import { useApiGet } from '../../api/use-api.js';
import { LoadState } from '../../components/load-state.js';
import { Time } from '../../components/time.js';
import { connectionLabel, LOCAL, reasonLabel } from '../../format.js';
import { AuditTrail } from '../audit/audit-trail.js';
import { StatusBadge, type User } from './user-columns.js';

type OrgChart = OutputOf<'users.orgChart'>;

const HISTORY_LIMIT = 20;

function PersonLink({ user }: { user: User }) {
  return (
    <Link to={`/users/${segment(user.username)}`}>
      {user.firstName} {user.lastName}
    </Link>
  );
}

/** Managers from the top down to the user's own, and the people who report to the user. */
function OrgChartSection({ username }: { username: string }) {
  const { loaded, reload } = useApiGet<OrgChart>(`orgchart/${segment(username)}`);
  return (
    <section aria-labelledby="orgchart-title">
      <h2 id="orgchart-title">Manager and reports</h2>
      <LoadState loaded={loaded} retry={reload}>
        {(chart) => (
          <>
            {chart.managers.length ? (
              <>
                <h3>Reports to</h3>
                <ol className="chain">
                  {[...chart.managers].reverse().map((manager) => (
                    <li key={manager.key}>
                      <PersonLink user={manager} /> <span className="muted">({manager.username})</span>
                    </li>
                  ))}
                </ol>
                {chart.loops ? <p className="muted">The chain above comes back to someone already in it: the directory has a management cycle.</p> : null}
              </>
            ) : (
              <p>No manager{chart.user.manager ? ` linked (the directory names "${chart.user.manager}", who is not a user here)` : ''}.</p>
            )}
            <h3>Direct reports</h3>
            {chart.directReports.length ? (
              <ul>
                {chart.directReports.map((report) => (
                  <li key={report.key}>
                    <PersonLink user={report} /> <span className="muted">({report.username})</span>
                  </li>
                ))}
              </ul>
            ) : (
              <p className="muted">None.</p>
            )}
          </>
        )}
      </LoadState>
    </section>
  );
}

function Groups({ user }: { user: User }) {
  const groups = [...(user.groups ?? []).map((name) => ({ name, local: false })), ...(user.localGroups ?? []).map((name) => ({ name, local: true }))];
  if (!groups.length) return <p className="muted">In no group.</p>;
  return (
    <ul>
      {groups.map(({ name, local }) => (
        <li key={`${local}:${name}`}>
          <Link to={`/accounts/groups/${segment(name)}`}>{name}</Link> <span className="muted">{local ? '(local group)' : '(from the directory)'}</span>
        </li>
      ))}
    </ul>
  );
}

function UserDetails({ user }: { user: User }) {
  const attributes = Object.entries(user.attributes).sort(([a], [b]) => a.localeCompare(b));
  return (
    <>
      <dl className="details">
        <dt>Username</dt>
        <dd>{user.username}</dd>
        <dt>Email</dt>
        <dd>{user.email}</dd>
        <dt>Status</dt>
        <dd>
          <StatusBadge status={user.status} />
          {user.status === 'disabled' && user.disabledReason ? <> — {reasonLabel(user.disabledReason)}</> : null}
          {user.status === 'blocked' ? <> — waiting for a licence (<Link to="/licences">Licences</Link>)</> : null}
        </dd>
        <dt>Connection</dt>
        <dd>{user.connection === LOCAL ? <Link to="/accounts">Local account</Link> : connectionLabel(user.connection)}</dd>
        {user.mustChangePassword ? (
          <>
            <dt>Password</dt>
            <dd>One-time: must be changed at the next sign-in</dd>
          </>
        ) : null}
        <dt>Created</dt>
        <dd>
          <Time iso={user.createdAt} />
        </dd>
        <dt>Last changed</dt>
        <dd>
          <Time iso={user.updatedAt} />
        </dd>
        {user.sourceRef ? (
          <>
            <dt>Last read at</dt>
            <dd>{user.sourceRef}</dd>
          </>
        ) : null}
      </dl>
      <section aria-labelledby="attributes-title">
        <h2 id="attributes-title">Attributes</h2>
        {attributes.length ? (
          <dl className="details">
            {attributes.map(([name, value]) => (
              <div key={name} className="details-row">
                <dt>{name}</dt>
                <dd className="preserve">{value}</dd>
              </div>
            ))}
          </dl>
        ) : (
          <p className="muted">None.</p>
        )}
      </section>
      <section aria-labelledby="groups-title">
        <h2 id="groups-title">Groups</h2>
        <Groups user={user} />
      </section>
    </>
  );
}

/** One user: attributes, status and why, groups, place in the org chart, and their history, newest first. */
export function UserScreen() {
  const username = useParams().username ?? '';
  const { loaded, reload } = useApiGet<User>(`users/${segment(username)}`);
  return (
    <section aria-labelledby="user-title">
      <p>
        <Link to="/users">← Users</Link>
      </p>
      <h1 id="user-title">{loaded.state === 'ready' ? `${loaded.data.firstName} ${loaded.data.lastName}` : username}</h1>
      <LoadState loaded={loaded} retry={reload}>
        {(user) => (
          <>
            <UserDetails user={user} />
            <OrgChartSection username={user.username} />
            <section aria-labelledby="history-title">
              <h2 id="history-title">History</h2>
              <p>
                <Link to={{ pathname: '/audit', search: `?user=${encodeURIComponent(user.username)}` }}>Search this user's records in Audit</Link>
              </p>
              <AuditTrail
                query={{ user: user.key, limit: HISTORY_LIMIT }}
                caption={`History of ${user.username}, newest first`}
                empty={<p>Nothing is recorded for this user yet.</p>}
                history
              />
            </section>
          </>
        )}
      </LoadState>
    </section>
  );
}
