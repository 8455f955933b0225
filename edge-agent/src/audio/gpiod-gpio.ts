import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Gpio } from '../hardware/seams.js';

const run = promisify(execFile);

/**
 * GPIO through the Linux character device with libgpiod's tools (Debian package gpiod):
 * `gpioset`/`gpioget` on a chip and a line offset. Line names are the offsets as text.
 */
export class GpiodGpio implements Gpio {
  constructor(private readonly chip: string) {}

  async write(line: string, value: boolean): Promise<void> {
    await run('gpioset', [this.chip, `${line}=${value ? 1 : 0}`], { timeout: 5000 });
  }

  async read(line: string): Promise<boolean> {
    const { stdout } = await run('gpioget', [this.chip, line], { timeout: 5000 });
    return stdout.trim() === '1';
  }
}
