import { NavLink, Outlet } from 'react-router-dom';
import { Problem } from './components/problem.js';
import { useSession } from './session.js';

/** Where each area lives; the labels are the product's words. */
const AREAS = [
  { to: '/connections', label: 'Connections' },
  { to: '/runs', label: 'Runs' },
  { to: '/users', label: 'Users' },
  { to: '/audit', label: 'Audit' },
  { to: '/accounts', label: 'Local accounts & groups' },
  { to: '/licences', label: 'Licences' },
];

export function Layout() {
  const session = useSession();
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="app-header">
        <span className="app-name">User Directory Sync</span>
        <nav aria-label="Main">
          <ul>
            {AREAS.map((area) => (
              <li key={area.to}>
                <NavLink to={area.to}>{area.label}</NavLink>
              </li>
            ))}
          </ul>
        </nav>
        <p className="signed-in" aria-live="polite">
          {session.state === 'ready' ? (
            <>
              Signed in as <strong>{session.me.name}</strong> · {session.me.roles.length ? session.me.roles.map(roleLabel).join(', ') : 'no role'}
            </>
          ) : session.state === 'error' ? (
            session.problem.detail
          ) : (
            'Signing in…'
          )}
        </p>
      </header>
      <main id="main" tabIndex={-1}>
        {/* A screen shows once it is known who asks: none loads data its admin would be refused. */}
        {session.state === 'loading' ? (
          <p role="status" className="muted">
            Signing in…
          </p>
        ) : session.state === 'error' ? (
          <Problem problem={session.problem} title="Who is signed in could not be found out." />
        ) : session.me.roles.length === 0 ? (
          <NoRole />
        ) : (
          <Outlet />
        )}
      </main>
    </>
  );
}

/** Signed in, but granted nothing: the API would refuse every screen's data, so say whom to ask instead. */
function NoRole() {
  return (
    <section aria-labelledby="no-role-title">
      <h1 id="no-role-title">No access yet</h1>
      <p className="notice" role="status">
        You have no role in User Directory Sync; ask an admin to assign UserSync.Reader or UserSync.Admin.
      </p>
    </section>
  );
}

function roleLabel(role: string): string {
  return role === 'UserSync.Admin' ? 'Admin' : role === 'UserSync.Reader' ? 'Reader' : role;
}
