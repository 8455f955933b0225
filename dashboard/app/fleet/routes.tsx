import type { RouteObject } from 'react-router';

export const fleetRoutes: RouteObject[] = [];
