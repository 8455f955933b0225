import { describe, expect, it } from 'vitest';
import { DeadAirDetector } from '../src/relay/dead-air.js';

const RATE = 48_000;

/** `ms` of a sine at `dbfs` (RMS, full scale 1.0). */
function tone(ms: number, dbfs: number): Float32Array {
  const amplitude = 10 ** (dbfs / 20) * Math.SQRT2;
  const out = new Float32Array((RATE * ms) / 1000);
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * 440 * i) / RATE);
  return out;
}

/** Feeds `seconds` of the signal in 100 ms chunks, each arriving at its real time after `from`. */
function feedFor(detector: DeadAirDetector, from: number, seconds: number, dbfs: number): number {
  let at = from;
  for (let i = 0; i < seconds * 10; i++) {
    at += 100;
    detector.feed(tone(100, dbfs), at);
  }
  return at;
}

describe('dead-air detection', () => {
  it('keeps a stream with sound alive, however long', () => {
    const detector = new DeadAirDetector({ deadAirMs: 3000 }, 0);
    const at = feedFor(detector, 0, 20, -20);
    expect(detector.check(at)).toEqual({ dead: false });
    expect(detector.soundMs).toBe(20_000);
  });

  it('calls silence dead air after deadAirMs below -50 dBFS, not before', () => {
    const detector = new DeadAirDetector({ deadAirMs: 3000 }, 0);
    let at = feedFor(detector, 0, 2, -20);
    at = feedFor(detector, at, 2.8, -60);
    expect(detector.check(at).dead).toBe(false);
    at = feedFor(detector, at, 0.3, -60);
    expect(detector.check(at)).toMatchObject({ dead: true, reason: 'silence' });
    expect(detector.soundMs).toBe(2000);
  });

  it('counts quiet sound above the threshold as sound (-45 dBFS is programme, not dead air)', () => {
    const detector = new DeadAirDetector({ deadAirMs: 3000 }, 0);
    const at = feedFor(detector, 0, 10, -45);
    expect(detector.check(at)).toEqual({ dead: false });
  });

  it('calls no data dead air after deadAirMs, including a stream that never sent anything', () => {
    const never = new DeadAirDetector({ deadAirMs: 3000 }, 1000);
    expect(never.check(3999).dead).toBe(false);
    expect(never.check(4000)).toMatchObject({ dead: true, reason: 'no_data', detail: 'no data for 3.0 s' });

    const stalled = new DeadAirDetector({ deadAirMs: 3000 }, 0);
    const at = feedFor(stalled, 0, 5, -20);
    expect(stalled.check(at + 2900).dead).toBe(false);
    expect(stalled.check(at + 3000)).toMatchObject({ dead: true, reason: 'no_data' });
  });

  it('calls a source that ended dead at once, with what it said', () => {
    const detector = new DeadAirDetector({ deadAirMs: 10_000 }, 0);
    const at = feedFor(detector, 0, 1, -20);
    detector.end(at, 'Connection refused');
    expect(detector.check(at)).toEqual({ dead: true, reason: 'ended', detail: 'Connection refused' });
  });

  it('judges level over 100 ms blocks across chunk boundaries', () => {
    const detector = new DeadAirDetector({ deadAirMs: 1000 }, 0);
    // 7 ms chunks: a block is completed only every 14-15 of them.
    const signal = tone(2000, -20);
    let at = 0;
    for (let i = 0; i < signal.length; i += 336) {
      at += 7;
      detector.feed(signal.subarray(i, i + 336), at);
    }
    expect(detector.soundMs).toBe(2000);
    expect(detector.check(at).dead).toBe(false);
  });

  it('honours a configured silence level', () => {
    const strict = new DeadAirDetector({ deadAirMs: 1000, silenceDbfs: -30 }, 0);
    const at = feedFor(strict, 0, 1.5, -40);
    expect(strict.check(at)).toMatchObject({ dead: true, reason: 'silence', detail: 'below -30 dBFS for 1.5 s' });
  });
});
