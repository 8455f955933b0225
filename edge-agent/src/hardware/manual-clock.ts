import type { Clock, TimerHandle } from './seams.js';

interface Timer {
  at: number;
  seq: number;
  callback: () => void;
}

/**
 * A clock that moves only when told to: unit tests step it, and the simulator drives
 * thousands of agents from one virtual time. Timers fire in time order (ties in the order
 * they were set); timers run on monotonic time, so a wall-clock jump does not fire them.
 */
export class ManualClock implements Clock {
  #now: number;
  #monotonic = 0;
  #seq = 0;
  readonly #timers = new Map<object, Timer>();

  constructor(start: number) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  monotonic(): number {
    return this.#monotonic;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const handle = {};
    this.#timers.set(handle, { at: this.#monotonic + Math.max(0, ms), seq: this.#seq++, callback });
    return handle;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle);
  }

  /** In how many ms the next timer is due, if any. */
  nextDueIn(): number | undefined {
    const next = this.#earliest();
    return next ? next[1].at - this.#monotonic : undefined;
  }

  /**
   * Advances time by `ms`, firing every timer due on the way. Between timers it lets
   * pending promise callbacks run, so async code reacting to one timer can set the next.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#monotonic + ms;
    for (;;) {
      await settle();
      const due = this.#earliest();
      if (!due || due[1].at > end) break;
      this.#timers.delete(due[0]);
      this.#step(due[1].at - this.#monotonic);
      due[1].callback();
    }
    this.#step(end - this.#monotonic);
    await settle();
  }

  /** Moves the wall clock alone (a clock jump, e.g. an RTC reset); monotonic time is unaffected. */
  jump(ms: number): void {
    this.#now += ms;
  }

  #step(ms: number): void {
    this.#monotonic += ms;
    this.#now += ms;
  }

  #earliest(): [object, Timer] | undefined {
    let best: [object, Timer] | undefined;
    for (const entry of this.#timers) {
      const t = entry[1];
      if (!best || t.at < best[1].at || (t.at === best[1].at && t.seq < best[1].seq)) best = entry;
    }
    return best;
  }
}

/** Lets queued promise callbacks (and those they queue, a few levels deep) run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
  await new Promise<void>((resolve) => setImmediate(resolve));
}
