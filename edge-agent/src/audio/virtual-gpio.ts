import type { Gpio } from '../hardware/seams.js';

/** GPIO lines in memory, with a log of writes (tests, the simulator, a board without relays). */
export class VirtualGpio implements Gpio {
  readonly lines = new Map<string, boolean>();
  readonly writes: Array<[string, boolean]> = [];

  async write(line: string, value: boolean): Promise<void> {
    this.lines.set(line, value);
    this.writes.push([line, value]);
  }

  async read(line: string): Promise<boolean> {
    return this.lines.get(line) ?? false;
  }
}
