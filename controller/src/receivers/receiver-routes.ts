import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { listingPaths } from '../access/listing-scope.js';
import { ALL_ROLES, requirePrincipal, requireScope } from '../access/scope.js';
import { recordAudit } from '../audit/audit-log.js';
import { issueReceiverCredentials } from '../broker/receiver-credentials.js';
import type { Database } from '../database/client.js';
import { etagOf, notModified } from '../http/etag.js';
import { PageQuery, page, pageArgs } from '../http/pagination.js';
import { notFound, ProblemSchema } from '../http/problem.js';

export const ReceiverSchema = Type.Object({
  id: Type.String(),
  name: Type.String(),
  villageCode: Type.String(),
  latitude: Type.Number(),
  longitude: Type.Number(),
  enabled: Type.Boolean(),
  online: Type.Boolean(),
  lastSeenAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  firmware: Type.Union([Type.String(), Type.Null()]),
  agentVersion: Type.Union([Type.String(), Type.Null()]),
  hardware: Type.Record(Type.String(), Type.Unknown(), { description: 'Model, amplifier, horns, as installed' }),
  faults: Type.Array(Type.String(), { description: 'Latched faults, as last reported' }),
  telemetry: Type.Union([Type.Record(Type.String(), Type.Unknown()), Type.Null()], {
    description: 'Last telemetry report (see the protocols Telemetry schema)',
  }),
});

export type ReceiverRow = {
  id: string;
  name: string;
  latitude: number;
  longitude: number;
  enabled: boolean;
  online: boolean;
  lastSeenAt: Date | null;
  firmware: string | null;
  agentVersion: string | null;
  hardware: unknown;
  telemetry: unknown;
  faults: string[];
  village: { code: string };
};
export const toReceiver = (r: ReceiverRow) => ({
  id: r.id,
  name: r.name,
  villageCode: r.village.code,
  latitude: r.latitude,
  longitude: r.longitude,
  enabled: r.enabled,
  online: r.online,
  lastSeenAt: r.lastSeenAt?.toISOString() ?? null,
  firmware: r.firmware,
  agentVersion: r.agentVersion,
  hardware: (r.hardware ?? {}) as Record<string, unknown>,
  faults: r.faults,
  telemetry: (r.telemetry ?? null) as Record<string, unknown> | null,
});

/** The fleet, as far as the caller's grants reach. */
export const receiverRoutes: FastifyPluginAsyncTypebox<{ db: Database }> = async (app, { db }) => {
  app.get(
    '/receivers',
    {
      schema: {
        tags: ['receivers'],
        summary: 'Receivers the caller may see',
        querystring: Type.Object({
          ...PageQuery,
          area: Type.Optional(Type.String({ description: 'Only receivers in this area (code), at any depth' })),
          online: Type.Optional(Type.Boolean()),
        }),
        response: {
          200: Type.Object({ items: Type.Array(ReceiverSchema), nextCursor: Type.Union([Type.String(), Type.Null()]) }),
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const paths = await listingPaths(db, principal, request.query.area);
      const rows = await db.receiver.findMany({
        where: {
          village: { OR: paths.map((p) => ({ path: { startsWith: p } })) },
          ...(request.query.online === undefined ? {} : { online: request.query.online }),
        },
        include: { village: { select: { code: true } } },
        orderBy: { id: 'asc' },
        ...pageArgs(request.query),
      });
      const result = page(rows, request.query.limit);
      return { items: result.items.map(toReceiver), nextCursor: result.nextCursor };
    },
  );

  app.get(
    '/receivers/:id',
    {
      schema: {
        tags: ['receivers'],
        summary: 'One receiver (ETag; If-None-Match gives 304 when unchanged)',
        params: Type.Object({ id: Type.String() }),
        response: { 200: ReceiverSchema, 304: Type.Null(), 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (request, reply) => {
      const receiver = await db.receiver.findUnique({ where: { id: request.params.id }, include: { village: true } });
      if (!receiver) throw notFound(`no receiver ${request.params.id}`);
      requireScope(request.principal, ALL_ROLES, receiver.village);
      const body = toReceiver(receiver);
      if (notModified(request, reply, etagOf(body))) return reply.status(304).send(null);
      return body;
    },
  );

  app.post(
    '/receivers/:id/credentials',
    {
      schema: {
        tags: ['receivers'],
        summary:
          "Issue new MQTT credentials for a receiver (the password is shown once); regenerate the broker's files after",
        params: Type.Object({ id: Type.String() }),
        response: {
          201: Type.Object({ username: Type.String(), password: Type.String() }),
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const receiver = await db.receiver.findUnique({ where: { id: request.params.id }, include: { village: true } });
      if (!receiver) throw notFound(`no receiver ${request.params.id}`);
      const principal = requireScope(request.principal, ['technician'], receiver.village);
      const issued = await issueReceiverCredentials(db, receiver.id);
      await recordAudit(db, {
        actor: principal,
        action: 'issue_credentials',
        entity: 'receiver',
        entityId: receiver.id,
      });
      return reply.status(201).send(issued);
    },
  );
};
