import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ReceiverId } from '@loa/protocols';
import { Type } from '@sinclair/typebox';
import { requirePrincipal, requireScope } from '../access/scope.js';
import { recordAudit } from '../audit/audit-log.js';
import { issueReceiverCredentials } from '../broker/receiver-credentials.js';
import type { Database } from '../database/client.js';
import type { Prisma } from '../generated/prisma/client.js';
import { etagOf, requireCurrent } from '../http/etag.js';
import { notFound, Problem, ProblemSchema } from '../http/problem.js';
import { replanSchedulesReaching } from '../scheduling/replan.js';
import type { ScheduleChanged } from '../scheduling/schedule-routes.js';
import { ReceiverSchema, toReceiver } from './receiver-routes.js';

const Position = {
  latitude: Type.Number({ minimum: 8, maximum: 24, description: 'WGS 84; Vietnam lies within 8–24° N' }),
  longitude: Type.Number({ minimum: 102, maximum: 110, description: 'WGS 84; Vietnam lies within 102–110° E' }),
};
const Hardware = Type.Record(Type.String(), Type.Unknown(), { description: 'Model, amplifier, horns, as installed' });
const Problems = { 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema };

async function villageByCode(db: Database, code: string) {
  const village = await db.area.findUnique({ where: { code } });
  if (!village) throw notFound(`no area ${code}`);
  if (village.level !== 'village')
    throw new Problem(400, 'Bad Request', `area ${code} is a ${village.level}, not a village`);
  return village;
}

/**
 * Technicians install, move, enable and disable receivers. Each change re-plans the
 * schedules that reach the receiver (so a disabled one is not expected to play, and a new
 * one gets what its village airs) and re-provisions their targets.
 */
export const receiverChangeRoutes: FastifyPluginAsyncTypebox<{
  db: Database;
  now?: () => Date;
  onChanged?: ScheduleChanged;
}> = async (app, { db, now = () => new Date(), onChanged }) => {
  app.post(
    '/receivers',
    {
      schema: {
        tags: ['receivers'],
        summary: 'Register a receiver in a village; answers its MQTT credentials (the password is shown once)',
        body: Type.Object(
          {
            id: ReceiverId,
            name: Type.String({ minLength: 1, maxLength: 200 }),
            villageCode: Type.String(),
            ...Position,
            hardware: Type.Optional(Hardware),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            receiver: ReceiverSchema,
            credentials: Type.Object({ username: Type.String(), password: Type.String() }),
          }),
          ...Problems,
          409: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const input = request.body;
      const village = await villageByCode(db, input.villageCode);
      const principal = requireScope(request.principal, ['technician'], village);
      if (await db.receiver.findUnique({ where: { id: input.id } }))
        throw new Problem(409, 'Conflict', `receiver ${input.id} exists; choose another id, or issue new credentials`);
      const created = await db.$transaction(async (tx) => {
        const receiver = await tx.receiver.create({
          data: {
            id: input.id,
            name: input.name,
            villageId: village.id,
            latitude: input.latitude,
            longitude: input.longitude,
            hardware: (input.hardware ?? {}) as Prisma.InputJsonValue,
          },
          include: { village: true },
        });
        await recordAudit(tx, {
          actor: principal,
          action: 'create',
          entity: 'receiver',
          entityId: receiver.id,
          after: toReceiver(receiver),
        });
        return receiver;
      });
      const credentials = await issueReceiverCredentials(db, created.id);
      await onChanged?.(await replanSchedulesReaching(db, { id: created.id, villagePaths: [village.path] }, now()));
      const body = toReceiver(created);
      reply.header('etag', etagOf(body));
      return reply.status(201).send({ receiver: body, credentials });
    },
  );

  app.patch(
    '/receivers/:id',
    {
      schema: {
        tags: ['receivers'],
        summary: 'Rename, move, enable or disable a receiver (If-Match with its ETag)',
        params: Type.Object({ id: Type.String() }),
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            villageCode: Type.Optional(Type.String()),
            latitude: Type.Optional(Position.latitude),
            longitude: Type.Optional(Position.longitude),
            enabled: Type.Optional(Type.Boolean()),
            hardware: Type.Optional(Hardware),
          },
          { additionalProperties: false, minProperties: 1 },
        ),
        response: { 200: ReceiverSchema, ...Problems, 412: ProblemSchema },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      const before = await db.receiver.findUnique({ where: { id: request.params.id }, include: { village: true } });
      if (!before) throw notFound(`no receiver ${request.params.id}`);
      requireScope(principal, ['technician'], before.village);
      requireCurrent(request, etagOf(toReceiver(before)));
      const input = request.body;
      const village = input.villageCode ? await villageByCode(db, input.villageCode) : before.village;
      requireScope(principal, ['technician'], village);
      const after = await db.$transaction(async (tx) => {
        const updated = await tx.receiver.update({
          where: { id: before.id },
          data: {
            ...(input.name === undefined ? {} : { name: input.name }),
            ...(input.latitude === undefined ? {} : { latitude: input.latitude }),
            ...(input.longitude === undefined ? {} : { longitude: input.longitude }),
            ...(input.enabled === undefined ? {} : { enabled: input.enabled }),
            ...(input.hardware === undefined ? {} : { hardware: input.hardware as Prisma.InputJsonValue }),
            villageId: village.id,
          },
          include: { village: true },
        });
        await recordAudit(tx, {
          actor: principal,
          action: 'update',
          entity: 'receiver',
          entityId: before.id,
          before: toReceiver(before),
          after: toReceiver(updated),
        });
        return updated;
      });
      if (after.enabled !== before.enabled || after.villageId !== before.villageId) {
        const targets = await replanSchedulesReaching(
          db,
          { id: after.id, villagePaths: [before.village.path, village.path] },
          now(),
        );
        await onChanged?.(targets);
      }
      const body = toReceiver(after);
      reply.header('etag', etagOf(body));
      return body;
    },
  );
};
