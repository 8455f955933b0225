import type { Database } from '../database/client.js';
import { NOT_STARTED } from './alert-deliveries.js';

export interface EscalatedReceiver {
  receiverId: string;
  name: string;
  village: { code: string; name: string };
  state: string;
  reason: string | null;
}

export interface Escalation {
  alertId: string;
  identifier: string;
  status: string;
  headline: Record<string, string>;
  issuedAt: string;
  escalatedAt: string;
  receivers: EscalatedReceiver[];
}

/**
 * Escalates every issued alert whose time to start has passed: its receivers that have
 * not started (unreachable — those that never acknowledged become so now — or delivered
 * but silent) are marked, once, for phone follow-up. Safe from any instance at any time: each alert is claimed by a guarded
 * update, so two sweeps never escalate it twice.
 */
export async function escalateLateAlerts(db: Database, now = new Date()): Promise<Escalation[]> {
  const due = await db.alert.findMany({
    where: { state: 'issued', escalatedAt: null, escalateAfterS: { not: null }, issuedAt: { not: null } },
    select: { id: true, issuedAt: true, escalateAfterS: true },
  });
  const escalations: Escalation[] = [];
  for (const candidate of due) {
    const issuedAt = candidate.issuedAt as Date;
    if (issuedAt.getTime() + (candidate.escalateAfterS ?? 0) * 1000 > now.getTime()) continue;
    const claimed = await db.alert.updateMany({
      where: { id: candidate.id, escalatedAt: null },
      data: { escalatedAt: now },
    });
    if (claimed.count === 0) continue;
    const alert = await db.alert.findUniqueOrThrow({ where: { id: candidate.id } });
    // Online when issued, yet no answer in all that time: as good as unreachable.
    await db.alertDelivery.updateMany({
      where: { alertId: alert.id, state: 'pending' },
      data: { state: 'unreachable', reason: `no acknowledgement within ${candidate.escalateAfterS} s` },
    });
    const late = await db.alertDelivery.findMany({
      where: { alertId: alert.id, state: { in: NOT_STARTED } },
      select: {
        id: true,
        state: true,
        reason: true,
        receiver: { select: { id: true, name: true, village: { select: { code: true, name: true } } } },
      },
      orderBy: { receiverId: 'asc' },
    });
    if (late.length > 0)
      await db.alertDelivery.updateMany({ where: { id: { in: late.map((d) => d.id) } }, data: { escalatedAt: now } });
    escalations.push({
      alertId: alert.id,
      identifier: alert.identifier,
      status: alert.status,
      headline: alert.headline as Record<string, string>,
      issuedAt: issuedAt.toISOString(),
      escalatedAt: now.toISOString(),
      receivers: late.map((d) => ({
        receiverId: d.receiver.id,
        name: d.receiver.name,
        village: d.receiver.village,
        state: d.state,
        reason: d.reason,
      })),
    });
  }
  return escalations;
}
