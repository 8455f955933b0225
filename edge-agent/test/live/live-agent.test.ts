import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type AssetRef,
  type CommandBody,
  generateSigningKey,
  loadSigningKey,
  type PlayEvent,
  topics,
} from '@loa/protocols';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../src/agent.js';
import { Amplifier } from '../../src/audio/amplifier.js';
import { NullSink } from '../../src/audio/null-sink.js';
import { VirtualGpio } from '../../src/audio/virtual-gpio.js';
import { parseAgentConfig } from '../../src/config/agent-config.js';
import { systemClock } from '../../src/hardware/system-clock.js';
import { type LiveFrameHeard, LiveRenderer } from '../../src/live/live-renderer.js';
import { isLiveItem, routeLive } from '../../src/live/route-live.js';
import { TimedRenderer } from '../../src/playback/timed-renderer.js';
import { MemoryStorage } from '../../src/store/memory-storage.js';
import { PrivateBroker } from '../support/private-broker.js';
import { TestController } from '../support/test-controller.js';
import { opusFrames, TestStream } from './live-fixtures.js';
import { tone } from './live-harness.js';

// The real agent, its real link to a Mosquitto of its own, and a test controller that
// signs live.start with its key and publishes signed live packets in real time, as the
// controller does: the agent plays them through the live renderer (on a null sink, whose
// timing is real) and reports proof of play.
let broker: PrivateBroker;
let controller: TestController;
let assets: Server;
let asset: AssetRef;
const agents: Agent[] = [];
const timers = new Set<NodeJS.Timeout>();

