import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GpiodGpio } from '../../src/audio/sysfs-gpio.js';
import { VirtualGpio } from '../../src/audio/virtual-gpio.js';
import { scriptDir } from './helpers.js';

// No GPIO chip in CI: fake libgpiod tools log their arguments (and pid) and behave like the
// real ones: gpioset holds its line until killed, gpioget prints the value.

function fakeLibgpiod(version: string, gpiosetBody = 'exec sleep 30') {
  const dir = scriptDir({
    gpioset: `if [ "$1" = "--version" ]; then echo "gpioset (libgpiod) ${version}"; exit 0; fi
echo "set $$ $*" >> "$(dirname "$0")/log"
${gpiosetBody}`,
    gpioget: `echo "get $*" >> "$(dirname "$0")/log"
echo 1`,
  });
  const log = () =>
    readFileSync(join(dir, 'log'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => line.split(' '));
  const gpio = new GpiodGpio('gpiochip0', { gpioset: join(dir, 'gpioset'), gpioget: join(dir, 'gpioget') });
  return { gpio, log };
}

function isAlive(pid: string | undefined): boolean {
  try {
    process.kill(Number(pid), 0);
    return true;
  } catch {
    return false;
  }
}

describe('gpiod GPIO (libgpiod command-line tools)', () => {
  it('libgpiod 1.x: holds a written line with gpioset --mode=signal until it is written again', async () => {
    const { gpio, log } = fakeLibgpiod('v1.6.3');
    await gpio.write('17', true);
    const [first] = log();
    expect(first?.slice(2)).toEqual(['--mode=signal', 'gpiochip0', '17=1']);
    expect(isAlive(first?.[1])).toBe(true);
    await gpio.write('17', false);
    const second = log()[1];
    expect(second?.slice(2)).toEqual(['--mode=signal', 'gpiochip0', '17=0']);
    expect(isAlive(first?.[1])).toBe(false); // let go before the new value was set
    expect(isAlive(second?.[1])).toBe(true);
    // A held line reads as held (the kernel would refuse gpioget); another one asks gpioget.
    expect(await gpio.read('17')).toBe(false);
    expect(await gpio.read('22')).toBe(true);
    expect(log()[2]).toEqual(['get', 'gpiochip0', '22']);
    await gpio.close();
    expect(isAlive(second?.[1])).toBe(false);
  });

  it('libgpiod 2.x: gpioset -c CHIP holds by default; gpioget --numeric', async () => {
    const { gpio, log } = fakeLibgpiod('v2.1');
    await gpio.write('5', true);
    expect(await gpio.read('6')).toBe(true);
    expect(log().map((l) => (l[0] === 'set' ? ['set', ...l.slice(2)] : l))).toEqual([
      ['set', '-c', 'gpiochip0', '5=1'],
      ['get', '-c', 'gpiochip0', '--numeric', '6'],
    ]);
    await gpio.close();
  });

  it('fails a write that gpioset refuses, with its message, and one without gpioset', async () => {
    const { gpio } = fakeLibgpiod(
      'v1.6.3',
      'echo "gpioset: error setting the GPIO line values: Device or resource busy" >&2\nexit 1',
    );
    await expect(gpio.write('17', true)).rejects.toThrow(/Device or resource busy/);
    const missing = new GpiodGpio('gpiochip0', { gpioset: '/nonexistent/gpioset' });
    await expect(missing.write('17', true)).rejects.toThrow(/cannot run \/nonexistent\/gpioset/);
  });
});

describe('virtual GPIO', () => {
  it('keeps lines in memory, logs writes, and fails on demand', async () => {
    const gpio = new VirtualGpio();
    expect(await gpio.read('amp')).toBe(false);
    await gpio.write('amp', true);
    expect(await gpio.read('amp')).toBe(true);
    expect(gpio.writes).toEqual([['amp', true]]);
    gpio.failure = new Error('relay driver gone');
    await expect(gpio.write('amp', false)).rejects.toThrow(/relay driver gone/);
    expect(gpio.writes).toHaveLength(1);
  });
});
