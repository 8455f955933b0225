import { type ConnectionOptions, Queue, Worker } from 'bullmq';
import type { Provisioner, ProvisionTarget } from './provisioner.js';
import { targetKey } from './provisioner.js';

const QUEUE = 'loa-provision';
/** How long a running provision job is held by its instance without renewing its lock. */
const PROVISION_LOCK_MS = 10_000;

/**
 * Provisioning as BullMQ jobs: one job per target, deduplicated while waiting (ten
 * changes to a commune's schedule in a second send one provision) but run once more
 * after a change that arrives while the target's job is running, retried with backoff
 * when the broker is away, and kept in Redis so a controller restart loses nothing.
 */
export class ProvisionJobs {
  readonly queue: Queue;
  #worker: Worker | undefined;

  constructor(private readonly options: { redisUrl: string; prefix?: string }) {
    this.queue = new Queue(QUEUE, { connection: this.#connection(), prefix: options.prefix ?? 'bull' });
  }

  async enqueue(targets: ProvisionTarget[]): Promise<void> {
    await this.queue.addBulk(
      targets.map((target) => ({
        name: 'provision',
        data: { target },
        opts: {
          // A change while the target's job runs must not fold into it: that job may have
          // read the schedule before the change, so one more run is kept for afterwards.
          deduplication: { id: targetKey(target), keepLastIfActive: true },
          attempts: 8,
          backoff: { type: 'exponential', delay: 1000 },
          removeOnComplete: 1000,
          removeOnFail: 5000,
        },
      })),
    );
  }

  /** Starts working the queue (every controller instance may; each job runs once). */
  work(provisioner: Provisioner, onDone?: (result: Awaited<ReturnType<Provisioner['provision']>>) => void): void {
    this.#worker = new Worker(
      QUEUE,
      async (job) => {
        const result = await provisioner.provision(job.data.target as ProvisionTarget);
        onDone?.(result);
        return result;
      },
      {
        connection: this.#connection(),
        prefix: this.options.prefix ?? 'bull',
        // A job whose instance died (crash, SIGKILL, power cut) is found and run again
        // within seconds instead of BullMQ's default 30 s lock plus 30 s check interval.
        // Until then its target's later changes wait behind it. A provision takes well
        // under a second; the lock is renewed every half lock while it runs.
        lockDuration: PROVISION_LOCK_MS,
        stalledInterval: PROVISION_LOCK_MS / 2,
      },
    );
  }

  async close(): Promise<void> {
    await this.#worker?.close();
    await this.queue.close();
  }

  #connection(): ConnectionOptions {
    return { url: this.options.redisUrl, maxRetriesPerRequest: null } as ConnectionOptions;
  }
}
