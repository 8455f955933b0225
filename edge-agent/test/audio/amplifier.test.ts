import { describe, expect, it } from 'vitest';
import { Amplifier, AmplifierError, type AmplifierOptions } from '../../src/audio/amplifier.js';
import { CommandLineProbe } from '../../src/audio/command-line-probe.js';
import { VirtualGpio } from '../../src/audio/virtual-gpio.js';
import { ManualClock } from '../../src/hardware/manual-clock.js';
import type { Gpio, LineCheck } from '../../src/hardware/seams.js';

/** An amplifier on a virtual relay and a manual clock, logging every relay write, probe and fault with its time. */
function rig(options: Partial<AmplifierOptions> = {}, answer: () => Promise<LineCheck> = async () => ({ ok: true })) {
  const clock = new ManualClock(0);
  const gpio = new VirtualGpio();
  const log: string[] = [];
  const at = () => `@${clock.monotonic()}`;
  const relay: Gpio = {
    write: async (line, value) => {
      await gpio.write(line, value);
      log.push(`${at()} ${line}=${value ? 1 : 0}`);
    },
    read: (line) => gpio.read(line),
  };
  const amplifier = new Amplifier({
    gpio: relay,
    line: '17',
    clock,
    probe: {
      check: () => {
        log.push(`${at()} probe`);
        return answer();
      },
    },
    onFault: (fault) => log.push(`${at()} fault ${fault}`),
    ...options,
  });
  return { clock, gpio, log, amplifier };
}

/** Resolves when the promise does, noting the clock time. */
function timed<T>(clock: ManualClock, promise: Promise<T>) {
  const state: { at?: number; value?: T; error?: unknown } = {};
  promise.then(
    (value) => {
      state.at = clock.monotonic();
      state.value = value;
    },
    (error: unknown) => {
      state.at = clock.monotonic();
      state.error = error;
    },
  );
  return state;
}

