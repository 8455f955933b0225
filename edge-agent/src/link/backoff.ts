/**
 * Reconnect delays: exponential with full jitter (a random delay between 0 and the
 * exponential bound). When a broker restarts, thousands of receivers lose it at the same
 * moment; full jitter spreads their returns instead of letting them stampede together.
 */
export class Backoff {
  #attempt = 0;

  constructor(
    private readonly baseMs = 1000,
    private readonly capMs = 5 * 60_000,
    private readonly random: () => number = Math.random,
    /**
     * A fast phase: the first `attempts` bounds stay at or below `capMs`, then doubling
     * resumes from there. A broker restart is over in seconds, so a fleet that just lost
     * it comes back within that cap; a link that stays down backs off to the slow cap.
     */
    private readonly fast?: { attempts: number; capMs: number },
  ) {}

  /** The upper bound of the next delay (the delay itself is drawn below it). */
  bound(): number {
    const fast = this.fast;
    if (!fast) return Math.min(this.capMs, this.baseMs * 2 ** this.#attempt);
    if (this.#attempt < fast.attempts) return Math.min(fast.capMs, this.baseMs * 2 ** this.#attempt);
    return Math.min(this.capMs, fast.capMs * 2 ** (this.#attempt - fast.attempts + 1));
  }

  /** The delay before the next attempt, in [0, bound()). */
  next(): number {
    const bound = this.bound();
    this.#attempt = Math.min(this.#attempt + 1, 30);
    return Math.max(0, Math.min(bound - 1, Math.floor(this.random() * bound)));
  }

  /** After a successful connection. */
  reset(): void {
    this.#attempt = 0;
  }

  get attempt(): number {
    return this.#attempt;
  }
}
