import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { Problem } from '../http/problem.js';

/**
 * Serves the dashboard (the built web app, `npm run build`) under /app/, so it shares
 * the API's origin and session cookie. Paths under /app/ that are not files are the
 * app's own pages (client-side routes) and get index.html; `/` leads to /app/.
 */
export const dashboardRoutes: FastifyPluginAsync<{ dir: string }> = async (app, { dir }) => {
  const root = resolve(dir);
  const built = existsSync(resolve(root, 'index.html'));
  app.get('/', { schema: { hide: true } }, (_request, reply) => reply.redirect('/app/'));
  if (!built) {
    app.get('/app/*', { schema: { hide: true } }, async () => {
      throw new Problem(503, 'Service Unavailable', `the dashboard is not built in ${root}; run npm run build`);
    });
    return;
  }
  await app.register(fastifyStatic, {
    root,
    prefix: '/app/',
    // Hashed asset names never change; index.html must be fetched fresh after an upgrade.
    setHeaders: (reply, path) => {
      reply.header('cache-control', path.endsWith('index.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
    },
    wildcard: false,
  });
  app.get('/app/*', { schema: { hide: true } }, (request, reply) => {
    // A missing asset is a 404, not the app: a stale page must not get HTML as script.
    if (/\.[a-z0-9]+$/i.test(request.url.split('?')[0] ?? ''))
      throw new Problem(404, 'Not Found', `no file ${request.url}`);
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  });
  app.get('/app', { schema: { hide: true } }, (_request, reply) => reply.redirect('/app/'));
};