beforeAll(async () => {
  broker = await PrivateBroker.start();
  controller = await TestController.connect(broker.url);
  const bytes = randomBytes(2000);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  asset = { sha256, url: `/assets/${sha256}`, bytes: bytes.length, durationMs: 1000, mime: 'audio/ogg; codecs=opus' };
  assets = createServer((request, response) => {
    if (request.url === asset.url) response.end(bytes);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => assets.listen(0, '127.0.0.1', resolve));
}, 30_000);

afterEach(async () => {
  for (const timer of timers) clearTimeout(timer);
  timers.clear();
  await Promise.all(agents.splice(0).map((a) => a.stop()));
});

afterAll(async () => {
  await controller?.close();
  await broker?.down();
  await new Promise<void>((resolve) => assets?.close(() => resolve()));
});

async function startAgent() {
  const receiverId = `rx-live-${randomUUID().slice(0, 8)}`;
  const config = parseAgentConfig(
    {
      receiverId,
      areas: [{ level: 'village', areaCode: '02680-01' }],
      trustedKeys: [controller.trusted],
      audio: { sink: 'null' },
      health: { heartbeatMs: 60_000, firmwareFile: '/nonexistent' },
      clockSync: { samples: 2 },
    },
    '/tmp',
    { MQTT_URL: broker.url, CONTROLLER_URL: `http://127.0.0.1:${(assets.address() as AddressInfo).port}` },
  );
  const heard: LiveFrameHeard[] = [];
  const logs: Array<{ message: string; detail?: Record<string, unknown> }> = [];
  const agent = await Agent.start({
    config,
    clock: systemClock,
    storage: new MemoryStorage(),
    renderer: ({ readAsset, controllerTime, liveSessions }) =>
      routeLive(
        new TimedRenderer(systemClock, undefined, readAsset),
        new LiveRenderer({
          sink: new NullSink(systemClock),
          amplifier: new Amplifier({ gpio: new VirtualGpio(), line: '17', clock: systemClock, warmUpMs: 0, holdMs: 0 }),
          clock: systemClock,
          controllerTime,
          sessions: liveSessions,
          onFrameHeard: (frame) => heard.push(frame),
        }),
        isLiveItem(liveSessions),
      ),
    board: {
      temperatureC: async () => 45,
      power: async () => ({ mains: true }),
      disk: async () => ({ freeBytes: 1e9, totalBytes: 2e9 }),
      reboot: async () => {},
    },
    modem: { read: async () => ({ type: '4g', rssiDbm: -80 }) },
    reconnect: { baseMs: 100, capMs: 500 },
    reportResendMs: 2000,
    log: (message, detail) => logs.push({ message, ...(detail ? { detail } : {}) }),
  });
  agents.push(agent);
  await controller.until(() => agent.link.connected);
  return { agent, receiverId, heard, logs };
}

const liveStart = (over: Partial<CommandBody<'live.start'>> = {}): CommandBody<'live.start'> => ({
  sessionId: randomUUID(),
  priority: 'live',
  codec: { name: 'opus', sampleRate: 48000, channels: 1, frameMs: 20, bitrate: 24000 },
  latencyMs: 250,
  heartbeatTimeoutMs: 5000,
  prelude: 'none',
  volume: 80,
  language: 'hmn',
  ...over,
});

/**
 * Publishes a stream as the controller does: each packet when its last frame has been
 * captured (real time), QoS 0, on the session's audio topic; `until` stops it early.
 */
function publishStream(stream: TestStream, until: (seq: number) => boolean = () => true): Promise<void> {
  const topic = topics.liveAudio(stream.sessionId);
  return new Promise((resolve) => {
    const next = () => {
      if (stream.left === 0) return resolve();
      const { bytes, packet } = stream.packet();
      if (!until(packet.seq)) return resolve();
      const due = packet.captureTs + packet.frames.length * 20;
      const timer = setTimeout(
        () => {
          timers.delete(timer);
          void controller.client.publishAsync(topic, bytes, { qos: 0 });
          next();
        },
        Math.max(0, due - Date.now()),
      );
      timers.add(timer);
    };
    next();
  });
}

const plays = (receiverId: string, itemId: string) =>
  controller
    .distinct((e) => e.receiverId === receiverId && e.type === 'play' && e.itemId === itemId)
    .sort((a, b) => a.at - b.at) as PlayEvent[];

/** Until the agent has subscribed to the session's audio (the controller waits its prelude lead for this). */
async function subscribed(agent: Agent, sessionId: string) {
  await controller.until(() => topics.liveAudio(sessionId) in agent.link.subscriptions());
  await new Promise((r) => setTimeout(r, 200));
}

describe('live sessions on the agent', () => {
  it('plays a signed live stream in step, ignores forged packets, reports started then finished', async () => {
    const { agent, receiverId, heard, logs } = await startAgent();
    const body = liveStart();
    // Encoded beforehand: the stream is published in real time, as it is captured.
    const frames = opusFrames(tone(440, 1.2));
    const forgedFrames = opusFrames(tone(880, 1.2));
    const command = await controller.send('live.start', { type: 'receiver', receiverId }, body);
    await subscribed(agent, body.sessionId);
    const onAir = Date.now() + 100;
    const stream = new TestStream(body.sessionId, loadSigningKey(controller.key), onAir, frames);
    // A forger on the same topic with its own key, at the same times.
    const forged = new TestStream(body.sessionId, loadSigningKey(generateSigningKey()), onAir, forgedFrames);
    await Promise.all([publishStream(stream), publishStream(forged)]);
    await controller.send('live.stop', { type: 'receiver', receiverId }, { sessionId: body.sessionId });
    await controller.until(() => plays(receiverId, body.sessionId).length === 2);
    const [started, finished] = plays(receiverId, body.sessionId);
    expect(started).toMatchObject({ state: 'started', source: 'live', priority: 'live', language: 'hmn' });
    expect(finished).toMatchObject({ state: 'finished', source: 'live' });
    expect((finished as PlayEvent).playedMs).toBeGreaterThanOrEqual(1100);
    // Started when the first frame was heard: its capture time plus the latency.
    expect(Math.abs((started as PlayEvent).at - (onAir + 250))).toBeLessThan(150);
    // Only the signed stream was heard, in step with the schedule.
    const audio = heard.filter((f) => !f.concealed);
    expect(audio.length).toBeGreaterThanOrEqual(55);
    const offsets = audio.map((f) => f.playoutAt - (f.captureTs + 250)).sort((a, b) => a - b);
    expect(Math.abs(offsets[Math.floor(offsets.length / 2)] as number)).toBeLessThan(2);
    expect(
      controller
        .distinct((e) => e.type === 'ack' && e.commandId === command.id)
        .map((e) => (e as { result: string }).result),
    ).toEqual(['accepted']);
    // Forged packets were counted (in the end-of-session line) and logged once.
    const end = logs.find((l) => l.message === 'live session ended');
    expect(end?.detail).toMatchObject({ sessionId: body.sessionId, state: 'finished', invalid: { unknown_key: 20 } });
    expect(logs.filter((l) => l.message === 'live packet refused')).toHaveLength(1);
    // The session is gone, and so is its subscription.
    expect(agent.live.get(body.sessionId)).toBeUndefined();
    expect(topics.liveAudio(body.sessionId) in agent.link.subscriptions()).toBe(false);
  }, 30_000);

  it('ends the session as interrupted (heartbeat_lost) when the packets stop', async () => {
    const { agent, receiverId } = await startAgent();
    const body = liveStart({ heartbeatTimeoutMs: 1000 });
    const frames = opusFrames(tone(440, 2));
    await controller.send('live.start', { type: 'receiver', receiverId }, body);
    await subscribed(agent, body.sessionId);
    const stream = new TestStream(body.sessionId, loadSigningKey(controller.key), Date.now() + 100, frames);
    await publishStream(stream, (seq) => seq < 8);
    await controller.until(() => plays(receiverId, body.sessionId).length === 2, 10_000);
    const [started, ended] = plays(receiverId, body.sessionId);
    expect(started?.state).toBe('started');
    expect(ended).toMatchObject({ state: 'interrupted', reason: 'heartbeat_lost' });
    expect(agent.live.get(body.sessionId)).toBeUndefined();
  }, 30_000);

  it('is pre-empted by an emergency, which plays; the live session is not resumed', async () => {
    const { agent, receiverId } = await startAgent();
    const body = liveStart();
    const frames = opusFrames(tone(440, 4));
    await controller.send('live.start', { type: 'receiver', receiverId }, body);
    await subscribed(agent, body.sessionId);
    const stream = new TestStream(body.sessionId, loadSigningKey(controller.key), Date.now() + 100, frames);
    const streaming = publishStream(stream);
    await controller.until(() => plays(receiverId, body.sessionId).some((e) => e.state === 'started'));
    const flood = {
      itemId: `flood-${randomUUID().slice(0, 8)}`,
      priority: 'emergency' as const,
      startMode: 'hard' as const,
      volume: 100,
      repeat: 1,
      prelude: 'none' as const,
      segments: [{ language: 'vie' as const, sha256: asset.sha256, durationMs: 1000 }],
    };
    await controller.send('play.now', { type: 'receiver', receiverId }, { item: flood, assets: [asset] });
    await controller.until(() => plays(receiverId, flood.itemId).some((e) => e.state === 'finished'), 15_000);
    expect(plays(receiverId, body.sessionId).map((e) => e.state)).toEqual(['started', 'interrupted']);
    expect(plays(receiverId, body.sessionId)[1]).toMatchObject({ interruptedBy: flood.itemId, reason: 'pre-empted' });
    expect(agent.live.get(body.sessionId)).toBeUndefined();
    await streaming;
    // The rest of the stream arrived after the emergency: nothing more was played or reported.
    expect(plays(receiverId, body.sessionId)).toHaveLength(2);
  }, 30_000);
});
