import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { requirePrincipal } from '../access/scope.js';
import { recordAudit } from '../audit/audit-log.js';
import type { Database } from '../database/client.js';
import { type CommandDeps, commandTargetsOf, sendImmediate } from '../dispatch/immediate-commands.js';
import { provisionTargetsOf } from '../dispatch/provisioner.js';
import { notFound, Problem, ProblemSchema } from '../http/problem.js';
import { NOT_BEGUN } from './replan.js';
import { requireTargetScope } from './schedule-check.js';
import type { ScheduleChanged } from './schedule-routes.js';

/**
 * Cancelling one airtime. Receivers that hold it are re-provisioned without it; if it is
 * on air right now, a signed stop for that item goes out at once as well.
 */
export const occurrenceRoutes: FastifyPluginAsyncTypebox<{
  db: Database;
  now?: () => Date;
  onChanged?: ScheduleChanged;
  commands?: CommandDeps;
}> = async (app, { db, now = () => new Date(), onChanged, commands }) => {
  app.post(
    '/occurrences/:id/cancel',
    {
      schema: {
        tags: ['schedules'],
        summary: 'Cancel one airtime of a schedule (stopped at once if it is on air)',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        body: Type.Object({ reason: Type.Optional(Type.String({ maxLength: 500 })) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            cancelledDeliveries: Type.Integer(),
            stopCommands: Type.Array(Type.String(), { description: 'Ids of the stop commands sent (if on air)' }),
          }),
          401: ProblemSchema,
          403: ProblemSchema,
          404: ProblemSchema,
          409: ProblemSchema,
        },
      },
    },
    async (request) => {
      const principal = requirePrincipal(request.principal);
      const occurrence = await db.occurrence.findUnique({
        where: { id: request.params.id },
        include: {
          schedule: { include: { targets: { include: { area: true, receiver: { include: { village: true } } } } } },
        },
      });
      if (!occurrence) throw notFound(`no occurrence ${request.params.id}`);
      const { schedule } = occurrence;
      const areas = schedule.targets.flatMap((t) => (t.area ? [t.area] : []));
      const receivers = schedule.targets.flatMap((t) => (t.receiver ? [t.receiver] : []));
      requireTargetScope(principal, schedule.priority, { areas, receivers });
      const at = now();
      if (occurrence.status === 'cancelled') throw new Problem(409, 'Conflict', 'this airtime is already cancelled');
      if (occurrence.endsAt <= at) throw new Problem(409, 'Conflict', 'this airtime is over; nothing to cancel');
      const reason = request.body.reason ?? `cancelled by ${principal.username}`;
      const cancelled = await db.$transaction(async (tx) => {
        await tx.occurrence.update({ where: { id: occurrence.id }, data: { status: 'cancelled' } });
        const moved = await tx.delivery.updateMany({
          where: { occurrenceId: occurrence.id, state: { in: NOT_BEGUN } },
          data: { state: 'cancelled', reason },
        });
        await recordAudit(tx, {
          actor: principal,
          action: 'cancel',
          entity: 'occurrence',
          entityId: occurrence.id,
          before: { status: occurrence.status },
          after: { status: 'cancelled', reason },
        });
        return moved.count;
      });
      const stopCommands: string[] = [];
      if (occurrence.startsAt <= at && commands) {
        for (const target of commandTargetsOf({ areas, receivers })) {
          const sent = await sendImmediate(commands, principal, {
            kind: 'stop',
            target,
            body: { itemId: occurrence.id, reason: reason.slice(0, 200) },
          });
          stopCommands.push(sent.id);
        }
      }
      await onChanged?.(provisionTargetsOf(schedule.targets));
      return { cancelledDeliveries: cancelled, stopCommands };
    },
  );
};
