import type { Clock, Gpio, LineCheck, LineProbe, TimerHandle } from '../hardware/seams.js';

export type AmplifierFault = NonNullable<LineCheck['fault']>;

export const DEFAULT_WARM_UP_MS = 1500;
export const DEFAULT_HOLD_MS = 5000;
export const DEFAULT_PROBE_TIMEOUT_MS = 2000;

export interface AmplifierOptions {
  gpio: Gpio;
  /** The relay line's name, as the Gpio knows it (a line offset for gpiod). */
  line: string;
  clock: Clock;
  /** Wait after power-on before any sound (the amplifier settles; no thump in the horns). Default 1500 ms. */
  warmUpMs?: number;
  /** Stay powered this long after the last user lets go, so back-to-back items do not click the relay. Default 5 s. */
  holdMs?: number;
  /** The relay closes on a low line. */
  activeLow?: boolean;
  /** Measures the amplifier and speaker line. */
  probe?: LineProbe;
  /** Probe the line each time the amplifier powers on for sound (default: yes, when there is a probe). */
  checkOnPowerOn?: boolean;
  /** How long a power-on check may take before sound goes ahead without it. Default 2 s. */
  probeTimeoutMs?: number;
  /** Every check made, good or bad (so a latched fault can be cleared). */
  onCheck?: (check: LineCheck) => void;
  /** Every fault found: a check's fault, or `amplifier_fault` when the relay cannot be switched. */
  onFault?: (fault: AmplifierFault, detail: string) => void;
  /** A check that could not be made (the probe failed or timed out) on power-on; sound goes ahead. */
  onProbeError?: (error: Error) => void;
}

/** The fault a check reports: its own, or `amplifier_fault` for a failed check that names none. */
export function faultOf(check: LineCheck | undefined): AmplifierFault | undefined {
  if (!check) return undefined;
  return check.fault ?? (check.ok ? undefined : 'amplifier_fault');
}

/** The relay could not be switched. */
export class AmplifierError extends Error {
  readonly fault = 'amplifier_fault' as const;
}

/**
 * The amplifier behind its relay. `acquire()` powers it on (if off), waits the warm-up on
 * the clock, checks the line when there is a probe, and resolves with that check; users
 * count, so a second `acquire()` during the warm-up waits for the same warm-up, and one
 * while it is powered returns at once. `release()` lets go; when the last user has let go
 * it stays on for the hold time, then powers off unless acquired again meanwhile.
 * `silentCheck()` powers on, probes and powers off, without sound. Relay writes are
 * serialised, so the relay always ends in the state last asked for.
 */
export class Amplifier {
  readonly #o: AmplifierOptions;
  readonly #warmUpMs: number;
  readonly #holdMs: number;
  #users = 0;
  /** Last state the relay was switched to (logically: on = amplifier powered). */
  #powered = false;
  /** Set from power-on until power-off: resolves once powered and warmed up. */
  #ready: Promise<void> | undefined;
  /** The latest check in this power period. */
  #check: LineCheck | undefined;
  #hold: TimerHandle | undefined;
  #relay: Promise<unknown> = Promise.resolve();

  constructor(options: AmplifierOptions) {
    this.#o = options;
    this.#warmUpMs = Math.max(0, options.warmUpMs ?? DEFAULT_WARM_UP_MS);
    this.#holdMs = Math.max(0, options.holdMs ?? DEFAULT_HOLD_MS);
  }

  /** Whether the amplifier is powered (for the heartbeat). */
  get on(): boolean {
    return this.#powered;
  }

  /** How many users hold it now. */
  get users(): number {
    return this.#users;
  }

  /**
   * Powers on (if off) and resolves once warmed up, with the line check of this power
   * period (undefined when there is no probe, or it could not check). Rejects with an
   * AmplifierError if the relay cannot be switched; then there is nothing to release.
   */
  async acquire(): Promise<LineCheck | undefined> {
    this.#users++;
    this.#cancelHold();
    try {
      this.#ready ??= this.#powerUp(this.#o.checkOnPowerOn ?? true);
      await this.#ready;
      return this.#check;
    } catch (error) {
      this.#users--;
      throw error;
    }
  }

