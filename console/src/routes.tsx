import { Navigate, type RouteObject } from 'react-router-dom';
import { Layout } from './layout.js';
import { ConnectionDetail } from './screens/connections/connection-detail.js';
import { ConnectionForm } from './screens/connections/connection-form.js';
import { ConnectionsList } from './screens/connections/connections-list.js';
import { NotFound } from './screens/not-found.js';
import { RunDetail } from './screens/runs/run-detail.js';
import { RunsList } from './screens/runs/runs-list.js';

/**
 * The console's screens, one entry per area; each screen calls the HTTP API (api/client.ts) and shows what it
 * answers. The layout around them shows who is signed in and the navigation.
 */
export const ROUTES: RouteObject[] = [
  {
    path: '/',
    element: <Layout />,
    children: [
      { index: true, element: <Navigate to="/connections" replace /> },
      { path: 'connections', element: <ConnectionsList /> },
      { path: 'connections/new', element: <ConnectionForm /> },
      { path: 'connections/:name', element: <ConnectionDetail /> },
      { path: 'connections/:name/edit', element: <ConnectionForm /> },
      { path: 'runs', element: <RunsList /> },
      { path: 'runs/:id', element: <RunDetail /> },
      { path: '*', element: <NotFound /> },
    ],
  },
];
