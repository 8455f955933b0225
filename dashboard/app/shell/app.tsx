import { createBrowserRouter, Outlet, RouterProvider } from 'react-router';
import { alertRoutes } from '../alerts/routes.tsx';
import { EventsProvider } from '../api/events.tsx';
import { fleetRoutes } from '../fleet/routes.tsx';
import { liveRoutes } from '../live/routes.tsx';
import { scheduleRoutes } from '../schedule/routes.tsx';
import { Home } from './home.tsx';
import { Layout } from './layout.tsx';
import { NotFound } from './not-found.tsx';
import { SessionProvider, useSession } from './session.tsx';
import { SignIn } from './sign-in.tsx';

/** Signed in: the layout and the page; otherwise the sign-in form (the URL is kept). */
function Gate() {
  const { me } = useSession();
  if (me === undefined) return null;
  if (me === null) return <SignIn />;
  return (
    <EventsProvider>
      <Layout>
        <Outlet />
      </Layout>
    </EventsProvider>
  );
}

const router = createBrowserRouter(
  [
    {
      element: <Gate />,
      children: [
        { index: true, element: <Home /> },
        ...scheduleRoutes,
        ...alertRoutes,
        ...fleetRoutes,
        ...liveRoutes,
        { path: '*', element: <NotFound /> },
      ],
    },
  ],
  { basename: '/app' },
);

export function App() {
  return (
    <SessionProvider>
      <RouterProvider router={router} />
    </SessionProvider>
  );
}
