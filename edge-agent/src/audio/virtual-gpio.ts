import type { Gpio } from '../hardware/seams.js';

/**
 * GPIO lines in memory, with a log of writes: tests, the simulator, and receivers without
 * a relay. Set `failure` to make writes fail (a broken relay driver, for fault injection).
 */
export class VirtualGpio implements Gpio {
  readonly lines = new Map<string, boolean>();
  readonly writes: Array<[string, boolean]> = [];
  failure: Error | undefined;

  async write(line: string, value: boolean): Promise<void> {
    if (this.failure) throw this.failure;
    this.lines.set(line, value);
    this.writes.push([line, value]);
  }

  async read(line: string): Promise<boolean> {
    if (this.failure) throw this.failure;
    return this.lines.get(line) ?? false;
  }
}
