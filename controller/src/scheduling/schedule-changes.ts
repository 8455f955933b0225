import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal, requireScope } from '../access/scope.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Database } from '../database/client.js';
import { provisionTargetsOf } from '../dispatch/provisioner.js';
import { etagOf, notModified, requireCurrent } from '../http/etag.js';
import { notFound, ProblemSchema } from '../http/problem.js';
import { replanFuture } from './replan.js';
import {
  ConflictSchema,
  checkSchedule,
  refuseUnacceptedConflicts,
  requireTargetScope,
  ScheduleInput,
  scheduleData,
} from './schedule-check.js';
import type { ScheduleChanged } from './schedule-routes.js';

const ScheduleView = Type.Object({
  id: Type.String(),
  title: Type.String(),
  contentId: Type.String(),
  ownerAreaCode: Type.String(),
  startLocal: Type.String(),
  timezone: Type.String(),
  rrule: Type.Union([Type.String(), Type.Null()]),
  exdates: Type.Array(Type.String()),
  validFrom: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  validUntil: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  durationMs: Type.Integer(),
  priority: Type.String(),
  startMode: Type.String(),
  waitS: Type.Union([Type.Integer(), Type.Null()]),
  volume: Type.Integer(),
  repeat: Type.Integer(),
  prelude: Type.String(),
  languages: Type.Array(Type.String()),
  relayUrl: Type.Union([Type.String(), Type.Null()], {
    description: 'The stream a relay rebroadcasts (null: not a relay; the content is then what airs)',
  }),
  deadAirS: Type.Union([Type.Integer(), Type.Null()], { description: 'Relay only: seconds that count as dead air' }),
  targets: Type.Object({ areas: Type.Array(Type.String()), receivers: Type.Array(Type.String()) }),
  enabled: Type.Boolean({ description: 'false once withdrawn' }),
  revision: Type.Integer({ description: 'Raised by every change' }),
  updatedAt: Type.String({ format: 'date-time' }),
});
const Replanned = Type.Object({
  cancelled: Type.Integer({ description: 'Future airtimes cancelled' }),
  kept: Type.Integer(),
  occurrences: Type.Integer({ description: 'Airtimes added' }),
  deliveries: Type.Integer({ description: 'Deliveries added' }),
});
const Problems = { 401: ProblemSchema, 403: ProblemSchema, 404: ProblemSchema };

const scheduleInclude = {
  ownerArea: true,
  targets: { include: { area: true, receiver: { include: { village: true } } } },
} as const;

async function loadSchedule(db: Database, id: string) {
  const schedule = await db.schedule.findUnique({ where: { id }, include: scheduleInclude });
  if (!schedule) throw notFound(`no schedule ${id}`);
  return schedule;
}
type LoadedSchedule = Awaited<ReturnType<typeof loadSchedule>>;

function view(s: LoadedSchedule) {
  return {
    id: s.id,
    title: s.title,
    contentId: s.contentId,
    ownerAreaCode: s.ownerArea.code,
    startLocal: s.startLocal,
    timezone: s.timezone,
    rrule: s.rrule,
    exdates: s.exdates,
    validFrom: s.validFrom?.toISOString() ?? null,
    validUntil: s.validUntil?.toISOString() ?? null,
    durationMs: s.durationMs,
    priority: s.priority,
    startMode: s.startMode,
    waitS: s.waitS,
    volume: s.volume,
    repeat: s.repeat,
    prelude: s.prelude,
    languages: s.languages,
    relayUrl: s.relayUrl,
    deadAirS: s.deadAirS,
    targets: {
      areas: s.targets.flatMap((t) => (t.area ? [t.area.code] : [])).sort(),
      receivers: s.targets.flatMap((t) => (t.receiverId ? [t.receiverId] : [])).sort(),
    },
    enabled: s.enabled,
    revision: s.revision,
    updatedAt: s.updatedAt.toISOString(),
  };
}

