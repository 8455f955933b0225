import type { Database } from '../database/client.js';
import { type ProvisionTarget, provisionTargetsOf } from './provisioner.js';

/** How long a receiver may take to acknowledge a provision before it is sent again. */
export const DEFAULT_ACK_TIMEOUT_MS = 5 * 60_000;

/**
 * Finds deliveries still waiting for their receiver's acknowledgement after the timeout,
 * for airtimes still to come, and queues their schedules' targets to be provisioned
 * again (a fresh signature and revision; receivers that already hold it just replace it).
 */
export async function resendUnacknowledged(
  db: Database,
  enqueue: (targets: ProvisionTarget[]) => Promise<void>,
  now = new Date(),
  timeoutMs = DEFAULT_ACK_TIMEOUT_MS,
): Promise<{ deliveries: number; targets: number }> {
  const waiting = await db.delivery.findMany({
    where: {
      state: 'provisioned',
      provisionedAt: { lt: new Date(now.getTime() - timeoutMs) },
      occurrence: { startsAt: { gt: now } },
    },
    select: { occurrence: { select: { schedule: { select: { targets: true } } } } },
  });
  const targets = provisionTargetsOf(waiting.flatMap((d) => d.occurrence.schedule.targets));
  if (targets.length > 0) await enqueue(targets);
  return { deliveries: waiting.length, targets: targets.length };
}
