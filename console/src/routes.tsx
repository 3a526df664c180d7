import { Navigate, type RouteObject } from 'react-router-dom';
import { Layout } from './layout.js';
import { NotFound } from './screens/not-found.js';

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
      { path: '*', element: <NotFound /> },
    ],
  },
];
