import { Navigate, type RouteObject } from 'react-router-dom';
import { Layout } from './layout.js';
import { AccountsScreen } from './screens/accounts/accounts-screen.js';
import { GroupScreen } from './screens/accounts/group-screen.js';
import { AuditScreen } from './screens/audit/audit-screen.js';
import { LicencesScreen } from './screens/licences/licences-screen.js';
import { UserScreen } from './screens/users/user-screen.js';
import { UsersScreen } from './screens/users/users-screen.js';
import { ConnectionDetail } from './screens/connections/connection-detail.js';
import { ConnectionsList } from './screens/connections/connections-list.js';
import { NotFound } from './screens/not-found.js';
import { RunDetail } from './screens/runs/run-detail.js';
import { RunsList } from './screens/runs/runs-list.js';

/**
 * The console's screens, one entry per area; each screen calls the HTTP API (api/client.ts) and shows what it
 * answers. The layout around them shows who is signed in and the navigation.
 */
/** The profile form brings @rjsf/core and a JSON Schema validator: loaded when a form is opened, not with every page. */
const connectionForm = async () => ({ Component: (await import('./screens/connections/connection-form.js')).ConnectionForm });

export const ROUTES: RouteObject[] = [
  {
    path: '/',
    element: <Layout />,
    children: [
      { index: true, element: <Navigate to="/connections" replace /> },
      { path: 'audit', element: <AuditScreen /> },
      { path: 'users', element: <UsersScreen /> },
      { path: 'users/:username', element: <UserScreen /> },
      { path: 'accounts', element: <AccountsScreen /> },
      { path: 'accounts/groups/:name', element: <GroupScreen /> },
      { path: 'licences', element: <LicencesScreen /> },
      { path: 'connections', element: <ConnectionsList /> },
      { path: 'connections/new', lazy: connectionForm },
      { path: 'connections/:name', element: <ConnectionDetail /> },
      { path: 'connections/:name/edit', lazy: connectionForm },
      { path: 'runs', element: <RunsList /> },
      { path: 'runs/:id', element: <RunDetail /> },
      { path: '*', element: <NotFound /> },
    ],
  },
];
