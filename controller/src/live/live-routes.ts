import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../access/scope.js';
import { recordAudit } from '../audit/audit-log.js';
import type { LiveSession } from '../generated/prisma/client.js';
import { DeliveryState } from '../generated/prisma/enums.js';
import { forbidden, Problem, ProblemSchema } from '../http/problem.js';
import { loadLiveSession, maySee, mayStop, pathsOfSessions, requireSpeakerScope } from './live-access.js';
import { liveAudioSocket } from './live-audio-socket.js';
import { type LiveDeps, localBroadcast, openLiveSession } from './live-broadcast.js';
import { stopLiveSession } from './live-stop.js';
import { IdParams, LiveSessionView, LiveStateSchema, liveSessionView, OpenSessionBody } from './live-view.js';

const Problems = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema };
const Time = Type.Union([Type.String({ format: 'date-time' }), Type.Null()]);
const DeliveryStateSchema = Type.Union(Object.values(DeliveryState).map((s) => Type.Literal(s)));

const audit = (
  db: LiveDeps['db'],
  actor: Parameters<typeof recordAudit>[1]['actor'],
  action: string,
  before: LiveSession | undefined,
  after: LiveSession,
) => recordAudit(db, { actor, action, entity: 'live_session', entityId: after.id, before, after });

/**
 * Live speech: an official opens a session on their areas (POST /live/sessions), the
 * receivers sound the chime, and the speaker's audio (the WebSocket at `audioUrl`, or the
 * `loa-live` CLI) goes out as signed Opus packets until they stop, hang up or fall silent.
 */
