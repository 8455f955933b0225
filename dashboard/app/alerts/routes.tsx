import type { RouteObject } from 'react-router';
import { AlertCompose } from './alert-compose.tsx';
import { AlertConsole } from './alert-console.tsx';
import { AlertPage } from './alert-page.tsx';
import { CapInbox } from './cap-inbox.tsx';

/** The emergency staff's pages: the console, compose, one alert, and the CAP inbox. */
export const alertRoutes: RouteObject[] = [
  { path: 'alerts', element: <AlertConsole /> },
  { path: 'alerts/new', element: <AlertCompose /> },
  { path: 'alerts/:id', element: <AlertPage /> },
  { path: 'cap', element: <CapInbox /> },
];
