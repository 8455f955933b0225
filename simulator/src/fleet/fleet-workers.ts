import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { TrustedKey } from '@loa/protocols';
import type { LivePacketCounts } from '../faults/live-packet-loss.js';
import type { LiveRecord } from './live-record.js';
import { PlayLog } from './play-log.js';
import type { PlayRecord } from './recording-renderer.js';
import type { VirtualReceiverSpec } from './virtual-receiver.js';
import {
  isWorkerEvent,
  type WorkerCalls,
  type WorkerEvent,
  type WorkerMemory,
  type WorkerOp,
  type WorkerRequest,
} from './worker-messages.js';

export type { WorkerMemory } from './worker-messages.js';

export interface FleetWorkersOptions {
  /** Worker processes; default min(os.availableParallelism(), ceil(N / 500)), at least 1 (and at most N). */
  processes?: number;
  settings: {
    mqttUrl: string;
    controllerUrl: string;
    trustedKeys: TrustedKey[];
    heartbeatMs?: number;
    /** Each receiver's live sessions are written as `<dir>/<sessionId>/<receiverId>.wav` (the workers write them). */
    liveWavDir?: string;
    /** Share of live packets each receiver's link loses, 0 to 1 (changed later with setLivePacketLoss). */
    livePacketLoss?: number;
  };
  /** Every LiveRecord from every worker, as each session ends on each receiver. */
  onLive?: (record: LiveRecord) => void;
  /** Every PlayRecord from every worker, as it happens: a partial one (no endedAt) at the first sound, then the final one. */
  onPlay?: (record: PlayRecord) => void;
  /** The agents' log lines; off unless given (there are many). */
  onLog?: (receiverId: string, message: string, detail?: Record<string, unknown>) => void;
  /** A worker died without being asked to stop: its receivers are gone (also recorded in `crashes`). */
  onCrash?: (crash: FleetWorkerCrash) => void;
}

export interface FleetWorkersStartOptions extends FleetWorkersOptions {
  /** Receivers started so far, over all workers, of the total. */
  onProgress?: (started: number, total: number) => void;
  /** Receivers each worker starts at once (Fleet.start's concurrency); default 20. */
  concurrency?: number;
}

/** Counts over all workers, asked fresh. */
export interface FleetStatus {
  /** Receivers given to the fleet. */
  receivers: number;
  /** Running (not powered off). */
  running: number;
  poweredOff: number;
  /** With an established MQTT session. */
  online: number;
  /** Clock-synced (a good sync that is not stale). */
  synced: number;
  /** Having completed a clock sync at or after `syncedSince` (true time, ms), when asked. */
  syncedSince?: number;
  processes: number;
}

export interface RawSubscribers {
  /** Clients subscribed. */
  subscribed: number;
  /** True arrival times (Date.now() in the worker) of every message every client received so far. */
  arrivals(): Promise<number[]>;
  close(): Promise<void>;
}

/** A worker process that died without being asked to stop, with the receivers it ran. */
export class FleetWorkerCrash extends Error {
  constructor(
    readonly pid: number,
    readonly receiverIds: readonly string[],
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderr: string,
  ) {
    super(
      `fleet worker pid ${pid} died (${signal ? `signal ${signal}` : `exit code ${code}`}) with ${receiverIds.length} receivers` +
        (stderr ? `; its last words: ${stderr.slice(-2000)}` : ''),
    );
    this.name = 'FleetWorkerCrash';
  }
}

/** The fleet is not whole: some workers crashed (see `crashes`). */
export class FleetWorkersError extends Error {
  constructor(readonly crashes: readonly FleetWorkerCrash[]) {
    const lost = crashes.reduce((n, c) => n + c.receiverIds.length, 0);
    super(
      `${crashes.length} fleet worker(s) crashed, ${lost} receivers lost: ${crashes.map((c) => c.message).join(' | ')}`,
    );
    this.name = 'FleetWorkersError';
  }
}

/** How long a worker may take to load and say ready. */
const READY_TIMEOUT_MS = 60_000;
/** How long a worker may take to stop its receivers (each says goodbye) and exit. */
const STOP_TIMEOUT_MS = 30_000;
/** Worker stderr kept for a crash report. */
const STDERR_TAIL_CHARS = 8000;

