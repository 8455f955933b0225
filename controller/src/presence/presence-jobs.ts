import { startScheduledJobs } from '../background/scheduled-jobs.js';
import type { Database } from '../database/client.js';
import { flagSilentReceivers } from './offline-sweep.js';

const QUEUE = 'loa-presence';
const SCHEDULER_ID = 'offline-sweep';

/**
 * Runs the offline sweep every `everyMs` through a BullMQ job scheduler: one schedule in
 * Redis however many controller instances start it, and one worker runs each tick.
 */
export async function startPresenceJobs(options: {
  db: Database;
  redisUrl: string;
  everyMs?: number;
  silenceMs?: number;
  onOffline?: (ids: string[]) => void;
  prefix?: string;
}) {
  return startScheduledJobs({
    queue: QUEUE,
    redisUrl: options.redisUrl,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    schedules: [{ id: SCHEDULER_ID, name: 'sweep', everyMs: options.everyMs ?? 2000 }],
    run: async () => {
      const ids = await flagSilentReceivers(options.db, new Date(), options.silenceMs);
      if (ids.length > 0) options.onOffline?.(ids);
      return { flagged: ids.length };
    },
  });
}
