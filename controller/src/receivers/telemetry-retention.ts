import { startScheduledJobs } from '../background/scheduled-jobs.js';
import type { Database } from '../database/client.js';

const QUEUE = 'loa-telemetry';
const SCHEDULER_ID = 'telemetry-retention';
/** Rows deleted per statement: a long history goes in short transactions, not one huge one. */
const BATCH = 10_000;

/** Deletes telemetry samples taken before `before`; returns how many. */
export async function pruneTelemetry(db: Database, before: Date): Promise<number> {
  let deleted = 0;
  for (;;) {
    const count = await db.$executeRaw`
      DELETE FROM "TelemetrySample" WHERE id IN (
        SELECT id FROM "TelemetrySample" WHERE at < ${before} LIMIT ${BATCH}
      )`;
    deleted += count;
    if (count < BATCH) return deleted;
  }
}

/**
 * Deletes samples older than `retentionDays` every `everyMs` (default hourly) through a
 * BullMQ job scheduler: one schedule in Redis however many controller instances start it.
 */
export async function startTelemetryRetention(options: {
  db: Database;
  redisUrl: string;
  retentionDays: number;
  everyMs?: number;
  prefix?: string;
  now?: () => Date;
}) {
  const now = options.now ?? (() => new Date());
  return startScheduledJobs({
    queue: QUEUE,
    redisUrl: options.redisUrl,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    schedules: [{ id: SCHEDULER_ID, name: 'prune', everyMs: options.everyMs ?? 3600_000, keep: 50 }],
    run: async () => {
      const before = new Date(now().getTime() - options.retentionDays * 86_400_000);
      return { deleted: await pruneTelemetry(options.db, before), before: before.toISOString() };
    },
  });
}
