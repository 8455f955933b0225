import type { RouteObject } from 'react-router';

/** The technicians' pages, loaded on first visit (uPlot and the charts stay out of the first download). */
export const fleetRoutes: RouteObject[] = [
  { path: 'fleet', lazy: async () => ({ Component: (await import('./fleet-page.tsx')).FleetPage }) },
  { path: 'fleet/:id', lazy: async () => ({ Component: (await import('./receiver-page.tsx')).ReceiverPage }) },
];
