import type { Clock, Gpio, LineCheck, LineProbe, TimerHandle } from '../hardware/seams.js';

export interface AmplifierOptions {
  gpio: Gpio;
  /** The relay line's name, as the Gpio knows it. */
  line: string;
  clock: Clock;
  warmUpMs: number;
  holdMs: number;
  activeLow?: boolean;
  probe?: LineProbe;
  onCheck?: (check: LineCheck) => void;
}

/**
 * The amplifier behind its relay: powered on and warmed up before sound, held on for a
 * while after (back-to-back items do not click the relay and thump the horns), then off
 * to save power and the amplifier.
 */
export class Amplifier {
  #on = false;
  #users = 0;
  #offTimer: TimerHandle | undefined;

  constructor(private readonly o: AmplifierOptions) {}

  get on(): boolean {
    return this.#on;
  }

  /** Powers on (if off) and resolves once warmed up. */
  async acquire(): Promise<void> {
    this.#users++;
    if (this.#offTimer) {
      this.o.clock.clearTimeout(this.#offTimer);
      this.#offTimer = undefined;
    }
    if (this.#on) return;
    await this.#set(true);
    await new Promise<void>((resolve) => this.o.clock.setTimeout(resolve, this.o.warmUpMs));
  }

  /** Lets go; powers off after the hold time unless acquired again meanwhile. */
  release(): void {
    this.#users = Math.max(0, this.#users - 1);
    if (this.#users > 0 || !this.#on) return;
    this.#offTimer = this.o.clock.setTimeout(() => {
      this.#offTimer = undefined;
      if (this.#users === 0) void this.#set(false);
    }, this.o.holdMs);
  }

  /** Silent check: power on, measure the line, power off (unless in use). */
  async silentCheck(): Promise<LineCheck> {
    if (!this.o.probe) return { ok: true };
    await this.acquire();
    try {
      const check = await this.o.probe.check();
      this.o.onCheck?.(check);
      return check;
    } finally {
      this.release();
    }
  }

  async #set(on: boolean): Promise<void> {
    await this.o.gpio.write(this.o.line, this.o.activeLow ? !on : on);
    this.#on = on;
  }
}
