import type { RouteObject } from 'react-router';

export const liveRoutes: RouteObject[] = [];
