import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../access/scope.js';
import type { Database } from '../database/client.js';
import type { AlertDeliveryState, Prisma } from '../generated/prisma/client.js';
import { ProblemSchema } from '../http/problem.js';
import { loadAlert } from './alert-access.js';
import { ALERT_DELIVERY_STATES, NOT_STARTED } from './alert-deliveries.js';
import { IdParams } from './alert-view.js';

const StateSchema = Type.Union(ALERT_DELIVERY_STATES.map((s) => Type.Literal(s)));
const Time = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);

/**
 * GET /alerts/:id/deliveries: where an alert stands on each receiver it went to (counts
 * per state, and the receivers), with `?late=true` for the ones that have not started
 * (the phone follow-up list once escalated). The WebSocket (/events) carries each change
 * as an `alert.delivery` event.
 */
export const alertDeliveryRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/alerts/:id/deliveries',
    {
      schema: {
        tags: ['alerts'],
        summary: 'Per-receiver delivery of an alert: delivered, started, finished, or failed / unreachable',
        params: IdParams,
        querystring: Type.Object({
          state: Type.Optional(StateSchema),
          late: Type.Optional(Type.Boolean({ description: 'Only receivers that have not started' })),
          limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
        }),
        response: {
          200: Type.Object({
            total: Type.Integer(),
            counts: Type.Record(Type.String(), Type.Integer()),
            late: Type.Integer({ description: 'Receivers that have not started' }),
            escalatedAt: Time,
            items: Type.Array(
              Type.Object({
                receiverId: Type.String(),
                name: Type.String(),
                village: Type.Object({ code: Type.String(), name: Type.String() }),
                online: Type.Boolean(),
                state: StateSchema,
                reason: Type.Union([Type.String(), Type.Null()]),
                deliveredAt: Time,
                startedAt: Time,
                endedAt: Time,
                escalatedAt: Time,
              }),
            ),
          }),
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const alert = await loadAlert(db, request.params.id, principal);
      const { state, late, limit } = request.query;
      const grouped = await db.alertDelivery.groupBy({ by: ['state'], where: { alertId: alert.id }, _count: true });
      const counts = Object.fromEntries(grouped.map((g) => [g.state, g._count]));
      const where: Prisma.AlertDeliveryWhereInput = {
        alertId: alert.id,
        ...(state ? { state } : late ? { state: { in: NOT_STARTED } } : {}),
      };
      const rows = await db.alertDelivery.findMany({
        where,
        orderBy: { receiverId: 'asc' },
        take: limit,
        include: {
          receiver: { select: { name: true, online: true, village: { select: { code: true, name: true } } } },
        },
      });
      const iso = (d: Date | null) => d?.toISOString() ?? null;
      return {
        total: grouped.reduce((n, g) => n + g._count, 0),
        counts,
        late: NOT_STARTED.reduce((n, s: AlertDeliveryState) => n + (counts[s] ?? 0), 0),
        escalatedAt: iso(alert.escalatedAt),
        items: rows.map((d) => ({
          receiverId: d.receiverId,
          name: d.receiver.name,
          village: d.receiver.village,
          online: d.receiver.online,
          state: d.state,
          reason: d.reason,
          deliveredAt: iso(d.deliveredAt),
          startedAt: iso(d.startedAt),
          endedAt: iso(d.endedAt),
          escalatedAt: iso(d.escalatedAt),
        })),
      };
    },
  );
};
