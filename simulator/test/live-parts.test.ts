import type { Agent } from '@loa/edge-agent';
import { ManualClock } from '@loa/edge-agent';
import { topics } from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { decodeWav16, encodeWav16 } from '../src/audio/wav-file.js';
import { LivePacketLoss } from '../src/faults/live-packet-loss.js';
import type { LiveRecord } from '../src/fleet/live-record.js';
import { VirtualSoundCard } from '../src/fleet/virtual-sound-card.js';
import { analyseLiveSession } from '../src/metrics/live-analysis.js';
import { dominantTones, toneRuns, toneSequence } from '../src/metrics/tones.js';

const RATE = 48_000;
const ms = (n: number) => new Int16Array((RATE / 1000) * n).fill(1000);

/** A true clock that follows a manual one (true ms = its monotonic ms + a base). */
function clocks() {
  const clock = new ManualClock(0);
  const base = 1_000_000;
  return { clock, trueNow: () => base + clock.monotonic(), base };
}

describe('the virtual sound card', () => {
  it('plays writes back to back at the clock rate and says when each is heard', async () => {
    const { clock, trueNow, base } = clocks();
    const card = new VirtualSoundCard(clock, trueNow, true);
    const out = await card.open({ sampleRate: RATE, channels: 1 });
    expect(card.current).toBe(out);
    await out.write(ms(20));
    expect(out.lastWriteHeardAt).toBe(base);
    await out.write(ms(20));
    expect(out.lastWriteHeardAt).toBe(base + 20);
    await clock.advance(30);
    await out.write(ms(20));
    // 40 ms were queued from 0: this one follows at 40, not now (30).
    expect(out.lastWriteHeardAt).toBe(base + 40);
    expect(out.lastWriteSamples).toBe(960);
    expect(out.underruns).toEqual([]);
  });

  it('after running dry it plays at once, records the silence, and counts the underrun', async () => {
    const { clock, trueNow, base } = clocks();
    const card = new VirtualSoundCard(clock, trueNow, true);
    const out = await card.open({ sampleRate: RATE, channels: 1 });
    await out.write(ms(20));
    await clock.advance(50);
    await out.write(ms(20));
    expect(out.lastWriteHeardAt).toBe(base + 50);
    expect(out.underruns).toEqual([{ at: base + 20, ms: 30 }]);
    await clock.advance(100);
    await out.close();
    expect(card.current).toBeUndefined();
    const heard = out.heard();
    expect(heard.length).toBe((RATE / 1000) * 70);
    // Sound, 30 ms of silence, sound.
    expect(heard[(RATE / 1000) * 10]).toBe(1000);
    expect(heard[(RATE / 1000) * 35]).toBe(0);
    expect(heard[(RATE / 1000) * 60]).toBe(1000);
  });

  it('an abort drops what was queued but not yet heard', async () => {
    const { clock, trueNow } = clocks();
    const card = new VirtualSoundCard(clock, trueNow, true);
    const out = await card.open({ sampleRate: RATE, channels: 1 });
    await out.write(ms(100));
    await clock.advance(40);
    await out.abort();
    expect(out.heard().length).toBe((RATE / 1000) * 40);
    // Drain resolves at once after an abort.
    await out.drain();
  });

  it('drain waits until everything written has played, on the clock', async () => {
    const { clock, trueNow } = clocks();
    const out = await new VirtualSoundCard(clock, trueNow).open({ sampleRate: RATE, channels: 1 });
    await out.write(ms(60));
    let drained = false;
    void out.drain().then(() => {
      drained = true;
    });
    await clock.advance(59);
    expect(drained).toBe(false);
    await clock.advance(1);
    await Promise.resolve();
    expect(drained).toBe(true);
    // Not capturing: nothing is kept.
    expect(out.heard().length).toBe(0);
  });

  it('refuses stereo and writes after close', async () => {
    const { clock, trueNow } = clocks();
    const card = new VirtualSoundCard(clock, trueNow);
    await expect(card.open({ sampleRate: RATE, channels: 2 })).rejects.toThrow(/mono/);
    const out = await card.open({ sampleRate: RATE, channels: 1 });
    await out.close();
    await expect(out.write(ms(20))).rejects.toThrow(/closed/);
  });
});

describe('WAV files', () => {
  it('round-trips 16-bit mono PCM', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
    const bytes = encodeWav16({ sampleRate: 16_000, samples });
    expect(bytes.length).toBe(44 + 12);
    const back = decodeWav16(bytes);
    expect(back.sampleRate).toBe(16_000);
    expect([...back.samples]).toEqual([...samples]);
  });

  it('refuses what is not a 16-bit mono PCM WAV, saying what it is', () => {
    expect(() => decodeWav16(Buffer.from('not a wav at all'), 'x.wav')).toThrow(/x.wav is not a WAV file/);
    const stereo = encodeWav16({ sampleRate: 8000, samples: new Int16Array(4) });
    stereo.writeUInt16LE(2, 22);
    expect(() => decodeWav16(stereo)).toThrow(/2 channels, 16 bits; expected 16-bit PCM mono/);
    expect(() => decodeWav16(encodeWav16({ sampleRate: 8000, samples: new Int16Array(4) }).subarray(0, 40))).toThrow(
      /no data chunk|runs past the end/,
    );
  });
});