/** How a worker is started: the TypeScript source under tsx, or the compiled one under plain node. */
/** SIM_WORKER_CPU_PROF=<dir>: each worker writes a V8 CPU profile there when it exits (for benchmarks' profiles). */
function profiling(): string[] {
  const dir = process.env.SIM_WORKER_CPU_PROF;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [];
}

function workerLaunch(): { modulePath: string; execArgv: string[] } {
  const here = import.meta.url;
  if (!new URL(here).pathname.endsWith('.ts'))
    return { modulePath: fileURLToPath(new URL('./fleet-worker.js', here)), execArgv: profiling() };
  let tsx = 'tsx';
  try {
    tsx = pathToFileURL(createRequire(here).resolve('tsx')).href;
  } catch {
    // left to Node's resolution from the working directory
  }
  return {
    modulePath: fileURLToPath(new URL('./fleet-worker.ts', here)),
    // `source`: workspace packages (@loa/edge-agent, @loa/protocols) resolve to src/index.ts.
    execArgv: ['--conditions=source', '--import', tsx, ...profiling()],
  };
}

export function defaultProcesses(receivers: number): number {
  return Math.max(1, Math.min(availableParallelism(), Math.ceil(receivers / 500)));
}

interface Pending {
  op: WorkerOp;
  resolve: (value: unknown) => void;
  reject: (error: Error) => void;
}

class Worker {
  readonly pending = new Map<number, Pending>();
  started = 0;
  stderr = '';
  /** Set once the process is gone. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** It answered stop: its exit is the expected one. */
  stopAnswered = false;
  /** We killed it ourselves (a failed start, a stop that took too long). */
  killedBecause: string | undefined;
  crash: FleetWorkerCrash | undefined;
  readonly ready: Promise<void>;
  readonly closed: Promise<void>;
  markReady!: () => void;
  markClosed!: () => void;

  constructor(
    readonly child: ChildProcess,
    readonly specs: readonly VirtualReceiverSpec[],
  ) {
    const closed = new Promise<void>((resolve) => {
      this.markClosed = resolve;
    });
    this.closed = closed;
    this.ready = new Promise<void>((resolve, reject) => {
      this.markReady = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        reject(new Error(`fleet worker pid ${child.pid} did not start within ${READY_TIMEOUT_MS} ms`));
      }, READY_TIMEOUT_MS);
      void closed.then(() => {
        clearTimeout(timer);
        reject(this.crash ?? new Error(`fleet worker pid ${child.pid} exited before it was ready: ${this.stderr}`));
      });
    });
    // Unobserved rejections (a worker that dies later) are reported through calls and crashes.
    this.ready.catch(() => {});
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }
}

/**
 * A virtual fleet over several worker processes: the receiver specs are dealt round-robin
 * over K children (child_process.fork, IPC with advanced serialization), each running a
 * Fleet for its share, and presented as one fleet. A worker that dies unasked is never
 * lost quietly: its pending calls reject, `onCrash` hears of it, and `status()` (and every
 * other fleet-wide call) rejects with a FleetWorkersError until the fleet is stopped.
 * The workers never outlive the parent: they are killed when it exits, and leave by
 * themselves when the IPC channel closes (a parent killed outright).
 */
export class FleetWorkers {
  readonly #plays = new PlayLog();
  readonly #lives: LiveRecord[] = [];
  /** Workers that died without being asked to stop. */
  readonly crashes: FleetWorkerCrash[] = [];
  readonly #workers: Worker[] = [];
  readonly #owner = new Map<string, Worker>();
  #seq = 0;
  #stopping: Promise<void> | undefined;
  #onProgress: ((started: number, total: number) => void) | undefined;

