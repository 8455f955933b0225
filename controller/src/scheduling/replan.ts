import type { Database } from '../database/client.js';
import { type ProvisionTarget, provisionTargetsOf } from '../dispatch/provisioner.js';
import type { DeliveryState } from '../generated/prisma/client.js';
import { DEFAULT_HORIZON_MS, materialiseSchedule } from './horizon.js';
import { expandAirtimes } from './recurrence.js';
import { resolveTargets } from './targets.js';

/** Deliveries not yet begun on the receiver: a change may still cancel or redo them. */
export const NOT_BEGUN: DeliveryState[] = ['planned', 'provisioned', 'acknowledged'];

/**
 * Brings a schedule's future (after `now`) in line with its current definition after an
 * edit or withdrawal: airtimes that no longer exist are cancelled with their deliveries;
 * kept airtimes follow the new end and the new set of receivers, and their deliveries go
 * back to `planned` so the changed version is provisioned and acknowledged afresh; new
 * airtimes are materialised. Past and already-playing airtimes are history and untouched.
 */
export async function replanFuture(
  db: Database,
  scheduleId: string,
  now: Date,
  horizonMs = DEFAULT_HORIZON_MS,
): Promise<{ cancelled: number; kept: number; occurrences: number; deliveries: number }> {
  const schedule = await db.schedule.findUniqueOrThrow({
    where: { id: scheduleId },
    include: { targets: { include: { area: { select: { code: true } } } } },
  });
  const airtimes = schedule.enabled ? expandAirtimes(schedule, now, new Date(now.getTime() + horizonMs)) : [];
  const wanted = new Map(airtimes.map((a) => [a.startsAt.getTime(), a.endsAt]));
  const receiverIds = schedule.enabled
    ? (
        await resolveTargets(db, {
          areas: schedule.targets.flatMap((t) => (t.area ? [t.area.code] : [])),
          receivers: schedule.targets.flatMap((t) => (t.receiverId ? [t.receiverId] : [])),
        })
      ).receiverIds
    : [];
  const future = await db.occurrence.findMany({
    where: { scheduleId, status: 'planned', startsAt: { gt: now } },
    select: { id: true, startsAt: true, endsAt: true },
  });
  const gone = future.filter((o) => !wanted.has(o.startsAt.getTime()));
  const kept = future.filter((o) => wanted.has(o.startsAt.getTime()));
  await db.$transaction(async (tx) => {
    const goneIds = gone.map((o) => o.id);
    await tx.occurrence.updateMany({ where: { id: { in: goneIds } }, data: { status: 'cancelled' } });
    await tx.delivery.updateMany({
      where: { occurrenceId: { in: goneIds }, state: { in: NOT_BEGUN } },
      data: { state: 'cancelled', reason: schedule.enabled ? 'schedule changed' : 'schedule withdrawn' },
    });
    for (const o of kept) {
      const endsAt = wanted.get(o.startsAt.getTime()) as Date;
      if (endsAt.getTime() !== o.endsAt.getTime())
        await tx.occurrence.update({ where: { id: o.id }, data: { endsAt } });
    }
    const keptIds = kept.map((o) => o.id);
    await tx.delivery.updateMany({
      where: { occurrenceId: { in: keptIds }, state: { in: NOT_BEGUN }, receiverId: { notIn: receiverIds } },
      data: { state: 'cancelled', reason: 'no longer targeted' },
    });
    await tx.delivery.updateMany({
      where: {
        occurrenceId: { in: keptIds },
        receiverId: { in: receiverIds },
        OR: [{ state: { in: NOT_BEGUN } }, { state: 'cancelled', reason: 'no longer targeted' }],
      },
      data: { state: 'planned', reason: null, provisionedAt: null, acknowledgedAt: null },
    });
  });
  const added = await materialiseSchedule(db, scheduleId, now, horizonMs);
  return { cancelled: gone.length, kept: kept.length, ...added };
}

/**
 * Re-plans every enabled schedule that reaches a receiver through one of the given area
 * paths (any level) or directly, after the receiver was added, moved, enabled or
 * disabled; returns the targets to provision again.
 */
export async function replanSchedulesReaching(
  db: Database,
  receiver: { id: string; villagePaths: string[] },
  now: Date,
): Promise<ProvisionTarget[]> {
  const codes = [...new Set(receiver.villagePaths.flatMap((p) => p.split('/').filter(Boolean)))];
  const schedules = await db.schedule.findMany({
    where: {
      enabled: true,
      targets: { some: { OR: [{ area: { code: { in: codes } } }, { receiverId: receiver.id }] } },
    },
    select: { id: true, targets: true },
  });
  for (const s of schedules) await replanFuture(db, s.id, now);
  return provisionTargetsOf(schedules.flatMap((s) => s.targets));
}

/** The targets holding airtimes of a content item (to provision again after it changed). */
export async function targetsUsingContent(db: Database, contentId: string): Promise<ProvisionTarget[]> {
  const schedules = await db.schedule.findMany({
    where: { contentId, enabled: true },
    select: { targets: true },
  });
  return provisionTargetsOf(schedules.flatMap((s) => s.targets));
}
