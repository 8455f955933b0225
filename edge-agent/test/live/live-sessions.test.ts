import { randomUUID } from 'node:crypto';
import {
  type CommandBody,
  generateSigningKey,
  loadSigningKey,
  TrustedKeySet,
  topics,
  trustedKeyFor,
} from '@loa/protocols';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/hardware/manual-clock.js';
import { LiveSessions } from '../../src/live/live-sessions.js';
import type { PlayReport } from '../../src/playback/play-report.js';
import { PlaybackEngine } from '../../src/playback/playback-engine.js';
import { TimedRenderer } from '../../src/playback/timed-renderer.js';
import { playable, T0 } from '../playback/helpers.js';
import { opusFrames, TestStream } from './live-fixtures.js';
import { tone } from './live-harness.js';

/** Sessions in front of a real engine (timing-only renderer), on a manual clock; the link's subscriptions recorded. */
function setup() {
  const clock = new ManualClock(T0);
  const key = generateSigningKey();
  const reports: PlayReport[] = [];
  const subscribed = new Set<string>();
  const renderer = new TimedRenderer(clock);
  let sessions: LiveSessions | undefined;
  const engine = new PlaybackEngine({
    clock,
    controllerTime: () => clock.now(),
    renderer,
    report: (r) => {
      reports.push(r);
      if (r.source === 'live') sessions?.ended(r);
    },
  });
  sessions = new LiveSessions({
    clock,
    controllerTime: () => clock.now(),
    keys: new TrustedKeySet([trustedKeyFor(key)]),
    subscribe: async (topic) => {
      subscribed.add(topic);
    },
    unsubscribe: async (topic) => {
      subscribed.delete(topic);
    },
    submit: (item) => engine.submit(item, 'live'),
    withdraw: (itemId) => void engine.stop({ itemId }),
  });
  return { clock, key, reports, subscribed, engine, sessions, renderer };
}

const body = (over: Partial<CommandBody<'live.start'>> = {}): CommandBody<'live.start'> => ({
  sessionId: randomUUID(),
  priority: 'live',
  codec: { name: 'opus', sampleRate: 48000, channels: 1, frameMs: 20, bitrate: 24000 },
  latencyMs: 250,
  heartbeatTimeoutMs: 5000,
  prelude: 'chime',
  volume: 90,
  ...over,
});

describe('live sessions', () => {
  it('live.start subscribes and queues the live item once, however often it comes', async () => {
    const { sessions, subscribed, renderer } = setup();
    const start = body({ preludeSha256: 'c'.repeat(64) });
    await sessions.start(start);
    await sessions.start(start);
    expect([...subscribed]).toEqual([topics.liveAudio(start.sessionId)]);
    expect(renderer.rendered).toEqual([start.sessionId]);
    expect(sessions.list().map((s) => s.id)).toEqual([start.sessionId]);
  });

  it('a session waiting behind an emergency whose heartbeat stops is withdrawn, unsubscribed and forgotten', async () => {
    const { sessions, subscribed, engine, reports, clock } = setup();
    engine.submit({ ...playable('flood', { priority: 'emergency' }) }, 'alert');
    const start = body({ heartbeatTimeoutMs: 2000 });
    await sessions.start(start);
    expect(engine.nowPlaying()?.itemId).toBe('flood');
    await clock.advance(2000);
    expect(reports.filter((r) => r.itemId === start.sessionId).map((r) => [r.state, r.reason])).toEqual([
      ['skipped', 'stopped'],
    ]);
    expect(subscribed.size).toBe(0);
    expect(sessions.get(start.sessionId)).toBeUndefined();
  });

  it('live.stop of a session not yet on air withdraws it; packets of unknown sessions and other topics are ignored', async () => {
    const { sessions, subscribed, engine, reports, key } = setup();
    engine.submit({ ...playable('flood', { priority: 'emergency' }) }, 'alert');
    const start = body();
    await sessions.start(start);
    const stream = new TestStream(start.sessionId, loadSigningKey(key), T0, opusFrames(tone(440, 0.1)));
    const { bytes } = stream.packet();
    sessions.receive(topics.liveAudio(randomUUID()), bytes);
    sessions.receive(topics.receiverCommand('rx-1'), bytes);
    sessions.receive(topics.liveAudio(start.sessionId), bytes);
    expect(sessions.get(start.sessionId)?.counters().packets).toBe(1);
    sessions.stop({ sessionId: start.sessionId, reason: 'done' });
    expect(reports.find((r) => r.itemId === start.sessionId)).toMatchObject({ state: 'skipped' });
    expect(subscribed.size).toBe(0);
    sessions.stop({ sessionId: start.sessionId }); // already gone: nothing happens
  });

  it('a subscription the broker refuses fails the live.start and leaves nothing behind', async () => {
    const { engine, reports } = setup();
    const clock = new ManualClock(T0);
    const sessions = new LiveSessions({
      clock,
      controllerTime: () => clock.now(),
      keys: new TrustedKeySet([]),
      subscribe: async (topic) => {
        throw new Error(`the broker refused ${topic}: Subscribe error: Not authorized`);
      },
      unsubscribe: async () => {},
      submit: (item) => engine.submit(item, 'live'),
      withdraw: (itemId) => void engine.stop({ itemId }),
    });
    const start = body();
    await expect(sessions.start(start)).rejects.toThrow(/cannot subscribe to the live audio.*Not authorized/);
    expect(sessions.get(start.sessionId)).toBeUndefined();
    expect(reports.find((r) => r.itemId === start.sessionId && r.state !== 'started')).toMatchObject({
      state: 'interrupted',
    });
  });
});
