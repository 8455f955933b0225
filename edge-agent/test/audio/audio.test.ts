import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PlayableItem } from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { AlsaSink } from '../../src/audio/alsa-sink.js';
import { Amplifier } from '../../src/audio/amplifier.js';
import { AudioRenderer } from '../../src/audio/audio-renderer.js';
import { gainOf } from '../../src/audio/gain.js';
import { NullSink } from '../../src/audio/null-sink.js';
import { decodeOggOpus } from '../../src/audio/opus-decoder.js';
import { VirtualGpio } from '../../src/audio/virtual-gpio.js';
import { WavFileSink } from '../../src/audio/wav-file-sink.js';
import { ManualClock } from '../../src/hardware/manual-clock.js';
import type { AudioSink } from '../../src/hardware/seams.js';
import { systemClock } from '../../src/hardware/system-clock.js';
import { oggOpusFile, sine } from '../support/ogg-opus-fixture.js';

const tone440 = oggOpusFile(sine(440, 1.0));
const tone880 = oggOpusFile(sine(880, 0.5));
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const assets = new Map([
  [sha(tone440), tone440],
  [sha(tone880), tone880],
]);

function zeroCrossingHz(pcm: Int16Array): number {
  let crossings = 0;
  for (let i = 1; i < pcm.length; i++) if ((pcm[i - 1] as number) < 0 !== (pcm[i] as number) < 0) crossings++;
  return crossings / 2 / (pcm.length / 48000);
}

const item = (over: Partial<PlayableItem> = {}): PlayableItem => ({
  itemId: 'i1',
  priority: 'normal',
  startMode: 'hard',
  volume: 100,
  repeat: 2,
  prelude: 'none',
  segments: [
    { language: 'vie', sha256: sha(tone440), durationMs: 1000 },
    { language: 'hmn', sha256: sha(tone880), durationMs: 500 },
  ],
  ...over,
});

function rig(sink: AudioSink, clock = new ManualClock(Date.parse('2026-11-23T00:00:00Z'))) {
  const gpio = new VirtualGpio();
  const amplifier = new Amplifier({ gpio, line: 'amp', clock, warmUpMs: 1500, holdMs: 5000 });
  const faults: string[] = [];
  const renderer = new AudioRenderer({
    sink,
    amplifier,
    clock,
    readAsset: async (s) => assets.get(s),
    masterVolume: () => 100,
    onFault: (code) => faults.push(code),
  });
  return { gpio, amplifier, renderer, clock, faults };
}

describe('Ogg Opus decoding', () => {
  it('decodes a real Ogg Opus file to 48 kHz PCM of the right length and pitch', async () => {
    const pcm = await decodeOggOpus(tone440);
    expect(Math.abs(pcm.length - 48000)).toBeLessThan(960);
    expect(Math.abs(zeroCrossingHz(pcm.subarray(4800, 43200)) - 440)).toBeLessThan(5);
  });

  it('refuses what is not Ogg Opus', async () => {
    await expect(decodeOggOpus(Buffer.from('RIFF....WAVEfmt not opus at all'))).rejects.toThrow(/not Ogg Opus/);
  });
});

describe('gain', () => {
  it('follows a dB-linear dial: 100 full, 50 at -20 dB, 0 silent', () => {
    expect(gainOf(100)).toBe(1);
    expect(20 * Math.log10(gainOf(50))).toBeCloseTo(-20, 5);
    expect(gainOf(0)).toBe(0);
  });
});

