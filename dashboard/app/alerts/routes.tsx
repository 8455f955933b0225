import type { RouteObject } from 'react-router';

export const alertRoutes: RouteObject[] = [];
