import * as shared from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { applyGain, floatToPcm16, gainOf, LIMITER_KNEE, limit, volumeDb } from '../../src/audio/gain.js';
import { CHIME_HZ, chime, SIREN_HIGH_HZ, SIREN_LOW_HZ, siren, testTone } from '../../src/audio/tones.js';
import { PRELUDE_MS } from '../../src/playback/timed-renderer.js';
import { goertzel, peakHz, RATE, rms, zeroCrossingHz } from './helpers.js';

const db = (gain: number) => 20 * Math.log10(gain);

describe('gain', () => {
  it('follows a dB-linear dial: 0.4 dB a step, 100 at full scale, 0 silent', () => {
    expect(gainOf(100)).toBe(1);
    expect(db(gainOf(75))).toBeCloseTo(-10, 6);
    expect(db(gainOf(50))).toBeCloseTo(-20, 6);
    expect(db(gainOf(25))).toBeCloseTo(-30, 6);
    expect(db(gainOf(1))).toBeCloseTo(-39.6, 6);
    expect(gainOf(0)).toBe(0);
    expect(volumeDb(0)).toBe(Number.NEGATIVE_INFINITY);
    // Out of range and nonsense stay safe: never above full scale, never negative.
    expect(gainOf(150)).toBe(1);
    expect(gainOf(-5)).toBe(0);
    expect(gainOf(Number.NaN)).toBe(0);
    // Every step up is the same ratio (equal loudness steps).
    for (let v = 2; v <= 100; v++) expect(db(gainOf(v)) - db(gainOf(v - 1))).toBeCloseTo(0.4, 9);
  });

  it('scales samples by the gain: volume 50 is 20 dB down, 75 is 10 dB down', () => {
    const tone = testTone(200);
    const quiet = applyGain(tone, gainOf(50));
    expect(db(rms(quiet) / rms(tone))).toBeCloseTo(-20, 1);
    expect(applyGain(tone, 0).every((s) => s === 0)).toBe(true);
    const float = Float32Array.from({ length: 480 }, (_, i) => 0.25 * Math.sin((2 * Math.PI * i) / 48));
    expect(db(rms(floatToPcm16(float, gainOf(75))) / (0.25 * 32767 * Math.SQRT1_2))).toBeCloseTo(-10, 1);
  });

  it('limits softly: linear below -1 dBFS, smooth and within full scale above, never wrapping', () => {
    for (const x of [0, 0.1, -0.5, 0.88, -LIMITER_KNEE]) expect(limit(x)).toBe(x);
    let previous = limit(LIMITER_KNEE);
    for (let x = LIMITER_KNEE; x <= 4; x += 0.01) {
      const y = limit(x);
      expect(y).toBeGreaterThanOrEqual(previous); // monotonic
      expect(y).toBeLessThanOrEqual(1);
      expect(limit(-x)).toBe(-y);
      previous = y;
    }
    // The slope is continuous at the knee (no audible corner).
    expect((limit(LIMITER_KNEE + 1e-6) - limit(LIMITER_KNEE)) / 1e-6).toBeCloseTo(1, 3);
    // Opus overshoot past full scale comes out as the loudest samples, not wrapped to the other sign.
    const pcm = floatToPcm16(Float32Array.from([1.3, -1.3, 2, -2, 1]), 1);
    expect([...pcm].map((s) => Math.sign(s))).toEqual([1, -1, 1, -1, 1]);
    for (const s of pcm) expect(Math.abs(s)).toBeGreaterThan(0.95 * 32767);
    const full = applyGain(Int16Array.from([32767, -32768]), 1);
    expect(full[0]).toBeLessThanOrEqual(32767);
    expect(full[1]).toBeGreaterThanOrEqual(-32767);
  });
});

describe('synthesised sounds', () => {
  it('have the lengths the timing-only renderer assumes', () => {
    expect(chime().length).toBe((PRELUDE_MS.chime * RATE) / 1000);
    expect(siren().length).toBe((PRELUDE_MS.siren * RATE) / 1000);
    expect(testTone(2500).length).toBe(2.5 * RATE);
  });

  it('are the shared tones of @loa/protocols in 16 bits, made once', () => {
    const pcm16 = (x: Float32Array) =>
      Int16Array.from(x, (v) => Math.max(-32767, Math.min(32767, Math.round(v * 32767))));
    const same = (a: Int16Array, b: Int16Array) => Buffer.from(a.buffer).equals(Buffer.from(b.buffer));
    expect(same(chime(), pcm16(shared.chime()))).toBe(true);
    expect(same(siren(), pcm16(shared.siren(3)))).toBe(true);
    expect(same(siren(5), pcm16(shared.siren(5)))).toBe(true);
    expect(same(testTone(500, 440), pcm16(shared.testTone(500, 440)))).toBe(true);
    expect(chime()).toBe(chime());
    expect(siren()).toBe(siren(3));
    expect(siren(1)).not.toBe(siren(3));
  });

  it('the chime is two tones, ding then dong, that start and end quietly', () => {
    const pcm = chime();
    const ding = pcm.subarray(0.1 * RATE, 0.5 * RATE);
    const dong = pcm.subarray(0.7 * RATE, 1.1 * RATE);
    const [high, low] = CHIME_HZ;
    expect(goertzel(ding, high)).toBeGreaterThan(20 * goertzel(ding, low));
    expect(goertzel(dong, low)).toBeGreaterThan(5 * goertzel(dong, high));
    expect(Math.abs(pcm[0] as number)).toBeLessThan(100);
    expect(Math.abs(pcm[pcm.length - 1] as number)).toBeLessThan(100);
    const peak = pcm.reduce((m, s) => Math.max(m, Math.abs(s)), 0);
    expect(peak).toBeGreaterThan(0.3 * 32767);
    expect(peak).toBeLessThan(0.7 * 32767);
  });

  it('the siren sweeps up and down between its limits, twice', () => {
    const pcm = siren();
    // The pitch of each 50 ms window.
    const pitches: number[] = [];
    for (let at = 0; at + 2400 <= pcm.length; at += 2400) pitches.push(zeroCrossingHz(pcm.subarray(at, at + 2400)));
    expect(Math.min(...pitches)).toBeLessThan(SIREN_LOW_HZ + 60);
    expect(Math.max(...pitches)).toBeGreaterThan(SIREN_HIGH_HZ - 60);
    // Low at 0 s, 2 s and 4 s, high at 1 s and 3 s, rising and falling in between.
    const at = (s: number) => pitches[Math.min(pitches.length - 1, Math.round(s * 20))] as number;
    for (const s of [0.05, 2, 3.95]) expect(at(s)).toBeLessThan(SIREN_LOW_HZ + 80);
    for (const s of [1, 3]) expect(at(s)).toBeGreaterThan(SIREN_HIGH_HZ - 80);
    for (const s of [0.5, 2.5]) expect(at(s + 0.2)).toBeGreaterThan(at(s - 0.2) + 100);
    for (const s of [1.5, 3.5]) expect(at(s + 0.2)).toBeLessThan(at(s - 0.2) - 100);
  });

  it('the test tone is a steady 1 kHz of the asked length', () => {
    const pcm = testTone(1000);
    expect(peakHz(pcm.subarray(2400, 45_600), 950, 1050)).toBe(1000);
    expect(testTone(300, 440).length).toBe(0.3 * RATE);
    expect(peakHz(testTone(300, 440), 400, 480)).toBe(440);
  });
});