export const liveRoutes: FastifyPluginAsyncTypebox<LiveDeps> = async (app, deps) => {
  const { db } = deps;
  const view = (row: LiveSession) => liveSessionView(row, localBroadcast(row.id));

  app.post(
    '/live/sessions',
    {
      schema: {
        tags: ['live'],
        summary: 'Open live speech on areas or receivers (officials and emergency staff of every target)',
        body: OpenSessionBody,
        response: {
          201: Type.Object({
            session: LiveSessionView,
            audioUrl: Type.String({ description: 'The WebSocket the speaker sends audio on' }),
            onAirAt: Type.String({ format: 'date-time', description: 'Audio is taken from then on' }),
          }),
          409: ProblemSchema,
          422: ProblemSchema,
          503: ProblemSchema,
          ...Problems,
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      const input = request.body;
      const receiverIds = input.receiverIds ?? [];
      if (input.areaIds.length + receiverIds.length === 0)
        throw new Problem(400, 'Bad Request', 'name at least one area or receiver to speak to');
      await requireSpeakerScope(db, principal, input.areaIds, receiverIds);
      const broadcast = await openLiveSession(deps, principal, {
        kind: 'speech',
        title: input.title,
        priority: 'live',
        areaIds: input.areaIds,
        receiverIds,
        volume: input.volume,
        latencyMs: input.latencyMs,
        prelude: input.prelude,
        ...(input.language ? { language: input.language } : {}),
        createdById: principal.userId,
      });
      const row = await db.liveSession.findUniqueOrThrow({ where: { id: broadcast.id } });
      await audit(db, principal, 'open', undefined, row);
      return reply
        .status(201)
        .header('location', `/live/sessions/${row.id}`)
        .send({
          session: view(row),
          audioUrl: `/live/sessions/${row.id}/audio`,
          onAirAt: new Date(broadcast.onAirAt).toISOString(),
        });
    },
  );

  app.get(
    '/live/sessions',
    {
      schema: {
        tags: ['live'],
        summary: 'Live sessions reaching areas the caller covers, newest first',
        querystring: Type.Object({
          state: Type.Optional(LiveStateSchema),
          kind: Type.Optional(Type.Union([Type.Literal('speech'), Type.Literal('relay')])),
          limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
        }),
        response: { 200: Type.Object({ items: Type.Array(LiveSessionView) }), 401: ProblemSchema },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const { state, kind, limit } = request.query;
      const rows = await db.liveSession.findMany({
        where: { ...(state ? { state } : {}), ...(kind ? { kind } : {}) },
        orderBy: { openedAt: 'desc' },
        take: 500,
      });
      const paths = await pathsOfSessions(db, rows);
      return {
        items: rows
          .filter((_, i) => maySee(principal, paths[i] ?? []))
          .slice(0, limit)
          .map(view),
      };
    },
  );

  app.get(
    '/live/sessions/:id',
    {
      schema: {
        tags: ['live'],
        summary: 'One live session',
        params: IdParams,
        response: { 200: LiveSessionView, ...Problems },
      },
    },
    async (request) => view((await loadLiveSession(db, request.params.id, requirePrincipal(request.principal))).row),
  );

  app.post(
    '/live/sessions/:id/stop',
    {
      schema: {
        tags: ['live'],
        summary: 'End a live session now (its speaker, or emergency staff over everything it reaches)',
        params: IdParams,
        body: Type.Object(
          { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })) },
          { additionalProperties: false },
        ),
        response: { 200: LiveSessionView, 409: ProblemSchema, ...Problems },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const { row, paths } = await loadLiveSession(db, request.params.id, principal);
      if (!mayStop(principal, row, paths))
        throw forbidden('only the speaker, or emergency staff over every area it reaches, may stop a live session');
      const reason = request.body.reason ? `stopped: ${request.body.reason}` : 'stopped';
      await stopLiveSession(deps, principal, row, reason);
      const after = await db.liveSession.findUniqueOrThrow({ where: { id: row.id } });
      await audit(db, principal, 'stop', row, after);
      return view(after);
    },
  );

  app.get(
    '/live/sessions/:id/deliveries',
    {
      schema: {
        tags: ['live'],
        summary: 'Per-receiver delivery of a live session: acknowledged, started, finished, interrupted, missed',
        params: IdParams,
        querystring: Type.Object({
          state: Type.Optional(DeliveryStateSchema),
          limit: Type.Integer({ minimum: 1, maximum: 10_000, default: 1000 }),
        }),
        response: {
          200: Type.Object({
            total: Type.Integer(),
            counts: Type.Record(Type.String(), Type.Integer()),
            items: Type.Array(
              Type.Object({
                receiverId: Type.String(),
                name: Type.String(),
                village: Type.Object({ code: Type.String(), name: Type.String() }),
                online: Type.Boolean(),
                state: DeliveryStateSchema,
                reason: Type.Union([Type.String(), Type.Null()]),
                acknowledgedAt: Time,
                startedAt: Time,
                finishedAt: Time,
              }),
            ),
          }),
          ...Problems,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const { row } = await loadLiveSession(db, request.params.id, principal);
      const { state, limit } = request.query;
      const grouped = await db.liveDelivery.groupBy({ by: ['state'], where: { sessionId: row.id }, _count: true });
      const rows = await db.liveDelivery.findMany({
        where: { sessionId: row.id, ...(state ? { state } : {}) },
        orderBy: { receiverId: 'asc' },
        take: limit,
        include: {
          receiver: { select: { name: true, online: true, village: { select: { code: true, name: true } } } },
        },
      });
      const iso = (d: Date | null) => d?.toISOString() ?? null;
      return {
        total: grouped.reduce((n, g) => n + g._count, 0),
        counts: Object.fromEntries(grouped.map((g) => [g.state, g._count])),
        items: rows.map((d) => ({
          receiverId: d.receiverId,
          name: d.receiver.name,
          village: d.receiver.village,
          online: d.receiver.online,
          state: d.state,
          reason: d.reason,
          acknowledgedAt: iso(d.acknowledgedAt),
          startedAt: iso(d.startedAt),
          finishedAt: iso(d.finishedAt),
        })),
      };
    },
  );

  await app.register(liveAudioSocket, deps);
};
