import { type ConnectionOptions, type Job, Queue, Worker } from 'bullmq';

export interface Schedule {
  /** The job scheduler's id: one schedule in Redis however many instances upsert it. */
  id: string;
  /** The job name the worker sees. */
  name: string;
  /** Period; null removes the schedule (a feature switched off). */
  everyMs: number | null;
  /** Finished jobs kept for inspection (default 100). */
  keep?: number;
}

export interface ScheduledJobs {
  queue: Queue;
  stop(): Promise<void>;
}

/**
 * A BullMQ queue with periodic job schedulers and one worker: the shape of every
 * background sweep here (presence, horizon, escalation, CAP feeds). One schedule in
 * Redis however many controller instances start it, and one worker runs each tick.
 */
export async function startScheduledJobs(options: {
  queue: string;
  redisUrl: string;
  prefix?: string;
  schedules: Schedule[];
  run: (job: Job) => Promise<unknown>;
  onFailed?: (job: Job | undefined, error: Error) => void;
}): Promise<ScheduledJobs> {
  const connection = { url: options.redisUrl, maxRetriesPerRequest: null } as ConnectionOptions;
  const prefix = options.prefix ?? 'bull';
  const queue = new Queue(options.queue, { connection, prefix });
  for (const schedule of options.schedules) {
    if (schedule.everyMs === null) await queue.removeJobScheduler(schedule.id);
    else
      await queue.upsertJobScheduler(
        schedule.id,
        { every: schedule.everyMs },
        { name: schedule.name, opts: { removeOnComplete: schedule.keep ?? 100, removeOnFail: schedule.keep ?? 100 } },
      );
  }
  const worker = new Worker(options.queue, options.run, { connection, prefix });
  if (options.onFailed) worker.on('failed', options.onFailed);
  return {
    queue,
    async stop() {
      await worker.close();
      await queue.close();
    },
  };
}