  private constructor(
    private readonly o: FleetWorkersOptions,
    private readonly total: number,
  ) {
    process.on('exit', this.#killAll);
  }

  static async start(specs: readonly VirtualReceiverSpec[], options: FleetWorkersStartOptions): Promise<FleetWorkers> {
    const seen = new Set<string>();
    for (const spec of specs) {
      if (seen.has(spec.receiverId)) throw new Error(`receiver ${spec.receiverId} is listed twice`);
      seen.add(spec.receiverId);
    }
    const wanted = options.processes ?? defaultProcesses(specs.length);
    if (!Number.isInteger(wanted) || wanted < 1) throw new Error(`processes must be a positive integer, not ${wanted}`);
    // No receivers: workers only for probes (raw subscribers for a benchmark's baseline).
    const k = specs.length === 0 ? wanted : Math.min(wanted, specs.length);
    const slices: VirtualReceiverSpec[][] = Array.from({ length: k }, () => []);
    specs.forEach((spec, i) => {
      slices[i % k]?.push(spec);
    });

    const fleet = new FleetWorkers(options, specs.length);
    fleet.#onProgress = options.onProgress;
    const { mqttUrl, controllerUrl, trustedKeys, heartbeatMs, liveWavDir, livePacketLoss } = options.settings;
    const settings = {
      mqttUrl,
      controllerUrl,
      trustedKeys,
      ...(heartbeatMs !== undefined ? { heartbeatMs } : {}),
      ...(liveWavDir !== undefined ? { liveWavDir } : {}),
      ...(livePacketLoss !== undefined ? { livePacketLoss } : {}),
    };
    const launch = workerLaunch();
    try {
      // All forked at once (map runs each spawn before the first await), then each starts its share.
      await Promise.all(
        slices.map(async (slice) => {
          const worker = fleet.#spawn(launch, slice);
          await worker.ready;
          await fleet.#call(worker, 'start', {
            specs: slice,
            settings,
            concurrency: options.concurrency ?? 20,
            forwardLogs: options.onLog !== undefined,
          });
        }),
      );
    } catch (error) {
      await fleet.#abandon('the fleet failed to start');
      throw error;
    }
    fleet.#onProgress = undefined;
    return fleet;
  }

  /** One record per sounding (receiver, item, start) over all workers: partial while it plays, final once it ended. */
  get plays(): readonly PlayRecord[] {
    return this.#plays.records;
  }

  /** One record per live session per receiver, over all workers, as each ended there. */
  get lives(): readonly LiveRecord[] {
    return this.#lives;
  }

  /**
   * Sets the share of live packets every receiver's link loses, from the next packet on;
   * answers the packets passed and dropped so far over the whole fleet.
   */
  async setLivePacketLoss(fraction: number): Promise<LivePacketCounts> {
    if (!(fraction >= 0 && fraction <= 1))
      throw new RangeError(`live packet loss must be a fraction from 0 to 1, not ${fraction}`);
    const counts = await this.#everyWorker('livePacketLoss', { fraction });
    return counts.reduce((sum, c) => ({ passed: sum.passed + c.passed, dropped: sum.dropped + c.dropped }), {
      passed: 0,
      dropped: 0,
    });
  }

  /** The workers' process ids. */
  get pids(): number[] {
    return this.#workers.map((w) => w.pid);
  }

  /** The process a receiver runs in. */
  pidOf(receiverId: string): number | undefined {
    return this.#owner.get(receiverId)?.pid;
  }

  /** Counts across workers, asked fresh; `syncedSince` also counts clock syncs completed at/after that true time. */
  async status(query: { syncedSince?: number } = {}): Promise<FleetStatus> {
    const parts = await this.#everyWorker(
      'status',
      query.syncedSince !== undefined ? { syncedSince: query.syncedSince } : {},
    );
    const sum = (pick: (s: WorkerCalls['status']['result']) => number) => parts.reduce((n, s) => n + pick(s), 0);
    const running = sum((s) => s.running);
    return {
      receivers: this.total,
      running,
      poweredOff: sum((s) => s.receivers) - running,
      online: sum((s) => s.online),
      synced: sum((s) => s.synced),
      ...(query.syncedSince !== undefined ? { syncedSince: sum((s) => s.syncedSince ?? 0) } : {}),
      processes: this.#workers.length,
    };
  }

  /** Power loss and return: the receiver stops (as Fleet.powerCycle does) and starts again from its store. */
  powerCycle(receiverId: string): Promise<void> {
    return this.#onReceiver(receiverId, 'powerCycle');
  }

  /** Stops the receiver as Fleet.powerCycle does, and leaves it off (its store is kept). */
  powerOff(receiverId: string): Promise<void> {
    return this.#onReceiver(receiverId, 'powerOff');
  }

  /** Starts a powered-off receiver from its store (nothing if it runs). */
  powerOn(receiverId: string): Promise<void> {
    return this.#onReceiver(receiverId, 'powerOn');
  }

  /** Each worker's memory (and CPU time used so far). */
  memory(): Promise<WorkerMemory[]> {
    return this.#everyWorker('memory', {});
  }

  /**
   * Baseline probe for benchmarks: `total` plain mqtt.js v5 clients, spread over the
   * workers, subscribe to `topic` (QoS 1, or `qos`) and record the true arrival time of
   * each message; resolves once all are subscribed.
   */
  async rawSubscribers(topic: string, total: number, mqttUrl: string, qos: 0 | 1 = 1): Promise<RawSubscribers> {
    this.#assertWhole();
    const probe = randomUUID();
    const k = this.#workers.length;
    const used = this.#workers
      .map((worker, i) => ({ worker, count: Math.floor(total / k) + (i < total % k ? 1 : 0) }))
      .filter((u) => u.count > 0);
    const closeAll = async () => {
      await Promise.all(used.map((u) => this.#call(u.worker, 'rawClose', { probe })));
    };
    try {
      await Promise.all(
        used.map((u) => this.#call(u.worker, 'rawSubscribe', { probe, topic, count: u.count, mqttUrl, qos })),
      );
    } catch (error) {
      await closeAll().catch(() => {});
      throw error;
    }
    return {
      subscribed: total,
      arrivals: async () => (await Promise.all(used.map((u) => this.#call(u.worker, 'rawArrivals', { probe })))).flat(),
      close: closeAll,
    };
  }

  /** Every agent says goodbye and every worker exits; no worker process is left. Safe to call twice. */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    await Promise.all(
      this.#workers.map(async (worker) => {
        if (worker.exit) return;
        const timer = setTimeout(
          () => this.#kill(worker, `did not stop within ${STOP_TIMEOUT_MS} ms`),
          STOP_TIMEOUT_MS,
        );
        try {
          await this.#call(worker, 'stop', {});
        } catch (error) {
          if (!worker.exit) this.#kill(worker, `stop failed: ${(error as Error).message}`);
        }
        await worker.closed;
        clearTimeout(timer);
      }),
    );
    process.off('exit', this.#killAll);
  }

  /** Kills every worker (after a failed start). */
  async #abandon(reason: string): Promise<void> {
    this.#stopping ??= Promise.resolve();
    for (const worker of this.#workers) this.#kill(worker, reason);
    await Promise.all(this.#workers.map((w) => w.closed));
    process.off('exit', this.#killAll);
  }

  #kill(worker: Worker, reason: string): void {
    if (worker.exit) return;
    worker.killedBecause ??= reason;
    worker.child.kill('SIGKILL');
  }

  /** On the parent's exit: nothing asynchronous runs any more, so kill outright. */
  readonly #killAll = (): void => {
    for (const worker of this.#workers) {
      if (worker.exit) continue;
      try {
        worker.child.kill('SIGKILL');
      } catch {
        // gone already
      }
    }
  };

  #spawn(launch: { modulePath: string; execArgv: string[] }, specs: readonly VirtualReceiverSpec[]): Worker {
    const child = fork(launch.modulePath, [], {
      execArgv: launch.execArgv,
      serialization: 'advanced',
      // Nothing of a worker reaches the parent's stdout: its output (there should be
      // none) goes to the parent's stderr, and is kept for a crash report.
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const worker = new Worker(child, specs);
    this.#workers.push(worker);
    for (const spec of specs) this.#owner.set(spec.receiverId, worker);
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY }).on('line', (line) => {
        worker.stderr = `${worker.stderr}${line}\n`.slice(-STDERR_TAIL_CHARS);
        process.stderr.write(`[fleet worker ${child.pid}] ${line}\n`);
      });
    }
    child.on('message', (message: unknown) => {
      if (isWorkerEvent(message)) this.#onEvent(worker, message);
    });
    // A failed send or kill: the close below tells the rest.
    child.on('error', (error) => {
      worker.stderr = `${worker.stderr}${String(error)}\n`.slice(-STDERR_TAIL_CHARS);
    });
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => this.#onClose(worker, code, signal));
    return worker;
  }

  #onEvent(worker: Worker, event: WorkerEvent): void {
    switch (event.type) {
      case 'ready':
        worker.markReady();
        return;
      case 'reply': {
        const pending = worker.pending.get(event.id);
        if (!pending) return;
        worker.pending.delete(event.id);
        if (event.ok) {
          if (pending.op === 'stop') worker.stopAnswered = true;
          pending.resolve(event.value);
        } else {
          const error = new Error(`fleet worker pid ${worker.pid}: ${event.error.message}`);
          if (event.error.stack) error.stack = `${error.message}\n(in the worker) ${event.error.stack}`;
          pending.reject(error);
        }
        return;
      }
      case 'progress': {
        worker.started = event.started;
        const started = this.#workers.reduce((n, w) => n + w.started, 0);
        this.#onProgress?.(started, this.total);
        return;
      }
      case 'plays':
        for (const record of event.records) {
          this.#plays.add(record);
          this.o.onPlay?.(record);
        }
        return;
      case 'lives':
        for (const record of event.records) {
          this.#lives.push(record);
          this.o.onLive?.(record);
        }
        return;
      case 'logs':
        for (const entry of event.entries) this.o.onLog?.(entry.receiverId, entry.message, entry.detail);
        return;
    }
  }

  #onClose(worker: Worker, code: number | null, signal: NodeJS.Signals | null): void {
    worker.exit = { code, signal };
    let error: Error;
    if (worker.stopAnswered) error = new Error(`fleet worker pid ${worker.pid} has stopped`);
    else if (worker.killedBecause)
      error = new Error(`fleet worker pid ${worker.pid} was killed: ${worker.killedBecause}`);
    else {
      const crash = new FleetWorkerCrash(
        worker.pid,
        worker.specs.map((s) => s.receiverId),
        code,
        signal,
        worker.stderr,
      );
      worker.crash = crash;
      this.crashes.push(crash);
      error = crash;
      this.o.onCrash?.(crash);
    }
    for (const pending of worker.pending.values()) pending.reject(error);
    worker.pending.clear();
    worker.markClosed();
  }

  #call<K extends WorkerOp>(worker: Worker, op: K, args: WorkerCalls[K]['args']): Promise<WorkerCalls[K]['result']> {
    if (worker.crash) return Promise.reject(worker.crash);
    if (worker.exit || !worker.child.connected)
      return Promise.reject(new Error(`fleet worker pid ${worker.pid} is not running`));
    const id = ++this.#seq;
    return new Promise((resolve, reject) => {
      worker.pending.set(id, { op, resolve: resolve as (value: unknown) => void, reject });
      const request = { type: 'call', id, op, args } as WorkerRequest;
      worker.child.send(request, (error) => {
        if (!error) return;
        worker.pending.delete(id);
        reject(error);
      });
    });
  }

  #assertWhole(): void {
    if (this.crashes.length > 0) throw new FleetWorkersError(this.crashes);
    if (this.#stopping) throw new Error('the fleet has stopped');
  }

  async #everyWorker<K extends WorkerOp>(op: K, args: WorkerCalls[K]['args']): Promise<WorkerCalls[K]['result'][]> {
    this.#assertWhole();
    try {
      return await Promise.all(this.#workers.map((w) => this.#call(w, op, args)));
    } catch (error) {
      // A worker that died during the call: say what the fleet lost, not only that one call failed.
      if (this.crashes.length > 0) throw new FleetWorkersError(this.crashes);
      throw error;
    }
  }

  async #onReceiver(receiverId: string, op: 'powerCycle' | 'powerOff' | 'powerOn'): Promise<void> {
    const worker = this.#owner.get(receiverId);
    if (!worker) throw new Error(`no receiver ${receiverId} in this fleet`);
    if (this.#stopping) throw new Error('the fleet has stopped');
    await this.#call(worker, op, { receiverId });
  }
}
