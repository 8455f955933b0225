import { rm } from 'node:fs/promises';
import { type ConnectionOptions, type Job, Queue, QueueEvents, UnrecoverableError, Worker } from 'bullmq';
import type { JobActor } from './asset-intake.js';
import type { AudioJobResult, AudioJobState, AudioJobView, AudioWork } from './audio-work.js';
import { AudioRefusal } from './decoding/audio-refusal.js';

const QUEUE = 'loa-audio';

type JobData = AudioWork & { actor?: JobActor; refusal?: { reason: string; detail: string } };
type Stage = { stage: string; fraction: number };

/** Runs one job; reports progress; answers the asset made, or throws (AudioRefusal: no retry). */
export type AudioHandler = (
  work: AudioWork,
  actor: JobActor | undefined,
  progress: (p: Stage) => void,
) => Promise<AudioJobResult>;

/** Told of every change of a job's state or progress (the server sends it to the WebSocket). */
export type AudioJobListener = (view: AudioJobView, actor: JobActor | undefined) => void;

/** Progress is reported at most this often per job (plus every change of stage). */
const PROGRESS_EVERY_MS = 250;

/**
 * The audio work as BullMQ jobs: uploads to decode and normalise, texts to synthesise, the
 * tones. A refusal (a bad file) ends the job at once in state "refused" with its reason;
 * anything else (ffmpeg killed, a TTS service away, Redis hiccups) is retried with backoff
 * and ends "failed" only when the attempts are spent. Uploaded files are deleted once their
 * job is over, never between attempts.
 */
export class AudioJobs {
  readonly queue: Queue<JobData, AudioJobResult>;
  #worker: Worker<JobData, AudioJobResult> | undefined;
  #events: QueueEvents | undefined;
  readonly #prefix: string;

  constructor(private readonly options: { redisUrl: string; prefix?: string; attempts?: number }) {
    this.#prefix = options.prefix ?? 'bull';
    this.queue = new Queue(QUEUE, { connection: this.#connection(), prefix: this.#prefix });
  }

  /** Queues work; a `jobId` makes a repeat request of the same work join the queued job. */
  async add(work: AudioWork, actor?: JobActor, jobId?: string): Promise<AudioJobView> {
    const job = await this.queue.add(
      work.kind,
      { ...work, ...(actor ? { actor } : {}) },
      {
        ...(jobId ? { jobId } : {}),
        // Someone waiting (an upload, a preview) goes before work nobody watches (speech
        // queued at start-up for a province's backlog of text).
        priority: actor ? 1 : 10,
        attempts: this.options.attempts ?? 4,
        backoff: { type: 'exponential', delay: 2000 },
        removeOnComplete: { age: 7 * 86_400, count: 10_000 },
        removeOnFail: { age: 30 * 86_400 },
      },
    );
    let state = await job.getState();
    // Asked again after it failed (a missing engine since installed, a service back): once more.
    if (jobId && state === 'failed') {
      await job.updateData({ ...job.data, refusal: undefined } as JobData);
      await job.retry('failed');
      state = await job.getState();
    }
    return viewOf(job, state);
  }

  async view(id: string): Promise<{ view: AudioJobView; actor: JobActor | undefined } | undefined> {
    const job = await this.queue.getJob(id);
    if (!job) return undefined;
    return { view: viewOf(job, await job.getState()), actor: job.data.actor };
  }

  /** Waits up to `ms` for the job to finish; answers its view then (or as it is). */
  async waitFor(id: string, ms: number): Promise<AudioJobView | undefined> {
    this.#events ??= new QueueEvents(QUEUE, { connection: this.#connection(), prefix: this.#prefix });
    await this.#events.waitUntilReady();
    const job = await this.queue.getJob(id);
    if (!job) return undefined;
    try {
      await job.waitUntilFinished(this.#events, ms);
    } catch {
      // Failed, refused or still running: the view says which.
    }
    return (await this.view(id))?.view;
  }

  /** Starts working the queue (any instance may; each job runs once). */
  work(handler: AudioHandler, listener: AudioJobListener = () => {}, concurrency = 1): void {
    this.#worker = new Worker<JobData, AudioJobResult>(
      QUEUE,
      async (job) => {
        let last = 0;
        let lastStage = '';
        const progress = (p: Stage) => {
          const now = Date.now();
          if (p.stage === lastStage && now - last < PROGRESS_EVERY_MS) return;
          last = now;
          lastStage = p.stage;
          void job.updateProgress(p).catch(() => {});
          listener({ ...viewOf(job, 'active'), stage: p.stage, progress: p.fraction }, job.data.actor);
        };
        listener(viewOf(job, 'active'), job.data.actor);
        try {
          const result = await handler(job.data, job.data.actor, progress);
          await this.#cleanUp(job);
          return result;
        } catch (error) {
          if (!(error instanceof AudioRefusal)) {
            // The last attempt: its upload goes before the job is seen to fail.
            if (job.attemptsMade + 1 >= (job.opts.attempts ?? 1)) await this.#cleanUp(job);
            throw error;
          }
          await this.#cleanUp(job);
          await job.updateData({ ...job.data, refusal: { reason: error.reason, detail: error.detail } });
          throw new UnrecoverableError(error.detail);
        }
      },
      // Decoding and encoding use a core each; two-core servers keep one for the API.
      { connection: this.#connection(), prefix: this.#prefix, concurrency },
    );
    this.#worker.on('completed', (job) => {
      listener(viewOf(job, 'completed'), job.data.actor);
    });
    this.#worker.on('failed', (job, error) => {
      if (!job) return;
      const over = job.data.refusal !== undefined || job.attemptsMade >= (job.opts.attempts ?? 1);
      if (!over) return;
      listener(viewOf(job, job.data.refusal ? 'refused' : 'failed', error.message), job.data.actor);
    });
  }

  async #cleanUp(job: Job<JobData>): Promise<void> {
    if (job.data.kind === 'upload') await rm(job.data.path, { force: true });
  }

  async close(): Promise<void> {
    await this.#worker?.close();
    await this.#events?.close();
    await this.queue.close();
  }

  #connection(): ConnectionOptions {
    return { url: this.options.redisUrl, maxRetriesPerRequest: null } as ConnectionOptions;
  }
}

const STATES: Record<string, AudioJobState> = {
  waiting: 'queued',
  delayed: 'queued',
  prioritized: 'queued',
  'waiting-children': 'queued',
  active: 'active',
  completed: 'completed',
  failed: 'failed',
};

function viewOf(job: Job<JobData, AudioJobResult>, state: string, failure?: string): AudioJobView {
  const refusal = job.data.refusal;
  const resolved: AudioJobState =
    state === 'failed' && refusal ? 'refused' : (STATES[state] ?? (state as AudioJobState));
  const p = job.progress as Partial<Stage> | number | undefined;
  const finished = resolved === 'completed' || resolved === 'refused' || resolved === 'failed';
  return {
    id: String(job.id),
    kind: job.data.kind,
    state: resolved,
    stage: typeof p === 'object' && p ? (p.stage ?? null) : null,
    progress: resolved === 'completed' ? 1 : typeof p === 'object' && p ? (p.fraction ?? 0) : 0,
    sha256: job.returnvalue?.sha256 || null,
    reason: refusal?.reason ?? (resolved === 'failed' ? 'failed' : null),
    detail: refusal?.detail ?? (resolved === 'failed' ? (failure ?? job.failedReason ?? null) : null),
    attempts: job.attemptsMade,
    createdAt: new Date(job.timestamp).toISOString(),
    finishedAt: finished && job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
  };
}
