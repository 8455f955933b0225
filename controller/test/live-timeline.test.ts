import {
  decodeLivePacket,
  generateSigningKey,
  type LivePacket,
  loadSigningKey,
  TrustedKeySet,
  trustedKeyFor,
} from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { LiveEncoder, REANCHOR_MS } from '../src/live/live-encoder.js';
import { FRAMES_PER_PACKET, LivePacketizer } from '../src/live/live-packetizer.js';
import { decodeOpusFrames, sine, toneOf } from './support/live-audio.js';

const SESSION = '6f1c8a2e-0b6d-4c59-9d1e-1a2b3c4d5e6f';
const jwk = generateSigningKey();
const keys = new TrustedKeySet([trustedKeyFor(jwk)]);

function pipeline() {
  const sent: LivePacket[] = [];
  const packetizer = new LivePacketizer({
    sessionId: SESSION,
    signingKey: loadSigningKey(jwk),
    frameMs: 20,
    send: (bytes) => {
      const checked = decodeLivePacket(bytes, SESSION, keys);
      if (!checked.ok) throw new Error(checked.detail);
      sent.push(checked.packet);
    },
  });
  const encoder = new LiveEncoder();
  const push = (samples: Float32Array, ts: number) => encoder.push(samples, ts, (f) => packetizer.add(f));
  return { sent, packetizer, encoder, push };
}

describe('the live timeline', () => {
  it('packs three 20 ms frames per signed packet, contiguous in time, whatever the chunking and jitter', () => {
    const { sent, push } = pipeline();
    const tone = sine(440, 1);
    const t0 = 1_700_000_000_000;
    // Chunks of 7 ms, stamped with up to 30 ms of arrival jitter either way: the timeline ignores it.
    for (let at = 0, k = 0; at < tone.length; at += 336, k++)
      push(tone.subarray(at, at + 336), t0 + at / 48 + (k % 2 ? 30 : -30) * (k > 0 ? 1 : 0));
    expect(sent.length).toBe(16); // 50 frames: 16 full packets, 2 frames still waiting
    sent.forEach((p, i) => {
      expect(p.seq).toBe(i);
      expect(p.frames.length).toBe(FRAMES_PER_PACKET);
      expect(p.captureTs).toBeCloseTo(t0 + i * 60, 6);
      expect(p.last).toBe(false);
    });
    const decoded = decodeOpusFrames(sent.flatMap((p) => p.frames));
    const { hz, rms } = toneOf(decoded.subarray(4800));
    expect(hz).toBeGreaterThan(435);
    expect(hz).toBeLessThan(445);
    expect(rms).toBeGreaterThan(0.25); // 0.5 amplitude: RMS 0.35
  });

  it('anchors again after a pause, never goes back in time, and ends with a last packet', () => {
    const { sent, push, packetizer, encoder } = pipeline();
    const t0 = 1_700_000_000_000;
    push(sine(300, 0.05), t0); // 2 frames and 10 ms waiting
    // Stamped earlier than the timeline's end: it follows on.
    push(sine(300, 0.05), t0);
    expect(encoder.nextTs).toBeCloseTo(t0 + 100, 6);
    // Five frames: one packet out, frames 3 and 4 waiting for the third.
    expect(packetizer.pendingSince).toBe(t0 + 60);
    // A little later than the end (within REANCHOR_MS): still follows on.
    push(sine(300, 0.02), t0 + 100 + REANCHOR_MS - 1);
    expect(encoder.nextTs).toBeCloseTo(t0 + 120, 6);
    expect(packetizer.pendingSince).toBeUndefined();
    push(sine(300, 0.01), t0 + 120); // half a frame, waiting
    // Much later: a pause. The part-filled frame and packet go out first, then the timeline restarts there.
    const t1 = t0 + 5000;
    push(sine(300, 0.06), t1);
    packetizer.flush();
    const times = sent.map((p) => p.captureTs);
    expect(times).toEqual([t0, t0 + 60, t0 + 120, t1]);
    expect(sent[2]?.frames.length).toBe(1); // the half frame, padded with silence
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1] as number);
    expect(sent.map((p) => p.seq)).toEqual(sent.map((_, i) => i));
    // A keep-alive claims its time: audio stamped before it starts after it.
    packetizer.keepAlive(t1 + 2000);
    encoder.holdFrom(t1 + 2000);
    push(sine(300, 0.06), t1 + 1990);
    packetizer.finish(t1 + 3000);
    const tail = sent.slice(-3);
    expect(tail[0]?.frames.length).toBe(0);
    expect(tail[1]?.captureTs).toBe(t1 + 2000);
    expect(tail[2]?.last).toBe(true);
    expect(packetizer.ended).toBe(true);
    packetizer.flush();
    expect(sent.at(-1)?.last).toBe(true); // nothing after the last packet
  });
});
