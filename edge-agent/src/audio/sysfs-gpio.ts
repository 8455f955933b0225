import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { Gpio } from '../hardware/seams.js';

const run = promisify(execFile);

export interface GpiodGpioOptions {
  /** libgpiod's tools; from PATH unless told otherwise. */
  gpioset?: string;
  gpioget?: string;
  /** How long a new gpioset must stay up to count as holding its line (it fails within milliseconds). */
  settleMs?: number;
}

/**
 * GPIO lines (the amplifier relay) through the Linux GPIO character device, with libgpiod's
 * command-line tools (Debian package `gpiod`): `gpioset`/`gpioget` on a chip (`gpiochip0`)
 * and line offsets given as text ("17"). The design called this the "sysfs" GPIO; the old
 * sysfs interface (/sys/class/gpio) is deprecated and gone from current kernels, so this
 * uses the character device, which every kernel since 4.8 has.
 *
 * A line is only guaranteed to keep its value while a process holds it (libgpiod: "the
 * state of a released line is undefined"), so each written line is held by a `gpioset`
 * that stays running until the line is written again or the GPIO is closed:
 * `gpioset --mode=signal CHIP LINE=V` with libgpiod 1.x (Debian 12), and
 * `gpioset -c CHIP LINE=V` with 2.x (Debian 13), which holds by default. Reading a line
 * this object holds answers the value it holds (the kernel would refuse a second request).
 */
export class GpiodGpio implements Gpio {
  readonly #held = new Map<string, { value: boolean; child: ChildProcess; gone: Promise<void> }>();
  #version: Promise<1 | 2> | undefined;
  readonly #gpioset: string;
  readonly #gpioget: string;
  readonly #settleMs: number;
  /** Writes one at a time, in order. */
  #queue: Promise<unknown> = Promise.resolve();
  #exitHook = false;
  readonly #onExit = () => {
    for (const { child } of this.#held.values()) child.kill('SIGTERM');
  };

  constructor(
    private readonly chip: string,
    options: GpiodGpioOptions = {},
  ) {
    this.#gpioset = options.gpioset ?? 'gpioset';
    this.#gpioget = options.gpioget ?? 'gpioget';
    this.#settleMs = options.settleMs ?? 100;
  }

  /** The libgpiod major version, from `gpioset --version` ("gpioset (libgpiod) v1.6.3"). */
  #libgpiod(): Promise<1 | 2> {
    this.#version ??= run(this.#gpioset, ['--version'], { timeout: 5000 }).then(
      ({ stdout }) => (/\bv?2\.\d/.test(stdout) ? 2 : 1),
      (error: Error) => {
        this.#version = undefined;
        throw new Error(`cannot run ${this.#gpioset}: ${error.message}`);
      },
    );
    return this.#version;
  }

  write(line: string, value: boolean): Promise<void> {
    const done = this.#queue.then(() => this.#hold(line, value));
    this.#queue = done.catch(() => {});
    return done;
  }

  async #hold(line: string, value: boolean): Promise<void> {
    const version = await this.#libgpiod();
    await this.#letGo(line);
    const level = `${line}=${value ? 1 : 0}`;
    const args = version === 2 ? ['-c', this.chip, level] : ['--mode=signal', this.chip, level];
    const child = spawn(this.#gpioset, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-300);
    });
    let exit: string | undefined;
    const gone = new Promise<void>((resolve) => {
      child.once('error', (error) => {
        exit = error.message;
        resolve();
      });
      child.once('close', (code, signal) => {
        exit ??= `exited with ${code ?? signal}`;
        resolve();
      });
    });
    const settled = await Promise.race([
      gone.then(() => false),
      new Promise<boolean>((resolve) => setTimeout(() => resolve(true), this.#settleMs)),
    ]);
    if (!settled) throw new Error(`${this.#gpioset} ${args.join(' ')} failed: ${stderr.trim() || exit}`);
    if (!this.#exitHook) {
      // A line must not stay held by an orphan after the agent is gone.
      process.once('exit', this.#onExit);
      this.#exitHook = true;
    }
    this.#held.set(line, { value, child, gone });
    void gone.then(() => {
      if (this.#held.get(line)?.child === child) this.#held.delete(line);
    });
  }

  async read(line: string): Promise<boolean> {
    const held = this.#held.get(line);
    if (held) return held.value;
    const version = await this.#libgpiod();
    const args = version === 2 ? ['-c', this.chip, '--numeric', line] : [this.chip, line];
    const { stdout } = await run(this.#gpioget, args, { timeout: 5000 });
    return stdout.trim() === '1';
  }

  /** Lets go of every line (their state is then up to the driver). */
  async close(): Promise<void> {
    await Promise.all([...this.#held.keys()].map((line) => this.#letGo(line)));
    process.removeListener('exit', this.#onExit);
    this.#exitHook = false;
  }

  async #letGo(line: string): Promise<void> {
    const held = this.#held.get(line);
    if (!held) return;
    this.#held.delete(line);
    held.child.kill('SIGTERM');
    await held.gone;
  }
}
