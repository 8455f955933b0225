import type { Database } from '../database/client.js';
import { NOT_BEGUN } from '../scheduling/replan.js';

/** The reason a delivery is marked missed when its receiver never reported playing it. */
export const NO_REPORT = 'no report by the end of the airtime';

/** Time a receiver has after an airtime ends to report it before it counts as missed. */
export const DEFAULT_REPORT_GRACE_MS = 5 * 60_000;

/**
 * Marks as missed every delivery whose airtime ended more than the grace ago without the
 * receiver reporting it started. A receiver that was offline may still report later from
 * its local log; the ingest lets such a report replace this verdict (see NO_REPORT).
 * Relay airtimes follow the same rule (their deliveries stay planned: nothing is
 * provisioned) once their live session has ended.
 */
export async function markMissedDeliveries(
  db: Database,
  now = new Date(),
  graceMs = DEFAULT_REPORT_GRACE_MS,
): Promise<Array<{ receiverId: string; occurrenceId: string }>> {
  // A relay airtime is streamed live by the controller: while its live session is still
  // open (started late, or ending after its window) the receivers may yet report it.
  const relaying = await db.liveSession.findMany({
    where: { kind: 'relay', state: { in: ['opening', 'on_air'] }, occurrenceId: { not: null } },
    select: { occurrenceId: true },
  });
  const overdue = await db.delivery.findMany({
    where: {
      state: { in: NOT_BEGUN },
      occurrence: { status: 'planned', endsAt: { lt: new Date(now.getTime() - graceMs) } },
      ...(relaying.length > 0 ? { occurrenceId: { notIn: relaying.map((r) => r.occurrenceId as string) } } : {}),
    },
    select: { id: true, receiverId: true, occurrenceId: true },
    take: 10_000,
  });
  if (overdue.length === 0) return [];
  // The state guard again in the update: a report that arrived meanwhile wins.
  await db.delivery.updateMany({
    where: { id: { in: overdue.map((d) => d.id) }, state: { in: NOT_BEGUN } },
    data: { state: 'missed', reason: NO_REPORT },
  });
  return overdue.map(({ receiverId, occurrenceId }) => ({ receiverId, occurrenceId }));
}
