import type { Clock, TimerHandle } from '../hardware/seams.js';

/**
 * Where the speakers are, on the clock: sound written is assumed to play from the first
 * write on, back to back (and, after an underrun, from the moment writing resumed).
 */
export class Pacer {
  #started: number | undefined;
  #writtenMs = 0;
  /** Pending timers, and what each calls back (progress to report when heard). */
  readonly #timers = new Map<TimerHandle, () => void>();
  #wake: (() => void) | undefined;

  constructor(private readonly clock: Clock) {}

  /** Sound written but not yet heard, in ms. */
  ahead(): number {
    if (this.#started === undefined) return 0;
    return this.#writtenMs - (this.clock.monotonic() - this.#started);
  }

  heardMs(): number {
    if (this.#started === undefined) return 0;
    return Math.min(this.#writtenMs, this.clock.monotonic() - this.#started);
  }

  /** Waits (on the clock) until less than `leadMs` is waiting to be heard; stop() ends the wait. */
  untilLeadBelow(leadMs: number): Promise<void> {
    const over = this.ahead() - leadMs;
    if (over <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = this.#after(over, () => {
        this.#wake = undefined;
        resolve();
      });
      this.#wake = () => {
        this.clock.clearTimeout(timer);
        this.#timers.delete(timer);
        resolve();
      };
    });
  }

  /** Calls back when what is written next starts to be heard. */
  whenHeard(callback: () => void): void {
    const lead = this.ahead();
    if (lead <= 0) callback();
    else this.#after(lead, callback);
  }

  wrote(ms: number): void {
    const now = this.clock.monotonic();
    // The speakers ran dry (a slow decode): the new sound starts now, not in the past.
    if (this.#started === undefined || this.ahead() < 0) this.#started = now - this.#writtenMs;
    this.#writtenMs += ms;
  }

  /** Everything was played out: what is still waiting to be reported happens now, in order. */
  flush(): void {
    const callbacks = [...this.#timers.values()];
    this.stop();
    for (const callback of callbacks) callback();
  }

  /** Ends any wait and drops what was waiting to be heard. */
  stop(): void {
    this.#wake?.();
    this.#wake = undefined;
    for (const timer of this.#timers.keys()) this.clock.clearTimeout(timer);
    this.#timers.clear();
  }

  #after(ms: number, callback: () => void): TimerHandle {
    const timer = this.clock.setTimeout(() => {
      this.#timers.delete(timer);
      callback();
    }, ms);
    this.#timers.set(timer, callback);
    return timer;
  }
}