describe('audio renderer', () => {
  it('powers the amplifier, warms up, plays segments in order per repetition, holds, then powers off', async () => {
    const clock = new ManualClock(0);
    const { gpio, renderer, amplifier } = rig(new NullSink(clock), clock);
    const progress: string[] = [];
    const done = renderer.render(item(), new AbortController().signal, (p) =>
      progress.push(`${clock.monotonic()} ${p.repetition} ${p.language}`),
    );
    // Decoding takes real time before the amplifier is switched on.
    for (let i = 0; i < 500 && gpio.writes.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await clock.advance(1499);
    expect(gpio.writes).toEqual([['amp', true]]);
    expect(progress).toEqual([]);
    await clock.advance(3600); // to just after the last segment ends
    const outcome = await done;
    expect(outcome.result).toBe('finished');
    expect(Math.abs(outcome.playedMs - 3000)).toBeLessThan(60); // the encoder trims a few ms
    // Each segment is reported when it starts to sound: after warm-up, ~1 s then ~0.5 s long.
    const heard = progress.map((p) => p.split(' '));
    expect(heard.map(([, rep, language]) => `${rep} ${language}`)).toEqual(['1 vie', '1 hmn', '2 vie', '2 hmn']);
    const times = heard.map(([ms]) => Number(ms));
    for (const [i, expected] of [1500, 2500, 3000, 4000].entries())
      expect(Math.abs((times[i] as number) - expected)).toBeLessThan(80);
    expect(amplifier.on).toBe(true);
    await clock.advance(5000);
    expect(gpio.writes).toEqual([
      ['amp', true],
      ['amp', false],
    ]);
  });

  it('writes a real WAV file of the decoded sound, chime first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-wav-'));
    const sink = new WavFileSink(dir);
    const outcome = await new AudioRenderer({
      sink,
      amplifier: new Amplifier({ gpio: new VirtualGpio(), line: 'amp', clock: systemClock, warmUpMs: 0, holdMs: 0 }),
      clock: systemClock,
      readAsset: async (s) => assets.get(s),
      masterVolume: () => 100,
    }).render(
      item({ repeat: 1, prelude: 'chime', segments: [item().segments[0] as never] }),
      new AbortController().signal,
    );
    expect(outcome.result).toBe('finished');
    const wav = readFileSync(sink.files[0] as string);
    expect(wav.toString('ascii', 0, 4)).toBe('RIFF');
    expect(wav.readUInt32LE(24)).toBe(48000);
    const seconds = wav.readUInt32LE(40) / 2 / 48000;
    expect(seconds).toBeGreaterThan(2.45); // 1.5 s chime + 1 s speech
    expect(seconds).toBeLessThan(2.55);
  }, 15_000);

  it('stops within a chunk when aborted, reporting what was heard', async () => {
    const clock = new ManualClock(0);
    const { renderer, amplifier } = rig(new NullSink(clock), clock);
    const abort = new AbortController();
    const done = renderer.render(item(), abort.signal);
    for (let i = 0; i < 500 && !amplifier.on; i++) await new Promise((r) => setTimeout(r, 5));
    await clock.advance(1500 + 600);
    abort.abort();
    await clock.advance(200);
    const outcome = await done;
    expect(outcome.result).toBe('aborted');
    expect(outcome.playedMs).toBeGreaterThanOrEqual(600);
    expect(outcome.playedMs).toBeLessThanOrEqual(1000);
  });

  it('fails an item whose asset is missing, before powering anything', async () => {
    const clock = new ManualClock(0);
    const { renderer, gpio } = rig(new NullSink(clock), clock);
    const outcome = await renderer.render(
      item({ segments: [{ language: 'vie', sha256: 'f'.repeat(64), durationMs: 1 }] }),
      new AbortController().signal,
    );
    expect(outcome).toMatchObject({ result: 'failed', reason: expect.stringMatching(/asset_missing/) });
    expect(gpio.writes).toEqual([]);
  });
});

describe('ALSA sink', () => {
  function fakeAplay(exitCode: number): { command: string; log: string } {
    const dir = mkdtempSync(join(tmpdir(), 'fake-aplay-'));
    const log = join(dir, 'log');
    const command = join(dir, 'aplay');
    writeFileSync(
      command,
      `#!/bin/sh\necho "$@" > ${log}\nwc -c >> ${log}\necho "aplay: device busy" >&2\nexit ${exitCode}\n`,
    );
    chmodSync(command, 0o755);
    return { command, log };
  }

  it('feeds aplay raw 48 kHz mono PCM on the configured device', async () => {
    const fake = fakeAplay(0);
    const output = await new AlsaSink('hw:1,0', fake.command).open({ sampleRate: 48000, channels: 1 });
    await output.write(new Int16Array(48000));
    await output.drain();
    const [args, bytes] = readFileSync(fake.log, 'utf8').trim().split('\n');
    expect(args).toBe('-q -t raw -f S16_LE -r 48000 -c 1 -D hw:1,0');
    expect(Number(bytes)).toBe(96000);
  });

  it('turns a failing device into an audio_device_error fault and a failed item', async () => {
    const fake = fakeAplay(1);
    const { renderer, faults } = rig(new AlsaSink('default', fake.command), systemClock as unknown as ManualClock);
    const outcome = await renderer.render(item({ repeat: 1 }), new AbortController().signal);
    expect(outcome).toMatchObject({ result: 'failed', reason: expect.stringMatching(/device busy/) });
    expect(faults).toEqual(['audio_device_error']);
  }, 15_000);
});
