import { randomBytes } from 'node:crypto';
import { checkTimeResponse, clockOffset, type TimeRequest, type TrustedKeySet, topics } from '@loa/protocols';
import type { Clock, TimerHandle } from '../hardware/seams.js';

export interface SyncState {
  synced: boolean;
  /** Controller time minus local time. */
  offsetMs: number;
  /** Half the best round trip: the offset is right to within this. */
  errorMs: number;
  /** Local time of the last good sync (0: never). */
  at: number;
}

export interface ClockSyncOptions {
  receiverId: string;
  clock: Clock;
  keys: TrustedKeySet;
  publish: (topic: string, payload: string) => Promise<void>;
  samples?: number;
  /** Kept samples: the lowest-delay ones, whose offsets are the least disturbed by queueing. */
  best?: number;
  spacingMs?: number;
  answerTimeoutMs?: number;
  everyMs?: number;
  /** After this long without a good sync the estimate is reported as unsynced. */
  staleAfterMs?: number;
  log?: (message: string, detail?: Record<string, unknown>) => void;
}

/**
 * NTP-style clock sync with the controller over MQTT: a burst of signed, nonce-bound
 * exchanges; the lowest-delay samples give the offset (median of their offsets) and the
 * error (half the best delay). Airtimes are in controller time, so the player asks this
 * for `controllerTime()`.
 */
export class ClockSync {
  #state: SyncState = { synced: false, offsetMs: 0, errorMs: 0, at: 0 };
  readonly #pending = new Set<string>();
  readonly #sentAt = new Map<string, { t0: number; mono: number }>();
  #samples: Array<{ offsetMs: number; delayMs: number }> = [];
  #timer: TimerHandle | undefined;
  #running = false;
  readonly stats = { requests: 0, answers: 0, refused: 0 };

  constructor(private readonly o: ClockSyncOptions) {}

  state(): SyncState {
    const stale = this.#state.at > 0 && this.o.clock.now() - this.#state.at > (this.o.staleAfterMs ?? 6 * 3600_000);
    return stale ? { ...this.#state, synced: false } : this.#state;
  }

  controllerTime(): number {
    return this.o.clock.now() + this.#state.offsetMs;
  }

  /** Syncs now and then every `everyMs`. */
  start(): void {
    this.#running = true;
    void this.syncNow();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer) this.o.clock.clearTimeout(this.#timer);
  }

  /** One burst of exchanges; resolves with the new state (unchanged if nothing came back). */
  async syncNow(): Promise<SyncState> {
    if (this.#timer) this.o.clock.clearTimeout(this.#timer);
    this.#samples = [];
    const n = this.o.samples ?? 8;
    for (let i = 0; i < n; i++) {
      await this.#request();
      await this.#sleep(this.o.spacingMs ?? 250);
    }
    await this.#sleep(this.o.answerTimeoutMs ?? 2000);
    this.#pending.clear();
    this.#sentAt.clear();
    const kept = [...this.#samples].sort((a, b) => a.delayMs - b.delayMs).slice(0, this.o.best ?? 3);
    if (kept.length > 0) {
      const offsets = kept.map((s) => s.offsetMs).sort((a, b) => a - b);
      this.#state = {
        synced: true,
        offsetMs: offsets[Math.floor(offsets.length / 2)] as number,
        errorMs: Math.max(1, (kept[0]?.delayMs ?? 0) / 2),
        at: this.o.clock.now(),
      };
    } else this.o.log?.('clock sync: no answer from the controller');
    if (this.#running) this.#timer = this.o.clock.setTimeout(() => void this.syncNow(), this.o.everyMs ?? 15 * 60_000);
    return this.state();
  }

  /** Feed a message from the receiver's time response topic. */
  onResponse(payload: Buffer): void {
    const t3 = this.o.clock.now();
    const mono = this.o.clock.monotonic();
    const check = checkTimeResponse(payload, {
      keys: this.o.keys,
      receiverId: this.o.receiverId,
      pendingNonces: this.#pending,
    });
    if (!check.ok) {
      this.stats.refused++;
      this.o.log?.('clock sync: answer refused', { reason: check.reason });
      return;
    }
    const r = check.response;
    const sent = this.#sentAt.get(r.nonce);
    if (!sent || sent.t0 !== r.t0) return;
    this.stats.answers++;
    // The round trip is measured on the monotonic clock, immune to a wall-clock step.
    const t3Steady = sent.t0 + (mono - sent.mono);
    const { offsetMs, delayMs } = clockOffset(r.t0, r.t1, r.t2, Number.isFinite(t3Steady) ? t3Steady : t3);
    this.#samples.push({ offsetMs, delayMs: Math.max(0, delayMs) });
  }

  async #request(): Promise<void> {
    const nonce = randomBytes(16).toString('base64url');
    const request: TimeRequest = { v: 1, receiverId: this.o.receiverId, nonce, t0: this.o.clock.now() };
    this.#pending.add(nonce);
    this.#sentAt.set(nonce, { t0: request.t0, mono: this.o.clock.monotonic() });
    this.stats.requests++;
    await this.o.publish(topics.timeRequest(this.o.receiverId), JSON.stringify(request)).catch(() => {});
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.o.clock.setTimeout(resolve, ms));
  }
}
