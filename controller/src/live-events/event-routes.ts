import websocket from '@fastify/websocket';
import type { FastifyPluginAsync } from 'fastify';
import { ALL_ROLES, covers } from '../access/scope.js';
import type { Database } from '../database/client.js';
import { unauthorized } from '../http/problem.js';
import type { EventBus } from './event-bus.js';

/**
 * GET /events (WebSocket): live fleet events the signed-in user may see (delivery
 * states, receivers going online/offline, faults) and the progress of their audio jobs,
 * as one JSON object per message.
 */
export const eventRoutes: FastifyPluginAsync<{ db: Database; bus: EventBus }> = async (app, { db, bus }) => {
  // The app registers the WebSocket server once for all its routes; standalone, this plugin brings its own.
  if (!app.hasDecorator('websocketServer')) await app.register(websocket);
  const paths = new Map<string, string>();
  const pathOf = async (receiverId: string) => {
    let path = paths.get(receiverId);
    if (path === undefined) {
      const receiver = await db.receiver.findUnique({
        where: { id: receiverId },
        select: { village: { select: { path: true } } },
      });
      path = receiver?.village.path ?? '';
      paths.set(receiverId, path);
    }
    return path;
  };

  app.get(
    '/events',
    {
      websocket: true,
      schema: { tags: ['events'], summary: 'WebSocket of live fleet events within the caller’s scope' },
      preValidation: async (request) => {
        if (!request.principal) throw unauthorized();
      },
    },
    (socket, request) => {
      const principal = request.principal;
      if (!principal) return socket.close(1008, 'sign in first');
      const off = bus.on((event) => {
        if (event.type === 'alert.changed') {
          if (
            principal.grants.some((g) => g.role === 'emergency' || g.role === 'admin') &&
            socket.readyState === socket.OPEN
          )
            socket.send(JSON.stringify(event));
          return;
        }
        if (event.type === 'audio.job') {
          if ((event.userId === null || event.userId === principal.userId) && socket.readyState === socket.OPEN)
            socket.send(JSON.stringify(event));
          return;
        }
        void pathOf(event.receiverId).then((path) => {
          if (path && covers(principal, ALL_ROLES, path) && socket.readyState === socket.OPEN)
            socket.send(JSON.stringify(event));
        });
      });
      socket.on('close', off);
      socket.send(JSON.stringify({ type: 'hello', username: principal.username }));
    },
  );
};
