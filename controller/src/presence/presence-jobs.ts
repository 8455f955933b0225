import { Queue, Worker } from 'bullmq';
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
  const connection = { url: options.redisUrl, maxRetriesPerRequest: null };
  const prefix = options.prefix ?? 'bull';
  const queue = new Queue(QUEUE, { connection, prefix });
  await queue.upsertJobScheduler(
    SCHEDULER_ID,
    { every: options.everyMs ?? 2000 },
    { name: 'sweep', opts: { removeOnComplete: 100, removeOnFail: 100 } },
  );
  const worker = new Worker(
    QUEUE,
    async () => {
      const ids = await flagSilentReceivers(options.db, new Date(), options.silenceMs);
      if (ids.length > 0) options.onOffline?.(ids);
      return { flagged: ids.length };
    },
    { connection, prefix },
  );
  return {
    async stop() {
      await worker.close();
      await queue.close();
    },
    queue,
  };
}