/** The caller must be allowed to schedule on every target the schedule has now. */
function requireCurrentTargets(principal: ReturnType<typeof requirePrincipal>, s: LoadedSchedule): void {
  requireTargetScope(principal, s.priority, {
    areas: s.targets.flatMap((t) => (t.area ? [t.area] : [])),
    receivers: s.targets.flatMap((t) => (t.receiver ? [t.receiver] : [])),
  });
}

/**
 * Reading, replacing and withdrawing one schedule. A change re-plans the future airtimes
 * and re-provisions every target it had or has, so receivers drop what was removed.
 * If-Match guards against overwriting someone else's change.
 */
export const scheduleChangeRoutes: FastifyPluginAsyncTypebox<{
  db: Database;
  now?: () => Date;
  onChanged?: ScheduleChanged;
}> = async (app, { db, now = () => new Date(), onChanged }) => {
  app.get(
    '/schedules/:id',
    {
      schema: {
        tags: ['schedules'],
        summary: 'One schedule (ETag; send If-None-Match to get 304 when unchanged)',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 200: ScheduleView, 304: Type.Null(), ...Problems },
      },
    },
    async (request, reply) => {
      const schedule = await loadSchedule(db, request.params.id);
      requireScope(request.principal, ['official', 'emergency', 'technician'], schedule.ownerArea);
      const body = view(schedule);
      if (notModified(request, reply, etagOf(body))) return reply.status(304).send(null);
      return body;
    },
  );

  app.put(
    '/schedules/:id',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Replace a schedule (If-Match with its ETag; 409 with the conflicts unless acceptConflicts)',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        body: ScheduleInput,
        response: {
          200: Type.Object({ schedule: ScheduleView, replanned: Replanned, conflicts: Type.Array(ConflictSchema) }),
          400: ProblemSchema,
          ...Problems,
          409: Type.Object({ title: Type.String(), status: Type.Integer(), detail: Type.String() }),
          412: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const principal = requirePrincipal(request.principal);
      const before = await loadSchedule(db, request.params.id);
      requireCurrentTargets(principal, before);
      requireCurrent(request, etagOf(view(before)));
      const at = now();
      const input = request.body;
      const checked = await checkSchedule(db, principal, input, at, before.id);
      refuseUnacceptedConflicts(checked.conflicts, input.acceptConflicts);
      await db.$transaction(async (tx) => {
        await tx.scheduleTarget.deleteMany({ where: { scheduleId: before.id } });
        await tx.schedule.update({
          where: { id: before.id },
          data: {
            ...scheduleData(input, checked),
            enabled: true,
            revision: { increment: 1 },
            targets: {
              create: [
                ...checked.targets.areas.map((a) => ({ areaId: a.id })),
                ...checked.targets.receivers.map((r) => ({ receiverId: r.id })),
              ],
            },
          },
        });
        await recordAudit(tx, {
          actor: principal,
          action: 'update',
          entity: 'schedule',
          entityId: before.id,
          before: view(before),
          after: { ...input, acceptConflicts: undefined },
        });
      });
      const replanned = await replanFuture(db, before.id, at);
      const after = await loadSchedule(db, before.id);
      await onChanged?.(provisionTargetsOf([...before.targets, ...after.targets]));
      const body = view(after);
      reply.header('etag', etagOf(body));
      return { schedule: body, replanned, conflicts: checked.conflicts };
    },
  );

  app.delete(
    '/schedules/:id',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Withdraw a schedule: its future airtimes are cancelled and receivers re-provisioned',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 200: Type.Object({ replanned: Replanned }), ...Problems, 412: ProblemSchema },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const before = await loadSchedule(db, request.params.id);
      requireCurrentTargets(principal, before);
      requireCurrent(request, etagOf(view(before)));
      await db.$transaction(async (tx) => {
        await tx.schedule.update({
          where: { id: before.id },
          data: { enabled: false, revision: { increment: 1 } },
        });
        await recordAudit(tx, {
          actor: principal,
          action: 'withdraw',
          entity: 'schedule',
          entityId: before.id,
          before: view(before),
        });
      });
      // History stays: past airtimes and their deliveries remain for reports.
      const replanned = await replanFuture(db, before.id, now());
      await onChanged?.(provisionTargetsOf(before.targets));
      return { replanned };
    },
  );
};
