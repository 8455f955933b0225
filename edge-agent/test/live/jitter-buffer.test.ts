import type { LivePacket } from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { JitterBuffer, type PlayoutFrame } from '../../src/live/jitter-buffer.js';

// Controller time is a plain number here: the buffer is pure, every call gets "now".
const T0 = 1_800_000_000_000;
const FRAME = 20;
const LATENCY = 250;

/** Packet `seq` of a steady stream: three 20 ms frames, the frame bytes naming their slot. */
function packet(seq: number, over: Partial<LivePacket> = {}): LivePacket {
  return {
    seq,
    captureTs: T0 + seq * 3 * FRAME,
    frameMs: FRAME,
    last: false,
    frames: [0, 1, 2].map((k) => Uint8Array.of(seq, k, 0xaa)),
    ...over,
  };
}

const buffer = (over: Partial<ConstructorParameters<typeof JitterBuffer>[0]> = {}) =>
  new JitterBuffer({ frameMs: FRAME, latencyMs: LATENCY, ...over });

/** What `take` gave, in short: "seq.k" for a frame, "C" concealed, "S" silence, "I" inserted. */
function label(frame: PlayoutFrame | 'end'): string {
  if (frame === 'end') return 'end';
  if (frame.kind === 'audio') return `${frame.seq}.${frame.frameIndex}`;
  if (frame.inserted) return 'I';
  return frame.kind === 'conceal' ? 'C' : 'S';
}

/** Takes up to n frames at controller time `now`. */
function takeN(b: JitterBuffer, n: number, now = T0): PlayoutFrame[] {
  const out: PlayoutFrame[] = [];
  for (let i = 0; i < n; i++) {
    const next = b.take(now);
    if (next === 'end') break;
    out.push(next);
  }
  return out;
}

