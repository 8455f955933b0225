import { type ScheduledJobs, startScheduledJobs } from '../background/scheduled-jobs.js';
import type { Database } from '../database/client.js';
import { type Escalation, escalateLateAlerts } from './escalation-sweep.js';

const QUEUE = 'loa-alert-escalation';
const SCHEDULER_ID = 'escalation-sweep';

export interface EscalationJobOptions {
  db: Database;
  redisUrl: string;
  prefix?: string;
  /** How often to look for late receivers (default 2 s). */
  everyMs?: number;
  /** POSTed each escalation as JSON; retried with backoff until it answers 2xx. */
  webhookUrl?: string;
  /** First retry delay of a failed webhook, doubling each time (default 5 s). */
  webhookBackoffMs?: number;
  onEscalated?: (escalation: Escalation) => void;
  log?: (message: string, detail: Record<string, unknown>) => void;
}

/**
 * The escalation sweep on a BullMQ job scheduler (one schedule however many instances
 * start it), and the webhook as jobs of their own, so a webhook that is down is tried
 * again (ten times, backing off from 5 s) without holding up the next sweep.
 */
export async function startEscalationJobs(options: EscalationJobOptions) {
  const jobs: ScheduledJobs = await startScheduledJobs({
    queue: QUEUE,
    redisUrl: options.redisUrl,
    ...(options.prefix ? { prefix: options.prefix } : {}),
    schedules: [{ id: SCHEDULER_ID, name: 'sweep', everyMs: options.everyMs ?? 2000 }],
    run: async (job) => {
      if (job.name === 'webhook') return postWebhook(options.webhookUrl ?? '', job.data as Escalation);
      const escalations = await escalateLateAlerts(options.db);
      for (const escalation of escalations) {
        options.onEscalated?.(escalation);
        if (escalation.receivers.length > 0)
          options.log?.('alert receivers escalated', {
            alertId: escalation.alertId,
            receivers: escalation.receivers.length,
          });
        if (options.webhookUrl && escalation.receivers.length > 0)
          await jobs.queue.add('webhook', escalation, {
            attempts: 10,
            backoff: { type: 'exponential', delay: options.webhookBackoffMs ?? 5000 },
            removeOnComplete: 100,
            removeOnFail: 1000,
          });
      }
      return { escalated: escalations.length };
    },
    onFailed: (job, error) => {
      if (job?.name === 'webhook')
        options.log?.('escalation webhook failed', { attempt: job.attemptsMade, error: error.message });
    },
  });
  return jobs;
}

async function postWebhook(url: string, escalation: Escalation): Promise<{ status: number }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ type: 'alert.escalation', ...escalation }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`webhook answered ${response.status}`);
  return { status: response.status };
}
