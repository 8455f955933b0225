import type { Database } from '../database/client.js';
import { expandAirtimes } from './recurrence.js';
import { resolveTargets } from './targets.js';

export const DEFAULT_HORIZON_MS = 7 * 86_400_000;

/**
 * Materialises a schedule's occurrences over [now, now + horizon) and one planned
 * delivery per reached receiver. Idempotent: existing occurrences and deliveries are
 * kept (unique keys), so rolling the horizon forward or re-running after a crash
 * neither loses nor duplicates anything. Returns how many rows were created.
 */
export async function materialiseSchedule(
  db: Database,
  scheduleId: string,
  now = new Date(),
  horizonMs = DEFAULT_HORIZON_MS,
): Promise<{ occurrences: number; deliveries: number }> {
  const schedule = await db.schedule.findUniqueOrThrow({
    where: { id: scheduleId },
    include: { targets: { include: { area: { select: { code: true } } } } },
  });
  if (!schedule.enabled) return { occurrences: 0, deliveries: 0 };
  const airtimes = expandAirtimes(schedule, now, new Date(now.getTime() + horizonMs));
  const targets = await resolveTargets(db, {
    areas: schedule.targets.flatMap((t) => (t.area ? [t.area.code] : [])),
    receivers: schedule.targets.flatMap((t) => (t.receiverId ? [t.receiverId] : [])),
  });
  let occurrences = 0;
  let deliveries = 0;
  for (const airtime of airtimes) {
    const created = await db.occurrence.createMany({
      data: [{ scheduleId, startsAt: airtime.startsAt, endsAt: airtime.endsAt }],
      skipDuplicates: true,
    });
    occurrences += created.count;
    const occurrence = await db.occurrence.findUniqueOrThrow({
      where: { scheduleId_startsAt: { scheduleId, startsAt: airtime.startsAt } },
    });
    if (occurrence.status !== 'planned') continue;
    const d = await db.delivery.createMany({
      data: targets.receiverIds.map((receiverId) => ({ occurrenceId: occurrence.id, receiverId })),
      skipDuplicates: true,
    });
    deliveries += d.count;
  }
  return { occurrences, deliveries };
}
