import { randomBytes } from 'node:crypto';
import { checkTimeResponse, clockOffset, type TimeRequest, type TrustedKeySet, topics } from '@loa/protocols';
import type { Clock, TimerHandle } from '../hardware/seams.js';

export interface SyncState {
  /** A good sync happened and is not stale. */
  synced: boolean;
  /** Controller time minus local time, now (from the last estimate, kept when stale). */
  offsetMs: number;
  /**
   * How far off the offset may be: half the best round trip at the sync, plus the drift
   * the local oscillator may have gathered since.
   */
  errorMs: number;
  /** Local time of the last good sync (0: never). */
  at: number;
  /** There was a good sync, but too long ago to be trusted. */
  stale: boolean;
}

export interface ClockSyncOptions {
  receiverId: string;
  clock: Clock;
  keys: TrustedKeySet;
  /** Sends a time request (the MQTT link's publish; rejects when offline). */
  publish: (topic: string, payload: string) => Promise<void>;
  /** Exchanges per burst. */
  samples?: number;
  /** Kept samples: the lowest-delay ones, whose offsets are the least disturbed by queueing. */
  best?: number;
  /** Between the requests of a burst. */
  spacingMs?: number;
  /** How long the burst waits for answers after its last request. */
  answerTimeoutMs?: number;
  /** Between good syncs. */
  everyMs?: number;
  /** After a burst without answers, the next try comes this soon (doubling up to everyMs). */
  retryMs?: number;
  /**
   * A sync whose error bound (half the best round trip) is above this is poor: a busy
   * network or controller delayed every answer. The next burst comes after `poorRetryMs`
   * (doubling up to everyMs) instead of everyMs, and a poor estimate never replaces a
   * better one that is still good. Default 25 ms.
   */
  goodErrorMs?: number;
  poorRetryMs?: number;
  /** After this long without a good sync the estimate is reported as stale (unsynced). */
  staleAfterMs?: number;
  /** Local oscillator tolerance: the error grows by this much per unit of time since the sync. */
  driftPpm?: number;
  /** linkUp() skips the burst when a good sync is fresher than this. */
  minGapMs?: number;
  log?: (message: string, detail?: Record<string, unknown>) => void;
}

export interface ClockSyncStats {
  /** Time requests sent. */
  requests: number;
  /** Verified answers used as samples. */
  answers: number;
  /** Answers that failed verification: malformed, unknown key, bad signature, another receiver's. */
  refused: number;
  /** Verified answers to no pending request (late, repeated) or echoing the wrong t0. */
  unexpected: number;
  /** Bursts that ended without a single answer. */
  failedBursts: number;
}

interface Sample {
  /** Controller time minus the local monotonic clock. */
  offsetMs: number;
  delayMs: number;
}

/**
 * NTP-style clock sync with the controller over MQTT: a burst of signed, nonce-bound
 * exchanges; the lowest-delay samples give the offset (median of their offsets) and the
 * error (half the best delay). Airtimes are in controller time, so the player asks this
 * for `controllerTime()`. Without answers it keeps the last estimate, retries sooner, and
 * after `staleAfterMs` reports itself unsynced.
 *
 * The estimate is kept against the monotonic clock (controller time = monotonic + offset):
 * the round trips are measured on it, and a step of the wall clock (an RTC-less board
 * whose time is set after boot) neither spoils a burst nor moves controller time; only
 * the reported `offsetMs` (against the wall clock) changes.
 */
export class ClockSync {
  #state = { synced: false, monoOffsetMs: 0, baseErrorMs: 0, at: 0, atMono: 0 };
  readonly #pending = new Set<string>();
  readonly #sentAt = new Map<string, { t0: number; mono: number }>();
  /** Samples of the burst under way (undefined between bursts). */
  #samples: Sample[] | undefined;
  #allAnswered: (() => void) | undefined;
  #timer: TimerHandle | undefined;
  #running = false;
  #burst: Promise<SyncState> | undefined;
  #again = false;
  #failures = 0;
  /** Poor syncs in a row (see goodErrorMs). */
  #poor = 0;
  readonly stats: ClockSyncStats = { requests: 0, answers: 0, refused: 0, unexpected: 0, failedBursts: 0 };

  constructor(private readonly o: ClockSyncOptions) {}

  state(): SyncState {
    const s = this.#state;
    if (!s.synced) return { synced: false, offsetMs: 0, errorMs: 0, at: 0, stale: false };
    const age = Math.max(0, this.o.clock.monotonic() - s.atMono);
    const stale = age > (this.o.staleAfterMs ?? 6 * 3600_000);
    const errorMs = s.baseErrorMs + (age * (this.o.driftPpm ?? 50)) / 1e6;
    return { synced: !stale, offsetMs: this.controllerTime() - this.o.clock.now(), errorMs, at: s.at, stale };
  }

  /** The controller's time by the last estimate (local time until the first sync). */
  controllerTime(): number {
    const s = this.#state;
    return s.synced ? this.o.clock.monotonic() + s.monoOffsetMs : this.o.clock.now();
  }

  /** Syncs now and then every `everyMs`. */
  start(): void {
    this.#running = true;
    void this.syncNow();
  }

  stop(): void {
    this.#running = false;
    this.#cancelTimer();
  }

  /**
   * The link (re)connected: sync now, unless a good sync is fresher than `minGapMs` (a
   * link flapping on 3G does not need a burst each time).
   */
  linkUp(): void {
    const s = this.#state;
    if (s.synced && this.o.clock.monotonic() - s.atMono < (this.o.minGapMs ?? 60_000)) return;
    void this.syncNow();
  }

