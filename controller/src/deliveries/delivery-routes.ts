import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { listingPaths } from '../access/listing-scope.js';
import { requirePrincipal } from '../access/scope.js';
import type { Database } from '../database/client.js';
import type { DeliveryState, Prisma } from '../generated/prisma/client.js';
import { PageQuery, page, pageArgs } from '../http/pagination.js';
import { ProblemSchema } from '../http/problem.js';

const STATES: DeliveryState[] = [
  'planned',
  'provisioned',
  'acknowledged',
  'started',
  'finished',
  'interrupted',
  'failed',
  'missed',
  'cancelled',
];
const Timestamp = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);
const DeliveryView = Type.Object({
  id: Type.String(),
  occurrenceId: Type.String(),
  scheduleId: Type.String(),
  title: Type.String(),
  receiverId: Type.String(),
  villageCode: Type.String(),
  startsAt: Type.String({ format: 'date-time' }),
  state: Type.Union(STATES.map((s) => Type.Literal(s))),
  reason: Type.Union([Type.String(), Type.Null()]),
  provisionedAt: Timestamp,
  acknowledgedAt: Timestamp,
  startedAt: Timestamp,
  finishedAt: Timestamp,
});

const iso = (d: Date | null) => d?.toISOString() ?? null;

/**
 * Deliveries (one per receiver per airtime) with their state and timestamps: what the
 * emergency staff check after a broadcast ("which receivers did not sound?").
 */
export const deliveryRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/deliveries',
    {
      schema: {
        tags: ['deliveries'],
        summary: 'Deliveries within the caller’s areas, filtered by airtime, receiver, area, state or time',
        querystring: Type.Object({
          ...PageQuery,
          occurrence: Type.Optional(Type.String({ format: 'uuid' })),
          schedule: Type.Optional(Type.String({ format: 'uuid' })),
          receiver: Type.Optional(Type.String()),
          area: Type.Optional(Type.String({ description: 'Area code; receivers at any depth below it' })),
          state: Type.Optional(Type.Array(Type.Union(STATES.map((s) => Type.Literal(s))), { maxItems: 9 })),
          from: Type.Optional(Type.String({ format: 'date-time', description: 'Airtimes starting at or after' })),
          to: Type.Optional(Type.String({ format: 'date-time', description: 'Airtimes starting before' })),
        }),
        response: {
          200: Type.Object({ items: Type.Array(DeliveryView), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const q = request.query;
      const paths = await listingPaths(db, principal, q.area);
      const where: Prisma.DeliveryWhereInput = {
        receiver: { village: { OR: paths.map((p) => ({ path: { startsWith: p } })) } },
        ...(q.receiver ? { receiverId: q.receiver } : {}),
        ...(q.state?.length ? { state: { in: q.state } } : {}),
        occurrence: {
          ...(q.occurrence ? { id: q.occurrence } : {}),
          ...(q.schedule ? { scheduleId: q.schedule } : {}),
          ...(q.from || q.to
            ? {
                startsAt: {
                  ...(q.from ? { gte: new Date(q.from) } : {}),
                  ...(q.to ? { lt: new Date(q.to) } : {}),
                },
              }
            : {}),
        },
      };
      const rows = await db.delivery.findMany({
        where,
        include: {
          occurrence: { select: { startsAt: true, scheduleId: true, schedule: { select: { title: true } } } },
          receiver: { select: { village: { select: { code: true } } } },
        },
        orderBy: { id: 'asc' },
        ...pageArgs(q),
      });
      const result = page(rows, q.limit);
      return {
        items: result.items.map((d) => ({
          id: d.id,
          occurrenceId: d.occurrenceId,
          scheduleId: d.occurrence.scheduleId,
          title: d.occurrence.schedule.title,
          receiverId: d.receiverId,
          villageCode: d.receiver.village.code,
          startsAt: d.occurrence.startsAt.toISOString(),
          state: d.state,
          reason: d.reason,
          provisionedAt: iso(d.provisionedAt),
          acknowledgedAt: iso(d.acknowledgedAt),
          startedAt: iso(d.startedAt),
          finishedAt: iso(d.finishedAt),
        })),
        nextCursor: result.nextCursor,
      };
    },
  );
};
