import { priorityRank } from '@loa/protocols';
import type { Database } from '../database/client.js';
import type { Priority } from '../generated/prisma/client.js';
import type { Airtime } from './recurrence.js';

export interface Conflict {
  scheduleId: string;
  title: string;
  priority: Priority;
  startsAt: string;
  endsAt: string;
  receivers: number;
}

/**
 * Existing airtimes that a new schedule would collide with: same receivers, overlapping
 * in time, and of the same or lower priority (a higher-priority item is not a conflict:
 * it simply pre-empts). Reported before saving so the caller can decide.
 */
export async function findConflicts(
  db: Pick<Database, 'delivery'>,
  candidate: { airtimes: Airtime[]; receiverIds: string[]; priority: Priority; excludeScheduleId?: string },
): Promise<Conflict[]> {
  if (candidate.airtimes.length === 0 || candidate.receiverIds.length === 0) return [];
  const first = candidate.airtimes[0] as Airtime;
  const last = candidate.airtimes[candidate.airtimes.length - 1] as Airtime;
  const rows = await db.delivery.findMany({
    where: {
      receiverId: { in: candidate.receiverIds },
      state: { notIn: ['cancelled', 'missed', 'failed'] },
      occurrence: {
        status: 'planned',
        startsAt: { lt: last.endsAt },
        endsAt: { gt: first.startsAt },
        ...(candidate.excludeScheduleId ? { scheduleId: { not: candidate.excludeScheduleId } } : {}),
      },
    },
    select: {
      receiverId: true,
      occurrence: {
        select: { startsAt: true, endsAt: true, schedule: { select: { id: true, title: true, priority: true } } },
      },
    },
  });
  const rank = priorityRank(candidate.priority);
  const byOccurrence = new Map<string, Conflict>();
  for (const row of rows) {
    const o = row.occurrence;
    if (priorityRank(o.schedule.priority) > rank) continue;
    const overlaps = candidate.airtimes.some((a) => a.startsAt < o.endsAt && o.startsAt < a.endsAt);
    if (!overlaps) continue;
    const key = `${o.schedule.id}@${o.startsAt.toISOString()}`;
    const conflict = byOccurrence.get(key) ?? {
      scheduleId: o.schedule.id,
      title: o.schedule.title,
      priority: o.schedule.priority,
      startsAt: o.startsAt.toISOString(),
      endsAt: o.endsAt.toISOString(),
      receivers: 0,
    };
    conflict.receivers++;
    byOccurrence.set(key, conflict);
  }
  return [...byOccurrence.values()].sort((a, b) => a.startsAt.localeCompare(b.startsAt));
}
