import { startScheduledJobs } from '../background/scheduled-jobs.js';
import type { Database } from '../database/client.js';
import { markMissedDeliveries } from '../deliveries/missed-sweep.js';
import { type ProvisionTarget, provisionTargetsOf } from '../dispatch/provisioner.js';
import { resendUnacknowledged } from '../dispatch/resend.js';
import { materialiseSchedule } from './horizon.js';

const QUEUE = 'loa-horizon';

/**
 * Rolls the horizon forward: materialises every enabled schedule up to now + 7 days and
 * re-provisions every target, so receivers always hold the coming week. Idempotent, so
 * running it again (or on two instances) adds nothing twice.
 */
export async function rollHorizon(
  db: Database,
  enqueue: (targets: ProvisionTarget[]) => Promise<void>,
  now = new Date(),
) {
  const schedules = await db.schedule.findMany({ where: { enabled: true }, select: { id: true, targets: true } });
  let occurrences = 0;
  for (const s of schedules) occurrences += (await materialiseSchedule(db, s.id, now)).occurrences;
  const targets = provisionTargetsOf(schedules.flatMap((s) => s.targets));
  await enqueue(targets);
  return { schedules: schedules.length, occurrences, targets: targets.length };
}

/**
 * Runs rollHorizon every `everyMs` (default hourly), and the resend check and the missed
 * sweep every minute, through BullMQ job schedulers (one schedule however many instances).
 */
export async function startHorizonJobs(options: {
  db: Database;
  redisUrl: string;
  enqueue: (targets: ProvisionTarget[]) => Promise<void>;
  everyMs?: number;
  prefix?: string;
  onMissed?: (missed: Array<{ receiverId: string; occurrenceId: string }>) => void;
}) {
  return startScheduledJobs({
    queue: QUEUE,
    redisUrl: options.redisUrl,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    schedules: [
      { id: 'roll-forward', name: 'roll', everyMs: options.everyMs ?? 3600_000, keep: 50 },
      // Provisions not acknowledged in time are sent again.
      { id: 'resend', name: 'resend', everyMs: 60_000, keep: 50 },
      // Airtimes over without a report from their receiver become `missed`.
      { id: 'missed', name: 'missed', everyMs: 60_000, keep: 50 },
    ],
    run: async (job) => {
      if (job.name === 'resend') return resendUnacknowledged(options.db, options.enqueue);
      if (job.name === 'missed') {
        const missed = await markMissedDeliveries(options.db);
        if (missed.length > 0) options.onMissed?.(missed);
        return { missed: missed.length };
      }
      return rollHorizon(options.db, options.enqueue);
    },
  });
}