describe('tone analysis', () => {
  it('finds generated tones in order, with their lengths', () => {
    const samples = toneSequence(
      [
        { hz: 500, seconds: 0.5 },
        { hz: 1000, seconds: 1 },
        { hz: 1500, seconds: 0.3 },
      ],
      RATE,
    );
    const runs = toneRuns(dominantTones(samples, RATE, [500, 1000, 1500, 2000]));
    expect(runs.map((r) => [r.hz, r.windows])).toEqual([
      [500, 5],
      [1000, 10],
      [1500, 3],
    ]);
  });

  it('says nothing of silence, or of a tone that is not a candidate', () => {
    const silence = new Int16Array(RATE);
    expect(toneRuns(dominantTones(silence, RATE, [500, 1000]))).toEqual([]);
    const other = toneSequence([{ hz: 750, seconds: 1 }], RATE);
    expect(toneRuns(dominantTones(other, RATE, [500, 1000]))).toEqual([]);
  });
});

describe('live packet loss', () => {
  /** A stand-in agent: only the live sessions' receive, which the loss wraps. */
  function agent(got: Uint8Array[]): Agent {
    return { live: { receive: (_topic: string, payload: Uint8Array) => got.push(payload) } } as unknown as Agent;
  }

  it('drops about the share asked, at random per packet, and counts both', () => {
    const got: Uint8Array[] = [];
    const loss = new LivePacketLoss(0.25);
    const a = agent(got);
    loss.attach(a);
    for (let i = 0; i < 4000; i++) a.live.receive(topics.liveAudio('session-x'), new Uint8Array([i & 255]));
    expect(loss.counts.passed + loss.counts.dropped).toBe(4000);
    expect(got.length).toBe(loss.counts.passed);
    expect(loss.counts.dropped / 4000).toBeGreaterThan(0.2);
    expect(loss.counts.dropped / 4000).toBeLessThan(0.3);
  });

  it('can be changed while running, and refuses a share outside 0..1', () => {
    const got: Uint8Array[] = [];
    const loss = new LivePacketLoss(1);
    const a = agent(got);
    loss.attach(a);
    a.live.receive('t', new Uint8Array(1));
    expect(got.length).toBe(0);
    loss.fraction = 0;
    a.live.receive('t', new Uint8Array(1));
    expect(got.length).toBe(1);
    expect(() => {
      loss.fraction = 1.5;
    }).toThrow(RangeError);
    expect(() => new LivePacketLoss(-0.1)).toThrow(/fraction from 0 to 1/);
  });
});

describe('live session analysis', () => {
  const record = (receiverId: string, offset: number, concealAt = -1): LiveRecord => {
    const n = 10;
    const captureTs = Float64Array.from({ length: n }, (_, i) => 10_000 + i * 20);
    return {
      receiverId,
      sessionId: 's',
      renderStartedAt: 0,
      endedAt: 0,
      result: 'finished',
      frames: {
        captureTs,
        heardAt: captureTs.map((c) => c + 250 + offset),
        playoutAt: captureTs.map((c) => c + 250),
        concealed: Uint8Array.from({ length: n }, (_, i) => (i === concealAt ? 1 : 0)),
      },
      counters: null,
      underruns: [{ at: 10_000 + 500, ms: 5 }],
      // Heard `offset` ms late in true time because its clock runs that much behind.
      clockErrorMs: 0 - offset,
    };
  };

  it('measures latency, skew across receivers and concealment', () => {
    const a = analyseLiveSession([record('a', 0), record('b', 3, 0)]);
    expect(a.frames).toMatchObject({ heard: 19, concealed: 1 });
    expect(Math.min(...a.latencies)).toBe(250);
    expect(Math.max(...a.latencies)).toBe(253);
    // b's first heard frame is its second (the first was concealed).
    expect(a.firstFrameLatencies).toEqual([250, 253]);
    expect(a.firstHeardSpreadMs).toBe(23);
    // Frame 0 was heard by a only: 9 frames heard by both, each 3 ms apart.
    expect(a.frameSkews).toEqual(Array(9).fill(3));
    expect(a.clockErrors).toEqual([0, -3]);
    // b heard every frame 3 ms late because of its clock: by its own clock it was on time.
    expect(a.lateness).toEqual(Array(19).fill(0));
    // The underrun came after each stream had started: it counts.
    expect(a.underruns).toEqual({ count: 2, totalMs: 10 });
  });
});