describe('jitter buffer', () => {
  it('plays frames in slot order whatever order they came in, each at captureTs + k·frameMs + latency', () => {
    const b = buffer();
    for (const seq of [1, 0, 3, 2]) b.push(packet(seq), T0);
    expect(b.start(T0)).toBe(true);
    const frames = takeN(b, 12);
    expect(frames.map(label)).toEqual([
      '0.0',
      '0.1',
      '0.2',
      '1.0',
      '1.1',
      '1.2',
      '2.0',
      '2.1',
      '2.2',
      '3.0',
      '3.1',
      '3.2',
    ]);
    frames.forEach((f, i) => {
      expect(f.slot).toBe(T0 + i * FRAME);
      expect(f.playoutAt).toBe(T0 + i * FRAME + LATENCY);
    });
  });

  it('drops duplicate packets and duplicate slots', () => {
    const b = buffer();
    expect(b.push(packet(0), T0)).toBe(3);
    expect(b.push(packet(0), T0)).toBe(0);
    // Another packet claiming the same times (a replay under a new seq): the slots are taken.
    expect(b.push(packet(7, { captureTs: T0 }), T0)).toBe(0);
    expect(b.stats.duplicates).toBe(6);
    b.start(T0);
    expect(takeN(b, 3).map(label)).toEqual(['0.0', '0.1', '0.2']);
  });

  it('counts a frame that comes after its slot was played as late, and never plays it', () => {
    const b = buffer();
    b.push(packet(0), T0);
    b.start(T0);
    takeN(b, 3);
    // Packet 1 is lost: its slots are concealed when their turn comes ...
    expect(takeN(b, 3).map(label)).toEqual(['C', 'C', 'C']);
    // ... and when it does arrive, it is late.
    b.push(packet(1), T0 + 200);
    expect(b.stats.late).toBe(3);
    b.push(packet(2), T0 + 200);
    expect(takeN(b, 1).map(label)).not.toContain('1.0');
  });

  it('conceals up to three missing frames in a row, then plays silence, until frames come again', () => {
    const b = buffer();
    b.push(packet(0), T0);
    b.push(packet(3), T0);
    b.start(T0);
    const frames = takeN(b, 12);
    expect(frames.map(label)).toEqual(['0.0', '0.1', '0.2', 'C', 'C', 'C', 'S', 'S', 'S', '3.0', '3.1', '3.2']);
    // The missing slots keep the timeline.
    frames.forEach((f, i) => {
      expect(f.playoutAt).toBe(T0 + i * FRAME + LATENCY);
    });
    expect(b.stats.missing).toBe(6);
  });

  it('follows a timeline anchored again after a pause (within half a frame of the grid)', () => {
    const b = buffer();
    b.push(packet(0), T0);
    // The speaker paused; the controller's timeline restarts 207 ms after the end of packet 0.
    b.push(packet(1, { captureTs: T0 + 60 + 207 }), T0);
    b.start(T0);
    const frames = takeN(b, 16);
    const audio = frames.filter((f) => f.kind === 'audio');
    expect(audio.map((f) => f.slot)).toEqual([T0, T0 + 20, T0 + 40, T0 + 267, T0 + 287, T0 + 307]);
    expect(audio.map((f) => f.playoutAt - f.slot)).toEqual(Array(6).fill(LATENCY));
  });

  it('skips frames whose time has passed before the start (a late joiner), and frames wholly in the past while waiting', () => {
    const b = buffer();
    for (let seq = 0; seq < 10; seq++) b.push(packet(seq), T0);
    // Heard from T0 + 500: frames heard before that (slot + 250 + 20 <= T0 + 500) are skipped.
    expect(b.start(T0 + 500)).toBe(true);
    const first = b.take(T0 + 500) as PlayoutFrame;
    expect(first.kind).toBe('audio');
    expect(first.slot).toBe(T0 + 240); // heard 490..510: still partly ahead
    expect(b.stats.skipped).toBe(12);
  });

  it('refuses frames meant more than 10 s ahead, and bounds what waits before the start', () => {
    const b = buffer();
    expect(b.push(packet(0, { captureTs: T0 + 11_000 }), T0)).toBe(0);
    expect(b.stats.tooEarly).toBe(3);
    for (let seq = 0; seq < 500; seq++) b.push(packet(seq), T0 + seq * 60);
    // While it waits for its turn only frames still to be heard are kept.
    expect(b.size).toBeLessThanOrEqual(Math.ceil((LATENCY + FRAME) / FRAME) + 3);
  });

  it('raises the delay by one inserted frame when more than 2 % of the last second came late', () => {
    const b = buffer();
    for (const seq of [0, 1, 2, 3, 5, 6]) b.push(packet(seq), T0);
    b.start(T0);
    expect(takeN(b, 18).map(label).slice(12)).toEqual(['C', 'C', 'C', '5.0', '5.1', '5.2']);
    b.push(packet(4), T0 + 360); // late: 3 frames in a second > 2 % of 50
    expect(b.stats.late).toBe(3);
    const next = b.take(T0 + 360) as PlayoutFrame;
    expect(label(next)).toBe('I');
    expect(next.kind).toBe('conceal');
    expect(b.extraDelayMs).toBe(FRAME);
    // Everything after is heard a frame later, back to back with the inserted frame.
    const after = takeN(b, 4, T0 + 360);
    expect(after.map(label)).toEqual(['6.0', '6.1', '6.2', 'C']);
    expect(after.map((f) => f.playoutAt)).toEqual([0, 1, 2, 3].map((i) => next.playoutAt + (i + 1) * FRAME));
    expect(after.map((f) => f.playoutAt - f.slot)).toEqual(Array(4).fill(LATENCY + FRAME));
  });

  it('does not raise for a single late frame (2 % of 50 frames is one)', () => {
    const b = buffer();
    b.push(packet(0), T0);
    b.start(T0);
    takeN(b, 6);
    b.push(packet(1, { frames: [Uint8Array.of(1)] }), T0 + 200);
    expect(b.stats.late).toBe(1);
    b.push(packet(3), T0 + 200);
    expect(takeN(b, 5).some((f) => f.kind !== 'audio' && f.inserted)).toBe(false);
    expect(b.extraDelayMs).toBe(0);
  });

  it('never raises the delay beyond twice the latency', () => {
    const b = buffer({ latencyMs: 40 });
    let seq = 0;
    b.push(packet(seq++), T0);
    b.start(T0);
    for (let round = 0; round < 6; round++) {
      takeN(b, 6);
      b.push(packet(seq - 1 + 100), T0 + round * 2000); // filler so the buffer is not drained
      b.push(packet(seq, { captureTs: T0 - 10_000 + round }), T0 + round * 2000); // late
      seq++;
    }
    expect(b.extraDelayMs).toBeLessThanOrEqual(40);
    expect(b.stats.inserted).toBe(2);
  });

  it('lowers the delay after 10 s without a late frame by dropping a quiet frame, or any frame after 2 s', () => {
    const b = buffer({ latencyMs: 100 });
    b.push(packet(0), T0);
    b.start(T0);
    takeN(b, 6);
    b.push(packet(1), T0 + 1000); // late
    b.take(T0 + 1000);
    expect(b.extraDelayMs).toBe(FRAME);
    // Not yet: 9 s later.
    expect(b.lowerNow(T0 + 10_000, true)).toBe(false);
    // Due at 11 s: a loud frame is kept, a quiet one is dropped.
    expect(b.lowerNow(T0 + 11_000, false)).toBe(false);
    expect(b.lowerNow(T0 + 11_100, true)).toBe(true);
    expect(b.extraDelayMs).toBe(0);
    expect(b.stats.dropped).toBe(1);
    // At zero nothing more is dropped.
    expect(b.lowerNow(T0 + 30_000, true)).toBe(false);
  });

  it('drops a loud frame when no quiet one came within 2 s of the lowering being due', () => {
    const b = buffer({ latencyMs: 100 });
    b.push(packet(0), T0);
    b.start(T0);
    takeN(b, 6);
    b.push(packet(1), T0 + 1000);
    b.take(T0 + 1000);
    expect(b.extraDelayMs).toBe(FRAME);
    expect(b.lowerNow(T0 + 11_000, false)).toBe(false);
    expect(b.lowerNow(T0 + 12_999, false)).toBe(false);
    expect(b.lowerNow(T0 + 13_000, false)).toBe(true);
  });

  it('after the last packet, ends once its last frame has played; after a stop, once nothing is left', () => {
    const b = buffer();
    b.push(packet(0), T0);
    b.push(packet(1, { last: true, frames: [Uint8Array.of(9)] }), T0);
    b.finish(T0 + 60 + FRAME);
    b.push(packet(2), T0); // after the end: never played
    b.start(T0);
    expect(takeN(b, 10).map(label)).toEqual(['0.0', '0.1', '0.2', '1.0']);
    expect(b.take(T0)).toBe('end');

    const s = buffer();
    s.push(packet(0), T0);
    s.start(T0);
    takeN(s, 1);
    s.finish();
    expect(takeN(s, 10).map(label)).toEqual(['0.1', '0.2']);
    expect(s.take(T0)).toBe('end');
    expect(s.drained).toBe(true);
  });

  it('refuses to be taken from before it has started', () => {
    expect(() => buffer().take(T0)).toThrow(/not started/);
    expect(buffer().start(T0)).toBe(false);
  });
});
