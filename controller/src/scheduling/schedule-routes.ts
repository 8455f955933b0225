import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { LanguageCodeSchema } from '@loa/protocols';
import { type Static, Type } from '@sinclair/typebox';
import type { Principal } from '../access/principal.js';
import { requirePrincipal, requireScope, visiblePaths } from '../access/scope.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Database } from '../database/client.js';
import type { Role } from '../generated/prisma/client.js';
import { decodeCursor, PageQuery, page } from '../http/pagination.js';
import { notFound, Problem, ProblemSchema } from '../http/problem.js';
import { findConflicts } from './conflicts.js';
import { DEFAULT_HORIZON_MS, materialiseSchedule } from './horizon.js';
import { isValidZone } from './local-time.js';
import { expandAirtimes, RecurrenceError } from './recurrence.js';
import { resolveTargets } from './targets.js';

const SCHEDULING_ROLES: readonly Role[] = ['official', 'emergency'];
const EMERGENCY_ROLES: readonly Role[] = ['emergency'];

const LocalTime = Type.String({
  pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2})?$',
  description: 'Local wall-clock time',
});

export const ScheduleInput = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    contentId: Type.String({ format: 'uuid' }),
    startLocal: LocalTime,
    timezone: Type.String({ default: 'Asia/Ho_Chi_Minh' }),
    rrule: Type.Optional(
      Type.String({ maxLength: 500, description: 'RFC 5545 RRULE without DTSTART, e.g. FREQ=WEEKLY;BYDAY=MO' }),
    ),
    exdates: Type.Array(LocalTime, { default: [], maxItems: 1000 }),
    validFrom: Type.Optional(Type.String({ format: 'date-time' })),
    validUntil: Type.Optional(Type.String({ format: 'date-time' })),
    durationMs: Type.Integer({ minimum: 1000, maximum: 24 * 3600_000 }),
    priority: Type.Union([Type.Literal('normal'), Type.Literal('priority'), Type.Literal('emergency')]),
    startMode: Type.Union([Type.Literal('hard'), Type.Literal('next'), Type.Literal('wait')]),
    waitS: Type.Optional(Type.Integer({ minimum: 0, maximum: 86400 })),
    volume: Type.Integer({ minimum: 0, maximum: 100 }),
    repeat: Type.Integer({ minimum: 1, maximum: 100, default: 1 }),
    prelude: Type.Union([Type.Literal('none'), Type.Literal('chime'), Type.Literal('siren')], { default: 'chime' }),
    languages: Type.Array(LanguageCodeSchema, {
      default: [],
      description: 'Empty: every language of the target village',
    }),
    targets: Type.Object(
      {
        areas: Type.Array(Type.String(), { default: [], maxItems: 500 }),
        receivers: Type.Array(Type.String(), { default: [], maxItems: 5000 }),
      },
      { additionalProperties: false },
    ),
    acceptConflicts: Type.Boolean({ default: false, description: 'Save even if conflicts are found' }),
  },
  { additionalProperties: false },
);
type ScheduleInput = Static<typeof ScheduleInput>;

const ConflictSchema = Type.Object({
  scheduleId: Type.String(),
  title: Type.String(),
  priority: Type.String(),
  startsAt: Type.String({ format: 'date-time' }),
  endsAt: Type.String({ format: 'date-time' }),
  receivers: Type.Integer(),
});
const CheckResult = Type.Object({
  airtimes: Type.Integer({ description: 'Airtimes within the horizon' }),
  receivers: Type.Integer(),
  conflicts: Type.Array(ConflictSchema),
});

/** Everything a new schedule must satisfy before it may be saved. */
async function check(db: Database, principal: Principal, input: ScheduleInput, now: Date) {
  if (input.targets.areas.length + input.targets.receivers.length === 0) {
    throw new Problem(400, 'Bad Request', 'give at least one target area or receiver');
  }
  if (!isValidZone(input.timezone)) throw new Problem(400, 'Bad Request', `unknown time zone ${input.timezone}`);
  if (input.startMode === 'wait' && input.waitS === undefined)
    throw new Problem(400, 'Bad Request', 'startMode wait needs waitS');
  const roles = input.priority === 'emergency' ? EMERGENCY_ROLES : SCHEDULING_ROLES;
  const content = await db.content.findUnique({ where: { id: input.contentId }, include: { ownerArea: true } });
  if (!content) throw notFound(`no content ${input.contentId}`);
  requireScope(principal, [...SCHEDULING_ROLES, 'technician'], content.ownerArea);
  const targets = await resolveTargets(db, input.targets);
  for (const area of targets.areas) requireScope(principal, roles, area);
  for (const receiver of targets.receivers) requireScope(principal, roles, receiver.village);
  const spec = {
    startLocal: input.startLocal,
    timezone: input.timezone,
    rrule: input.rrule ?? null,
    exdates: input.exdates,
    validFrom: input.validFrom ? new Date(input.validFrom) : null,
    validUntil: input.validUntil ? new Date(input.validUntil) : null,
    durationMs: input.durationMs,
  };
  let airtimes: ReturnType<typeof expandAirtimes>;
  try {
    airtimes = expandAirtimes(spec, now, new Date(now.getTime() + DEFAULT_HORIZON_MS));
  } catch (error) {
    if (error instanceof RecurrenceError) throw new Problem(400, 'Bad Request', error.message);
    throw error;
  }
  const conflicts = await findConflicts(db, { airtimes, receiverIds: targets.receiverIds, priority: input.priority });
  const ownerAreaId = (targets.areas[0]?.id ?? targets.receivers[0]?.village.id) as string;
  return { spec, airtimes, targets, conflicts, ownerAreaId };
}

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
      const result = await check(db, requirePrincipal(request.principal), request.body, now());
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
      const checked = await check(db, principal, input, at);
      if (checked.conflicts.length > 0 && !input.acceptConflicts) {
        throw new Problem(
          409,
          'Conflict',
          `${checked.conflicts.length} conflicting airtimes; resend with acceptConflicts to save anyway`,
          {
            conflicts: checked.conflicts,
          },
        );
      }
      const schedule = await db.$transaction(async (tx) => {
        const created = await tx.schedule.create({
          data: {
            title: input.title,
            contentId: input.contentId,
            ownerAreaId: checked.ownerAreaId,
            startLocal: input.startLocal,
            timezone: input.timezone,
            rrule: input.rrule ?? null,
            exdates: input.exdates,
            validFrom: checked.spec.validFrom,
            validUntil: checked.spec.validUntil,
            durationMs: input.durationMs,
            priority: input.priority,
            startMode: input.startMode,
            waitS: input.waitS ?? null,
            volume: input.volume,
            repeat: input.repeat,
            prelude: input.prelude,
            languages: input.languages,
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
      const cursor = decodeCursor(request.query.cursor);
      const rows = await db.schedule.findMany({
        where: { ownerArea: { OR: paths.map((p) => ({ path: { startsWith: p } })) } },
        include: { ownerArea: { select: { code: true } } },
        orderBy: { id: 'asc' },
        take: request.query.limit + 1,
        ...(cursor ? { cursor: { id: cursor }, skip: 1 } : {}),
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