  /**
   * One burst of exchanges; resolves with the new state (the last estimate if nothing
   * came back). A call while a burst is under way joins it, and asks for one more burst
   * if that one ends without enough samples (it may have run while the link was down).
   */
  syncNow(): Promise<SyncState> {
    if (this.#burst) {
      this.#again = true;
      return this.#burst;
    }
    const burst = this.#run().finally(() => {
      this.#burst = undefined;
    });
    this.#burst = burst;
    return burst;
  }

  /** Feed a message from the receiver's time response topic. Never throws. */
  onResponse(payload: Buffer): void {
    const mono = this.o.clock.monotonic();
    const check = checkTimeResponse(payload, {
      keys: this.o.keys,
      receiverId: this.o.receiverId,
      pendingNonces: this.#pending,
    });
    if (!check.ok) {
      if (check.reason === 'replayed') this.stats.unexpected++;
      else {
        this.stats.refused++;
        this.o.log?.('clock sync: answer refused', { reason: check.reason, detail: check.detail });
      }
      return;
    }
    const r = check.response;
    const sent = this.#sentAt.get(r.nonce);
    this.#sentAt.delete(r.nonce);
    if (!sent || sent.t0 !== r.t0 || !this.#samples) {
      this.stats.unexpected++;
      return;
    }
    // The receiver's side of the exchange on the monotonic clock (t0 on the wire is the
    // wall clock, echoed back and checked above; the estimate does not depend on it).
    const { offsetMs, delayMs } = clockOffset(sent.mono, r.t1, r.t2, mono);
    if (Number.isFinite(offsetMs) && Number.isFinite(delayMs)) {
      this.stats.answers++;
      this.#samples.push({ offsetMs, delayMs: Math.max(0, delayMs) });
    } else this.stats.unexpected++;
    if (this.#sentAt.size === 0) this.#allAnswered?.();
  }

  async #run(): Promise<SyncState> {
    this.#cancelTimer();
    let got = 0;
    try {
      do {
        this.#again = false;
        got = await this.#burstOnce();
      } while (this.#again && got < (this.o.best ?? 3));
    } catch (error) {
      this.o.log?.('clock sync: burst failed', { error: String(error) });
    }
    this.#scheduleNext(got > 0);
    return this.state();
  }

  /** Sends the requests, waits for the answers, updates the estimate; returns the samples kept. */
  async #burstOnce(): Promise<number> {
    const samples: Sample[] = [];
    this.#samples = samples;
    const n = Math.max(1, this.o.samples ?? 8);
    let sent = 0;
    for (let i = 0; i < n; i++) {
      if (i > 0) await this.#sleep(this.o.spacingMs ?? 250);
      if (!(await this.#request())) break; // offline: the rest would fail too
      sent++;
    }
    if (sent > 0 && this.#sentAt.size > 0) await this.#waitForAnswers(this.o.answerTimeoutMs ?? 2000);
    this.#samples = undefined;
    this.#pending.clear();
    this.#sentAt.clear();
    const kept = [...samples].sort((a, b) => a.delayMs - b.delayMs).slice(0, Math.max(1, this.o.best ?? 3));
    if (kept.length === 0) {
      this.stats.failedBursts++;
      this.#failures++;
      this.o.log?.(sent > 0 ? 'clock sync: no answer from the controller' : 'clock sync: offline; will retry', {
        sent,
        keptEstimate: this.#state.synced,
      });
      return 0;
    }
    this.#failures = 0;
    const candidate = {
      synced: true as const,
      monoOffsetMs: median(kept.map((s) => s.offsetMs)),
      baseErrorMs: Math.max(1, (kept[0] as Sample).delayMs / 2),
      at: this.o.clock.now(),
      atMono: this.o.clock.monotonic(),
    };
    const current = this.state();
    this.#poor = candidate.baseErrorMs > (this.o.goodErrorMs ?? 25) ? this.#poor + 1 : 0;
    // A storm of receivers syncing at once (a restart) queues every answer: keep the
    // better estimate, however fresh the worse one is.
    if (!(current.synced && current.errorMs < candidate.baseErrorMs)) this.#state = candidate;
    return kept.length;
  }

  /** Resolves with true if the request went out. */
  async #request(): Promise<boolean> {
    const nonce = randomBytes(16).toString('base64url');
    const request: TimeRequest = {
      v: 1,
      receiverId: this.o.receiverId,
      nonce,
      t0: Math.max(0, this.o.clock.now()),
    };
    this.#pending.add(nonce);
    this.#sentAt.set(nonce, { t0: request.t0, mono: this.o.clock.monotonic() });
    try {
      await this.o.publish(topics.timeRequest(this.o.receiverId), JSON.stringify(request));
      this.stats.requests++;
      return true;
    } catch {
      this.#pending.delete(nonce);
      this.#sentAt.delete(nonce);
      return false;
    }
  }

  #waitForAnswers(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      let timer: TimerHandle | undefined;
      const done = () => {
        if (timer) this.o.clock.clearTimeout(timer);
        if (this.#allAnswered === done) this.#allAnswered = undefined;
        resolve();
      };
      this.#allAnswered = done;
      timer = this.o.clock.setTimeout(done, ms);
    });
  }

  #scheduleNext(good: boolean): void {
    if (!this.#running) return;
    this.#cancelTimer();
    const every = this.o.everyMs ?? 15 * 60_000;
    const delay = !good
      ? Math.min(every, (this.o.retryMs ?? 60_000) * 2 ** Math.min(20, Math.max(0, this.#failures - 1)))
      : this.#poor > 0
        ? Math.min(every, (this.o.poorRetryMs ?? 30_000) * 2 ** Math.min(20, this.#poor - 1))
        : every;
    this.#timer = this.o.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.syncNow();
    }, delay);
  }

  #cancelTimer(): void {
    if (this.#timer) this.o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.o.clock.setTimeout(resolve, ms));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
