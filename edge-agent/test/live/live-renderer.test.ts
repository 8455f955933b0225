import { loadSigningKey } from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { gainOf } from '../../src/audio/gain.js';
import { LiveDecoder } from '../../src/live/live-decoder.js';
import { LIVE_LEAD_MS } from '../../src/live/live-renderer.js';
import { goertzel, rms } from '../audio/helpers.js';
import { TestStream } from './live-fixtures.js';
import { LiveHarness, T0 } from './live-harness.js';

const LATENCY = 250;
const ON_AIR = T0 + 2500;

/** Every heard stream frame is where the schedule says: captureTs + latency (+ extra delay), by the sink, within 1 ms. */
function expectInStep(h: LiveHarness, extra = 0) {
  const audio = h.heardFrames.filter((f) => !f.concealed);
  expect(audio.length).toBeGreaterThan(0);
  for (const f of audio) {
    expect(Math.abs(f.sinkAt - (f.captureTs + LATENCY + extra))).toBeLessThan(1);
    expect(Math.abs(f.playoutAt - f.sinkAt)).toBeLessThan(1);
  }
}

describe('live renderer', () => {
  it('plays the chime at once, then every frame heard at captureTs + latency, and finishes after the last packet', async () => {
    const h = new LiveHarness({ body: { volume: 80 }, masterVolume: 90 });
    h.sendStream();
    const outcome = await h.run(h.render());
    expect(outcome).toEqual({ result: 'finished', playedMs: 2000 });
    // The chime from the start: two falling bell tones (784 Hz, then 659 Hz).
    const first = h.sink.heard(T0 + 100, T0 + 500);
    expect(goertzel(first, 784)).toBeGreaterThan(goertzel(first, 440) * 10);
    const second = h.sink.heard(T0 + 900, T0 + 1300);
    expect(goertzel(second, 659)).toBeGreaterThan(goertzel(second, 784));
    // Silence until the first frame's time, then the stream, every frame on schedule.
    expect(rms(h.sink.heard(T0 + 1600, ON_AIR + LATENCY))).toBe(0);
    expectInStep(h);
    const frames = h.heardFrames.map((f) => `${f.seq}.${f.frameIndex}`);
    expect(frames).toHaveLength(100);
    expect(frames.slice(0, 4)).toEqual(['0.0', '0.1', '0.2', '1.0']);
    expect(h.heardFrames.every((f) => !f.concealed)).toBe(true);
    // The stream is 440 Hz at the session's volume times the master volume.
    const steady = h.sink.heard(ON_AIR + LATENCY + 500, ON_AIR + LATENCY + 1500);
    expect(goertzel(steady, 440)).toBeGreaterThan(goertzel(steady, 784) * 100);
    const reference = new LiveDecoder(20);
    await reference.ready;
    const decoded = Int16Array.from(h.stream.frames.slice(25, 75).flatMap((f) => [...reference.decode(f)]));
    reference.close();
    expect(rms(steady) / rms(decoded)).toBeCloseTo(gainOf(80) * gainOf(90), 1);
    // Progress (the engine's "started") when the first frame is heard, once.
    expect(h.progress).toEqual([{ repetition: 1, language: 'vie', at: ON_AIR + LATENCY }]);
    // Paced: never more than the live lead ahead of the speakers.
    expect(h.sink.maxLeadMs).toBeLessThanOrEqual(LIVE_LEAD_MS + 1);
    expect(h.session.counters()).toMatchObject({ packets: 34, framesPlayed: 100, concealed: 0, late: 0, skipped: 0 });
    expect(h.gpio.writes).toEqual([
      ['17', true],
      ['17', false],
    ]); // on for the session, off after it (no hold time here)
  });

  it('a late joiner skips what passed during its warm-up and chime, and is in step at once', async () => {
    // Amplifier warm-up 1.5 s + chime 1.5 s: the chime ends at T0 + 3000, after the stream's first frames were due.
    const h = new LiveHarness({ warmUpMs: 1500 });
    h.sendStream();
    const outcome = await h.run(h.render());
    expect(outcome.result).toBe('finished');
    const first = h.heardFrames[0];
    // The frame under way when the chime ends is joined part way through (it started up to a frame before).
    expect(first?.sinkAt).toBeGreaterThan(T0 + 3000 - 20);
    expect(first?.sinkAt).toBeLessThan(T0 + 3000 + 20);
    expect(h.sink.heard(T0 + 3000, T0 + 3020).length).toBe(960);
    expectInStep(h);
    const counters = h.session.counters();
    expect(counters.skipped).toBeGreaterThanOrEqual(12); // 250 ms of frames due during the chime
    expect(counters.framesPlayed + counters.skipped).toBe(100);
    // Heard from the chime's end to the stream's end.
    expect(outcome.playedMs).toBe(ON_AIR + 2000 + LATENCY - (T0 + 3000));
  });

  it('conceals a lost packet in place, keeping the rest on schedule', async () => {
    const h = new LiveHarness({ body: { prelude: 'none' } });
    h.sendStream((seq) => seq !== 10);
    const outcome = await h.run(h.render());
    expect(outcome.result).toBe('finished');
    const concealed = h.heardFrames.filter((f) => f.concealed);
    expect(concealed.map((f) => f.captureTs)).toEqual([0, 1, 2].map((k) => ON_AIR + 600 + k * 20));
    for (const f of concealed) expect(Math.abs(f.sinkAt - (f.captureTs + LATENCY))).toBeLessThan(1);
    expectInStep(h);
    expect(h.session.counters()).toMatchObject({ concealed: 3, framesPlayed: 97, missing: 3 });
  });

  it('gets back in step after a clock-sync step by skipping frames', async () => {
    const h = new LiveHarness({ body: { prelude: 'none' } });
    h.sendStream();
    // A clock sync moves controller time 100 ms ahead mid-stream: what was written is now late.
    h.at(ON_AIR + 1000, () => {
      h.offset += 100;
    });
    const outcome = await h.run(h.render());
    expect(outcome.result).toBe('finished');
    const counters = h.session.counters();
    expect(counters.resyncSkipped).toBeGreaterThanOrEqual(4);
    expect(counters.resyncSkipped).toBeLessThanOrEqual(6);
    // After the step every frame is heard on the new schedule.
    const after = h.heardFrames.filter((f) => f.captureTs > ON_AIR + 1300);
    for (const f of after) expect(Math.abs(f.sinkAt - (f.captureTs + LATENCY))).toBeLessThan(1);
  });

  it('raises its delay by a frame when packets come late, and lowers it again after 10 s of calm, seamlessly', async () => {
    const h = new LiveHarness({ body: { prelude: 'none' }, seconds: 14 });
    // A burst of congestion: packets 10..12 come 250 ms late.
    h.sendStream(
      () => true,
      (seq) => (seq >= 10 && seq <= 12 ? 250 : 0),
    );
    const outcome = await h.run(h.render());
    expect(outcome.result).toBe('finished');
    const counters = h.session.counters();
    expect(counters.late).toBe(9);
    expect(counters).toMatchObject({ inserted: 1, dropped: 1, extraDelayMs: 0 });
    // Every frame is heard at its capture time plus the latency and the extra delay then in force.
    const delays = h.heardFrames.filter((f) => !f.concealed).map((f) => Math.round(f.sinkAt - f.captureTs));
    expect(new Set(delays)).toEqual(new Set([LATENCY, LATENCY + 20]));
    const raisedAt = h.heardFrames.findIndex((f) => !f.concealed && Math.round(f.sinkAt - f.captureTs) > LATENCY);
    const loweredAt = h.heardFrames.findLastIndex((f) => !f.concealed && Math.round(f.sinkAt - f.captureTs) > LATENCY);
    const raised = h.heardFrames[raisedAt] as (typeof h.heardFrames)[number];
    const lowered = h.heardFrames[loweredAt + 1] as (typeof h.heardFrames)[number];
    expect(raised.captureTs).toBeGreaterThan(ON_AIR + 600);
    expect(raised.captureTs).toBeLessThan(ON_AIR + 1000);
    expect(lowered.captureTs - raised.captureTs).toBeGreaterThan(10_000);
    // No gap and no overlap in what the horns play: each write follows on from the one before.
    const stream = h.sink.writes.filter((w) => w.at >= ON_AIR + LATENCY);
    for (let i = 1; i < stream.length; i++) {
      const before = stream[i - 1] as (typeof stream)[number];
      expect((stream[i] as (typeof stream)[number]).at).toBeCloseTo(before.at + before.samples.length / 48, 6);
    }
  });

  it('stops at once on abort (an emergency pre-empts it)', async () => {
    const h = new LiveHarness({ body: { prelude: 'none' } });
    h.sendStream();
    let abortedAt = 0;
    h.at(ON_AIR + 1000, () => {
      abortedAt = h.controllerTime();
      h.abort.abort();
    });
    const outcome = await h.run(h.render());
    expect(outcome.result).toBe('aborted');
    expect(h.sink.events).toContain('abort');
    expect(h.controllerTime() - abortedAt).toBeLessThanOrEqual(5);
    // Heard: from the first frame (ON_AIR + 250) to the abort, less what was still ahead.
    expect(outcome.playedMs).toBeGreaterThan(1000 - LATENCY - LIVE_LEAD_MS - 10);
    expect(outcome.playedMs).toBeLessThanOrEqual(1000 - LATENCY + 5);
  });

  it('ends as aborted with heartbeat_lost when the packets stop', async () => {
    const h = new LiveHarness({ body: { prelude: 'none', heartbeatTimeoutMs: 3000 } });
    h.sendStream((seq) => seq < 10);
    const outcome = await h.run(h.render());
    expect(outcome).toMatchObject({ result: 'aborted', reason: 'heartbeat_lost' });
    // The last packet came at ON_AIR + 630; the heartbeat ran out 3 s later.
    expect(h.controllerTime()).toBeGreaterThanOrEqual(ON_AIR + 630 + 3000);
    expect(h.controllerTime()).toBeLessThan(ON_AIR + 630 + 3000 + 20);
    expect(h.sink.events).toContain('abort');
    expect(h.session.counters().framesPlayed).toBe(30);
  });

  it('after live.stop, plays what it has, for at most latency + 1 s, then finishes', async () => {
    const h = new LiveHarness({ body: { prelude: 'none' }, seconds: 4 });
    // Packets keep coming after the stop (in flight, or a controller slow to stop): cut at the deadline.
    h.sendStream();
    h.at(ON_AIR + 1000, () => h.session.stop());
    const outcome = await h.run(h.render());
    expect(outcome.result).toBe('finished');
    const lastHeard = h.heardFrames.at(-1);
    // Heard up to the stop + latency + 1 s, and no further.
    expect((lastHeard?.sinkAt as number) + 20).toBeGreaterThan(ON_AIR + 1000 + LATENCY + 1000 - 25);
    expect((lastHeard?.sinkAt as number) + 20).toBeLessThanOrEqual(ON_AIR + 1000 + LATENCY + 1000 + 1);
  });

  it('a stop with nothing more coming ends once what was received has played', async () => {
    const h = new LiveHarness({ body: { prelude: 'none' } });
    h.sendStream((seq) => seq < 10);
    h.at(ON_AIR + 700, () => h.session.stop());
    const outcome = await h.run(h.render());
    expect(outcome).toEqual({ result: 'finished', playedMs: 600 });
    expect(h.controllerTime()).toBeLessThan(ON_AIR + 600 + LATENCY + 20);
  });

  it('refuses forged packets: counted once per reason, never heard, no heartbeat', async () => {
    const h = new LiveHarness({ body: { prelude: 'none' } });
    const forger = new LiveHarness();
    // Same session id and times, another key.
    const forged = new TestStream(h.session.id, loadSigningKey(forger.key), ON_AIR, forger.stream.frames);
    while (forged.left > 0) {
      const { bytes, packet } = forged.packet();
      h.at(packet.captureTs + 80, () => h.session.receive(bytes));
    }
    const outcome = await h.run(h.render());
    // Forged packets do not keep the session alive: it ends when its heartbeat (5 s from live.start) runs out.
    expect(outcome).toEqual({ result: 'aborted', playedMs: 0, reason: 'heartbeat_lost' });
    expect(h.controllerTime()).toBeLessThan(T0 + 5000 + 20);
    expect(h.heardFrames).toEqual([]);
    expect(h.session.counters().invalid).toEqual({ unknown_key: 34 });
    expect(h.logs.filter((l) => l.message === 'live packet refused')).toHaveLength(1);
  });

  it('fails with the unknown session when the item is not a live session', async () => {
    const h = new LiveHarness();
    const outcome = await h.render({ ...h.item, itemId: 'not-a-session' });
    expect(outcome).toMatchObject({ result: 'failed', reason: 'live_session_unknown' });
  });
});
