import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal, requireScope, visiblePaths } from '../access/scope.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Database } from '../database/client.js';
import { PageQuery, page, pageArgs } from '../http/pagination.js';
import { notFound, Problem, ProblemSchema } from '../http/problem.js';
import { materialiseSchedule } from './horizon.js';
import {
  CheckResult,
  ConflictSchema,
  checkSchedule,
  refuseUnacceptedConflicts,
  ScheduleInput,
  scheduleData,
} from './schedule-check.js';

/** Schedules: checked for scope and conflicts before saving, then expanded over the horizon. */
export type ScheduleChanged = (targets: Array<{ areaId: string } | { receiverId: string }>) => Promise<void>;

export const scheduleRoutes: FastifyPluginAsyncTypebox<{
  db: Database;
  now?: () => Date;
  onChanged?: ScheduleChanged;
}> = async (app, { db, now = () => new Date(), onChanged }) => {
  app.post(
    '/schedules/check',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Check a schedule without saving: airtimes, receivers reached, conflicts',
        body: ScheduleInput,
        response: { 200: CheckResult, 400: ProblemSchema, 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema },
      },
    },
    async (request) => {
      const result = await checkSchedule(db, requirePrincipal(request.principal), request.body, now());
      return {
        airtimes: result.airtimes.length,
        receivers: result.targets.receiverIds.length,
        conflicts: result.conflicts,
      };
    },
  );

  app.post(
    '/schedules',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Create a schedule (409 with the conflicts unless acceptConflicts)',
        body: ScheduleInput,
        response: {
          201: Type.Object({
            id: Type.String(),
            occurrences: Type.Integer(),
            deliveries: Type.Integer(),
            conflicts: Type.Array(ConflictSchema),
          }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
          409: Type.Object({
            title: Type.String(),
            status: Type.Integer(),
            detail: Type.String(),
            conflicts: Type.Array(ConflictSchema),
          }),
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      const input = request.body;
      const at = now();
      const checked = await checkSchedule(db, principal, input, at);
      refuseUnacceptedConflicts(checked.conflicts, input.acceptConflicts);
      const schedule = await db.$transaction(async (tx) => {
        const created = await tx.schedule.create({
          data: {
            ...scheduleData(input, checked),
            createdById: principal.userId,
            targets: {
              create: [
                ...checked.targets.areas.map((a) => ({ areaId: a.id })),
                ...checked.targets.receivers.map((r) => ({ receiverId: r.id })),
              ],
            },
          },
          include: { targets: true },
        });
        await recordAudit(tx, {
          actor: principal,
          action: 'create',
          entity: 'schedule',
          entityId: created.id,
          after: created,
        });
        return created;
      });
      const counts = await materialiseSchedule(db, schedule.id, at);
      // Receivers get the changed schedule ahead of airtime (queued, retried).
      await onChanged?.([
        ...checked.targets.areas.map((a) => ({ areaId: a.id })),
        ...checked.targets.receivers.map((r) => ({ receiverId: r.id })),
      ]);
      return reply.status(201).send({ id: schedule.id, ...counts, conflicts: checked.conflicts });
    },
  );

  app.get(
    '/schedules',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Schedules owned by areas the caller may see',
        querystring: Type.Object({ ...PageQuery }),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                id: Type.String(),
                title: Type.String(),
                ownerAreaCode: Type.String(),
                rrule: Type.Union([Type.String(), Type.Null()]),
                startLocal: Type.String(),
                priority: Type.String(),
              }),
            ),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
          401: ProblemSchema,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const paths = visiblePaths(principal, ['official', 'emergency', 'technician']);
      const rows = await db.schedule.findMany({
        where: { ownerArea: { OR: paths.map((p) => ({ path: { startsWith: p } })) } },
        include: { ownerArea: { select: { code: true } } },
        orderBy: { id: 'asc' },
        ...pageArgs(request.query),
      });
      const result = page(rows, request.query.limit);
      return {
        items: result.items.map((s) => ({
          id: s.id,
          title: s.title,
          ownerAreaCode: s.ownerArea.code,
          rrule: s.rrule,
          startLocal: s.startLocal,
          priority: s.priority,
        })),
        nextCursor: result.nextCursor,
      };
    },
  );

  app.get(
    '/timeline',
    {
      schema: {
        tags: ['schedules'],
        summary: "A receiver's or an area's airtimes in a time range, with delivery states",
        querystring: Type.Object({
          receiver: Type.Optional(Type.String()),
          area: Type.Optional(Type.String()),
          from: Type.String({ format: 'date-time' }),
          to: Type.String({ format: 'date-time' }),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(
              Type.Object({
                occurrenceId: Type.String(),
                scheduleId: Type.String(),
                title: Type.String(),
                priority: Type.String(),
                startsAt: Type.String({ format: 'date-time' }),
                endsAt: Type.String({ format: 'date-time' }),
                deliveries: Type.Record(Type.String(), Type.Integer(), { description: 'Count per delivery state' }),
              }),
            ),
          }),
          400: ProblemSchema,
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const { receiver, area, from, to } = request.query;
      if (!receiver === !area) throw new Problem(400, 'Bad Request', 'give exactly one of receiver or area');
      const range = { from: new Date(from), to: new Date(to) };
      if (range.to.getTime() - range.from.getTime() > 31 * 86_400_000 || range.to <= range.from) {
        throw new Problem(400, 'Bad Request', 'the range must be positive and at most 31 days');
      }
      let deliveryWhere: object;
      if (receiver) {
        const r = await db.receiver.findUnique({ where: { id: receiver }, include: { village: true } });
        if (!r) throw notFound(`no receiver ${receiver}`);
        requireScope(principal, ['official', 'emergency', 'technician'], r.village);
        deliveryWhere = { receiverId: receiver };
      } else {
        const a = await db.area.findUnique({ where: { code: area } });
        if (!a) throw notFound(`no area ${area}`);
        requireScope(principal, ['official', 'emergency', 'technician'], a);
        deliveryWhere = { receiver: { village: { path: { startsWith: a.path } } } };
      }
      const occurrences = await db.occurrence.findMany({
        where: { startsAt: { gte: range.from, lt: range.to }, deliveries: { some: deliveryWhere } },
        include: {
          schedule: { select: { title: true, priority: true } },
          deliveries: { where: deliveryWhere, select: { state: true } },
        },
        orderBy: { startsAt: 'asc' },
        take: 5000,
      });
      return {
        items: occurrences.map((o) => ({
          occurrenceId: o.id,
          scheduleId: o.scheduleId,
          title: o.schedule.title,
          priority: o.schedule.priority,
          startsAt: o.startsAt.toISOString(),
          endsAt: o.endsAt.toISOString(),
          deliveries: o.deliveries.reduce<Record<string, number>>((acc, d) => {
            acc[d.state] = (acc[d.state] ?? 0) + 1;
            return acc;
          }, {}),
        })),
      };
    },
  );
};