describe('amplifier power sequencing', () => {
  it('powers on, warms up 1500 ms by default, holds 5 s after release, then powers off', async () => {
    const { clock, log, amplifier } = rig({ probe: undefined });
    const acquired = timed(clock, amplifier.acquire());
    await clock.advance(1499);
    expect(acquired.at).toBeUndefined();
    expect(amplifier.on).toBe(true);
    await clock.advance(1);
    expect(acquired.at).toBe(1500);
    await clock.advance(1500); // sound plays
    amplifier.release();
    await clock.advance(4999);
    expect(amplifier.on).toBe(true);
    await clock.advance(1);
    expect(amplifier.on).toBe(false);
    expect(log).toEqual(['@0 17=1', '@8000 17=0']);
  });

  it('does not click the relay between back-to-back items, nor warm up again', async () => {
    const { clock, log, amplifier } = rig({ probe: undefined, warmUpMs: 1000, holdMs: 3000 });
    const first = amplifier.acquire();
    await clock.advance(1000);
    await first;
    amplifier.release();
    await clock.advance(2000); // within the hold
    const second = timed(clock, amplifier.acquire());
    await clock.advance(0);
    expect(second.at).toBe(3000); // at once
    await clock.advance(10_000); // held by the second item: no power-off
    amplifier.release();
    await clock.advance(3000);
    expect(log).toEqual(['@0 17=1', '@16000 17=0']);
  });

  it('lets a second user that comes during the warm-up wait for the same warm-up', async () => {
    const { clock, log, amplifier } = rig({ probe: undefined });
    const first = timed(clock, amplifier.acquire());
    await clock.advance(1000);
    const second = timed(clock, amplifier.acquire());
    await clock.advance(500);
    expect([first.at, second.at]).toEqual([1500, 1500]);
    expect(amplifier.users).toBe(2);
    amplifier.release();
    await clock.advance(60_000);
    expect(amplifier.on).toBe(true); // one user still holds it
    amplifier.release();
    await clock.advance(5000);
    expect(log).toEqual(['@0 17=1', '@66500 17=0']);
    amplifier.release(); // one too many: ignored
    expect(amplifier.users).toBe(0);
  });

  it('drives an active-low relay line low to power on', async () => {
    const { clock, gpio, amplifier } = rig({ probe: undefined, activeLow: true, holdMs: 0 });
    const on = amplifier.acquire();
    await clock.advance(1500);
    await on;
    amplifier.release();
    await clock.advance(0);
    expect(gpio.writes).toEqual([
      ['17', false],
      ['17', true],
    ]);
  });

  it('checks the line once per power-on, after the warm-up, and reports what it finds', async () => {
    const checks: LineCheck[] = [];
    const { clock, log, amplifier } = rig({ onCheck: (c) => checks.push(c) }, async () => ({
      ok: false,
      fault: 'speaker_line_open',
    }));
    const first = timed(clock, amplifier.acquire());
    await clock.advance(1500);
    expect(first.value).toEqual({ ok: false, fault: 'speaker_line_open' });
    amplifier.release();
    await clock.advance(1000);
    const again = timed(clock, amplifier.acquire()); // still powered: the same check, not a new one
    await clock.advance(0);
    expect(again.value).toEqual({ ok: false, fault: 'speaker_line_open' });
    expect(log).toEqual(['@0 17=1', '@1500 probe', '@1500 fault speaker_line_open']);
    expect(checks).toHaveLength(1);
  });

  it('plays on without a check when the probe fails or hangs', async () => {
    const errors: string[] = [];
    const { clock, amplifier } = rig(
      { probeTimeoutMs: 800, onProbeError: (e) => errors.push(e.message) },
      () => new Promise<LineCheck>(() => {}),
    );
    const acquired = timed(clock, amplifier.acquire());
    await clock.advance(1500 + 799);
    expect(acquired.at).toBeUndefined();
    await clock.advance(1);
    expect(acquired).toEqual({ at: 2300, value: undefined });
    expect(errors).toEqual(['line check took longer than 800 ms']);
  });

  it('reports amplifier_fault when the relay cannot be switched, and tries again next time', async () => {
    const { clock, gpio, log, amplifier } = rig({ probe: undefined });
    gpio.failure = new Error('gpioset: Device or resource busy');
    const failed = timed(clock, amplifier.acquire());
    await clock.advance(0);
    expect(failed.error).toBeInstanceOf(AmplifierError);
    expect(String(failed.error)).toMatch(/Device or resource busy/);
    expect(amplifier.users).toBe(0);
    expect(amplifier.on).toBe(false);
    expect(log).toEqual(['@0 fault amplifier_fault']);
    gpio.failure = undefined;
    const retried = timed(clock, amplifier.acquire());
    await clock.advance(1500);
    expect(retried.at).toBe(1500);
    expect(amplifier.on).toBe(true);
  });

  it('silent check: powers on, waits the warm-up, probes, powers off at once', async () => {
    const { clock, log, amplifier } = rig({}, async () => ({
      ok: false,
      speakerLineOhm: 0.2,
      fault: 'speaker_line_short',
    }));
    const check = timed(clock, amplifier.silentCheck());
    await clock.advance(1500);
    expect(check.value).toEqual({ ok: false, speakerLineOhm: 0.2, fault: 'speaker_line_short' });
    expect(log).toEqual(['@0 17=1', '@1500 probe', '@1500 fault speaker_line_short', '@1500 17=0']);
  });

  it('silent check while an item plays: probes without switching anything', async () => {
    const { clock, log, amplifier } = rig({ checkOnPowerOn: false });
    const playing = amplifier.acquire();
    await clock.advance(1500);
    await playing;
    const check = timed(clock, amplifier.silentCheck());
    await clock.advance(0);
    expect(check.value).toEqual({ ok: true });
    expect(amplifier.on).toBe(true);
    amplifier.release();
    await clock.advance(5000);
    expect(log).toEqual(['@0 17=1', '@1500 probe', '@6500 17=0']);
  });

  it('silent check needs a probe; shutdown powers off at once', async () => {
    const { clock, log, amplifier } = rig({ probe: undefined });
    await expect(amplifier.silentCheck()).rejects.toThrow(/no line check configured/);
    const playing = amplifier.acquire();
    await clock.advance(1500);
    await playing;
    await amplifier.shutdown();
    expect(amplifier.on).toBe(false);
    expect(log).toEqual(['@0 17=1', '@1500 17=0']);
  });
});

describe('command line probe', () => {
  it('reads the check a board command prints', async () => {
    expect(await new CommandLineProbe(`echo '{"ok":true,"speakerLineOhm":8}'`).check()).toEqual({
      ok: true,
      speakerLineOhm: 8,
    });
    expect(await new CommandLineProbe(`echo '{"ok":false,"fault":"amplifier_fault"}'`).check()).toEqual({
      ok: false,
      fault: 'amplifier_fault',
    });
  });

  it('refuses output it cannot trust, a failing command and a slow one', async () => {
    await expect(new CommandLineProbe('echo not json').check()).rejects.toThrow();
    await expect(new CommandLineProbe(`echo '{"ok":"yes"}'`).check()).rejects.toThrow(/printed/);
    await expect(new CommandLineProbe(`echo '{"ok":false,"fault":"melted"}'`).check()).rejects.toThrow(/printed/);
    await expect(new CommandLineProbe('exit 3').check()).rejects.toThrow();
    await expect(new CommandLineProbe('sleep 5', 100).check()).rejects.toThrow();
  });
});
