import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AlsaSink, AudioDeviceError } from '../../src/audio/alsa-sink.js';
import { Amplifier } from '../../src/audio/amplifier.js';
import { AudioRenderer } from '../../src/audio/audio-renderer.js';
import { VirtualGpio } from '../../src/audio/virtual-gpio.js';
import { ManualClock } from '../../src/hardware/manual-clock.js';
import { oggOpusFile, sine } from '../support/ogg-opus-fixture.js';
import { drive, playable, RATE, scriptDir, sha256, until } from './helpers.js';

// No sound card in CI: a fake `aplay` (a shell script first on PATH) records its arguments
// and how many bytes it was fed, and exits as each test needs.

const mono = { sampleRate: RATE, channels: 1 };

function fakeAplay(body: string): string {
  const dir = scriptDir({ aplay: body.replaceAll('$DIR', '"$(dirname "$0")"') });
  vi.stubEnv('PATH', `${dir}:${process.env.PATH}`);
  return dir;
}

afterEach(() => {
  vi.unstubAllEnvs();
});

describe('ALSA sink (aplay)', () => {
  it('feeds aplay raw 48 kHz mono S16_LE on the configured device, and plays out on drain', async () => {
    const dir = fakeAplay('echo "$@" > $DIR/args\nwc -c > $DIR/bytes');
    const output = await new AlsaSink('plughw:1,0').open(mono);
    await output.write(new Int16Array(RATE));
    await output.write(new Int16Array(RATE / 2));
    await output.drain();
    await output.close();
    expect(readFileSync(join(dir, 'args'), 'utf8').trim()).toBe('-q -t raw -f S16_LE -r 48000 -c 1 -D plughw:1,0');
    expect(Number(readFileSync(join(dir, 'bytes'), 'utf8'))).toBe(1.5 * RATE * 2);
  });

  it('holds the writer back until aplay takes the sound (back-pressure)', async () => {
    // This aplay reads nothing until told to.
    const dir = fakeAplay('while [ ! -f $DIR/go ]; do sleep 0.02; done\nwc -c > $DIR/bytes');
    const output = await new AlsaSink().open(mono);
    await output.write(new Int16Array(4800)); // 9.6 kB: fits the pipe, resolves at once
    let taken = false;
    const big = output.write(new Int16Array(20 * RATE)).then(() => {
      taken = true;
    }); // 1.9 MB: far more than a pipe holds
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(taken).toBe(false);
    writeFileSync(join(dir, 'go'), '');
    await big;
    await output.drain();
    expect(Number(readFileSync(join(dir, 'bytes'), 'utf8'))).toBe((4800 + 20 * RATE) * 2);
  });

  it('turns a non-zero exit into an AudioDeviceError with what aplay said', async () => {
    fakeAplay('cat > /dev/null\necho "aplay: main:831: audio open error: Device or resource busy" >&2\nexit 1');
    const output = await new AlsaSink().open(mono);
    await output.write(new Int16Array(480));
    const error = await output.drain().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AudioDeviceError);
    expect((error as Error).message).toMatch(/aplay exited with 1: .*Device or resource busy/);
  });

  it('fails a write once aplay has died, and fails to open when aplay cannot start', async () => {
    fakeAplay('echo "aplay: no such device" >&2\nexit 1');
    const output = await new AlsaSink().open(mono);
    const error = await (async () => {
      for (let i = 0; i < 100; i++) await output.write(new Int16Array(RATE));
    })().catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/no such device/);
    await output.close();

    await expect(new AlsaSink('default', 'loa-no-such-aplay').open(mono)).rejects.toThrow(
      /cannot start loa-no-such-aplay/,
    );
  });

  it('abort kills aplay at once, and SIGKILLs one that ignores SIGTERM', async () => {
    const dir = fakeAplay('echo $$ > $DIR/pid\nexec sleep 30');
    const output = await new AlsaSink().open(mono);
    await output.write(new Int16Array(4800));
    await until(() => existsSync(join(dir, 'pid')));
    let started = Date.now();
    await output.abort();
    expect(Date.now() - started).toBeLessThan(500);
    expect(isAlive(Number(readFileSync(join(dir, 'pid'), 'utf8')))).toBe(false);
    await output.close();

    const stubborn = fakeAplay("trap '' TERM\necho $$ > $DIR/pid\nwhile :; do sleep 0.05; done");
    const held = await new AlsaSink('default', 'aplay', 200).open(mono);
    await until(() => existsSync(join(stubborn, 'pid')));
    started = Date.now();
    await held.abort();
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(isAlive(Number(readFileSync(join(stubborn, 'pid'), 'utf8')))).toBe(false);
  });
});

describe('the renderer on a failing sound device', () => {
  const tone = oggOpusFile(sine(440, 1));
  const item = playable({ segments: [{ language: 'vie', sha256: sha256(tone), durationMs: 1000 }] });

  function rig() {
    const clock = new ManualClock(0);
    const gpio = new VirtualGpio();
    const faults: string[] = [];
    const renderer = new AudioRenderer({
      sink: new AlsaSink('default'),
      amplifier: new Amplifier({ gpio, line: 'amp', clock, warmUpMs: 100, holdMs: 1000 }),
      clock,
      readAsset: async (sha) => (sha === sha256(tone) ? tone : undefined),
      onFault: (code) => faults.push(code),
    });
    return { clock, gpio, faults, renderer };
  }

  it('reports audio_device_error when aplay fails, and still switches the amplifier off', async () => {
    fakeAplay('echo "aplay: device busy" >&2\nexit 1');
    const { clock, gpio, faults, renderer } = rig();
    const outcome = await drive(clock, renderer.render(item, new AbortController().signal));
    expect(outcome).toMatchObject({ result: 'failed', fault: 'audio_device_error' });
    expect(outcome.result === 'failed' && outcome.reason).toMatch(/^audio_device_error: .*device busy/);
    expect(faults).toEqual(['audio_device_error']);
    await clock.advance(1000);
    expect(gpio.writes).toEqual([
      ['amp', true],
      ['amp', false],
    ]);
  });

  it('reports audio_device_error when aplay is not there at all', async () => {
    vi.stubEnv('PATH', scriptDir({}));
    const { clock, faults, renderer } = rig();
    const outcome = await drive(clock, renderer.render(item, new AbortController().signal));
    expect(outcome).toMatchObject({ result: 'failed', fault: 'audio_device_error', playedMs: 0 });
    expect(outcome.result === 'failed' && outcome.reason).toMatch(/cannot start aplay/);
    expect(faults).toEqual(['audio_device_error']);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