  /** Lets go. The last user's release powers off after the hold time (at once with `now`). */
  release(options: { now?: boolean } = {}): void {
    if (this.#users === 0) return;
    this.#users--;
    if (this.#users > 0 || !this.#ready) return;
    this.#cancelHold();
    if (options.now || this.#holdMs === 0) {
      void this.#powerDown();
      return;
    }
    this.#hold = this.#o.clock.setTimeout(() => {
      this.#hold = undefined;
      void this.#powerDown();
    }, this.#holdMs);
  }

  /**
   * The silent check: power on (with the warm-up), measure the line, power off again if it
   * was off before. Resolves with what the probe says (faults also go to `onFault`);
   * rejects when there is no probe or it cannot answer.
   */
  async silentCheck(): Promise<LineCheck> {
    const probe = this.#o.probe;
    if (!probe) throw new Error('no line check configured on this receiver (amplifier.lineCheckCommand)');
    const wasOn = this.#ready !== undefined;
    this.#users++;
    this.#cancelHold();
    try {
      this.#ready ??= this.#powerUp(false);
      await this.#ready;
      return await this.#probe(probe);
    } finally {
      this.release({ now: !wasOn });
    }
  }

  /** Powers off now, whoever holds it (the agent is stopping). */
  async shutdown(): Promise<void> {
    this.#users = 0;
    this.#cancelHold();
    await this.#powerDown();
  }

  async #powerUp(check: boolean): Promise<void> {
    this.#check = undefined;
    try {
      await this.#switch(true);
    } catch (error) {
      this.#ready = undefined;
      const detail = `cannot switch the amplifier relay on: ${(error as Error).message}`;
      this.#o.onFault?.('amplifier_fault', detail);
      throw new AmplifierError(detail);
    }
    if (this.#warmUpMs > 0) await this.#sleep(this.#warmUpMs);
    const probe = this.#o.probe;
    if (check && probe) {
      const timeoutMs = this.#o.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
      let timer: TimerHandle | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = this.#o.clock.setTimeout(
          () => reject(new Error(`line check took longer than ${timeoutMs} ms`)),
          timeoutMs,
        );
      });
      try {
        await Promise.race([this.#probe(probe), timeout]);
      } catch (error) {
        this.#o.onProbeError?.(error as Error);
      } finally {
        if (timer) this.#o.clock.clearTimeout(timer);
      }
    }
  }

  async #probe(probe: LineProbe): Promise<LineCheck> {
    const check = await probe.check();
    this.#check = check;
    this.#o.onCheck?.(check);
    const fault = faultOf(check);
    if (fault) {
      const ohm = check.speakerLineOhm === undefined ? '' : ` (speaker line ${check.speakerLineOhm} Ω)`;
      this.#o.onFault?.(fault, `line check: ${fault}${ohm}`);
    }
    return check;
  }

  async #powerDown(): Promise<void> {
    if (this.#users > 0 || !this.#ready) return;
    this.#ready = undefined;
    this.#check = undefined;
    try {
      await this.#switch(false);
    } catch (error) {
      this.#o.onFault?.('amplifier_fault', `cannot switch the amplifier relay off: ${(error as Error).message}`);
    }
  }

  #switch(on: boolean): Promise<void> {
    const level = this.#o.activeLow ? !on : on;
    const done = this.#relay
      .then(() => this.#o.gpio.write(this.#o.line, level))
      .then(() => {
        this.#powered = on;
      });
    this.#relay = done.catch(() => {});
    return done;
  }

  #cancelHold(): void {
    if (!this.#hold) return;
    this.#o.clock.clearTimeout(this.#hold);
    this.#hold = undefined;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#o.clock.setTimeout(resolve, ms));
  }
}
