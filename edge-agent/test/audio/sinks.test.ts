import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NullSink } from '../../src/audio/null-sink.js';
import { testTone } from '../../src/audio/tones.js';
import { WavFileSink } from '../../src/audio/wav-file-sink.js';
import { ManualClock } from '../../src/hardware/manual-clock.js';
import { parseWav, peakHz, RATE } from './helpers.js';

const mono = { sampleRate: RATE, channels: 1 };

describe('WAV file sink', () => {
  it('writes a file a player can parse, as long as what was written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loa-wav-'));
    const sink = new WavFileSink(dir);
    const output = await sink.open(mono);
    const tone = testTone(750);
    // In uneven blocks, as the renderer writes them.
    for (let at = 0; at < tone.length; at += 4321) await output.write(tone.subarray(at, at + 4321));
    await output.drain();
    await output.close();
    await output.close(); // twice is harmless
    expect(sink.files).toEqual([join(dir, 'output-0001.wav')]);
    const wav = parseWav(readFileSync(sink.files[0] as string));
    expect(wav).toMatchObject({ channels: 1, sampleRate: RATE, bits: 16 });
    expect(wav.samples.length).toBe(0.75 * RATE);
    expect(Buffer.from(wav.samples.buffer).equals(Buffer.from(tone.buffer))).toBe(true);
    expect(peakHz(wav.samples, 950, 1050)).toBe(1000);
    await expect(output.write(tone)).rejects.toThrow(/closed/);
  });

  it('gives each output its own file and keeps what an aborted one wrote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'loa-wav-'));
    const sink = new WavFileSink(dir);
    const first = await sink.open(mono);
    await first.write(testTone(100));
    await first.abort();
    await first.close();
    const second = await sink.open({ sampleRate: 16_000, channels: 2 });
    await second.close();
    expect(sink.files.map((f) => f.slice(dir.length + 1))).toEqual(['output-0001.wav', 'output-0002.wav']);
    expect(parseWav(readFileSync(sink.files[0] as string)).samples.length).toBe(4800);
    expect(parseWav(readFileSync(sink.files[1] as string))).toMatchObject({ channels: 2, sampleRate: 16_000 });
  });
});

describe('null sink', () => {
  it('takes writes at once and drains when the written sound has played on the clock', async () => {
    const clock = new ManualClock(0);
    const output = await new NullSink(clock).open(mono);
    await output.write(new Int16Array(RATE)); // 1 s
    await output.write(new Int16Array(RATE / 2)); // 0.5 s more, queued behind
    expect(clock.monotonic()).toBe(0);
    let drained = false;
    const draining = output.drain().then(() => {
      drained = true;
    });
    await clock.advance(1499);
    expect(drained).toBe(false);
    await clock.advance(1);
    await draining;
    expect(drained).toBe(true);
    expect(clock.monotonic()).toBe(1500);
  });

  it('counts from now after it has run dry, and an abort ends the wait at once', async () => {
    const clock = new ManualClock(0);
    const output = await new NullSink(clock).open({ sampleRate: RATE, channels: 2 });
    await output.write(new Int16Array(RATE)); // 0.5 s of stereo
    await clock.advance(2000);
    await output.drain(); // long played: resolves without time passing
    expect(clock.monotonic()).toBe(2000);
    await output.write(new Int16Array(2 * RATE)); // 1 s, from 2000
    let drained = false;
    const draining = output.drain().then(() => {
      drained = true;
    });
    await clock.advance(400);
    expect(drained).toBe(false);
    await output.abort();
    await draining;
    expect(clock.monotonic()).toBe(2400);
    expect(clock.nextDueIn()).toBeUndefined(); // no timer left behind
    await output.close();
  });
});
