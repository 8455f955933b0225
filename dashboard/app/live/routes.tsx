import type { RouteObject } from 'react-router';
import { LivePage } from './live-page.tsx';

export const liveRoutes: RouteObject[] = [{ path: 'live', element: <LivePage /> }];
