import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

/**
 * The controller's HTTP API, typed from its OpenAPI document (schema.d.ts is generated,
 * and a test keeps it in step). Same origin: the session cookie travels by itself.
 */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });

/** Everyone who wants to know that the session ended (the shell shows the sign-in page). */
const signedOutListeners = new Set<() => void>();
export function onSignedOut(listener: () => void): () => void {
  signedOutListeners.add(listener);
  return () => signedOutListeners.delete(listener);
}
const sessionWatch: Middleware = {
  onResponse({ request, response }) {
    if (response.status === 401 && !new URL(request.url).pathname.startsWith('/auth/login'))
      for (const listener of signedOutListeners) listener();
  },
};
api.use(sessionWatch);
