import { randomUUID } from 'node:crypto';
import { type AreaRef, receiverCommandSubscriptions, topics } from '@loa/protocols';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/hardware/manual-clock.js';
import { Backoff } from '../../src/link/backoff.js';
import { MqttLink, type MqttLinkOptions } from '../../src/link/mqtt-link.js';
import { PrivateBroker } from '../support/private-broker.js';
import { seeded, TcpGate, until } from './helpers.js';

// A Mosquitto of the file's own on loopback: these tests publish retained receiver
// states and last wills, which would reach other tests' ingest groups on the shared
// broker. A TCP gate in front of it plays the 3G link: closed (out of reach) or cut.

const AREAS: AreaRef[] = [
  { level: 'province', areaCode: '10' },
  { level: 'commune', areaCode: '02680' },
  { level: 'village', areaCode: '02680-01' },
];

interface State {
  online: boolean;
  reason: string;
  receiverId: string;
  bootId?: string;
}

let broker: PrivateBroker;
let watcher: MqttClient;
const seen = new Map<string, Array<{ payload: Buffer; packet: IPublishPacket }>>();
const links: MqttLink[] = [];
const gates: TcpGate[] = [];

beforeAll(async () => {
  broker = await PrivateBroker.start();
  watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
  watcher.on('message', (topic, payload, packet) => {
    const list = seen.get(topic) ?? [];
    list.push({ payload, packet });
    seen.set(topic, list);
  });
}, 15_000);

afterEach(async () => {
  await Promise.all(links.splice(0).map((l) => l.close()));
  await Promise.all(gates.splice(0).map((g) => g.close()));
});

afterAll(async () => {
  await watcher?.endAsync();
  await broker?.down();
});

const newId = () => `rx-link-${randomUUID().slice(0, 8)}`;

function link(options: Partial<MqttLinkOptions> & { url: string; clock: ManualClock }): MqttLink {
  const l = new MqttLink({
    receiverId: newId(),
    areas: AREAS,
    agentVersion: 'test',
    bootId: randomUUID(),
    connectTimeoutMs: 2000,
    ...options,
  });
  links.push(l);
  return l;
}

async function gate(): Promise<TcpGate> {
  const g = await TcpGate.create(broker.port);
  gates.push(g);
  return g;
}

/** The receiver's states as the watcher saw them (retained first, then live). */
async function watchStates(receiverId: string): Promise<() => State[]> {
  const topic = topics.receiverState(receiverId);
  await watcher.subscribeAsync(topic, { qos: 1 });
  return () => (seen.get(topic) ?? []).map((m) => JSON.parse(m.payload.toString()) as State);
}

/** What a newcomer finds retained on the receiver's state topic. */
async function retainedState(receiverId: string): Promise<State> {
  const fresh = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
  try {
    return await new Promise<State>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no retained state')), 3000);
      fresh.on('message', (_t, p) => {
        clearTimeout(timer);
        resolve(JSON.parse(p.toString()) as State);
      });
      void fresh.subscribeAsync(topics.receiverState(receiverId), { qos: 1 });
    });
  } finally {
    await fresh.endAsync();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('MQTT link: session, subscriptions and state', () => {
  it('subscribes to exactly its command topics (its own and its areas), its time answers and receipts', async () => {
    const clock = new ManualClock(Date.now());
    const l = link({ url: broker.url, clock });
    const id = l.receiverId;
    const commands: string[] = [];
    const messages: Array<[string, string | undefined]> = [];
    l.onCommand(() => {
      throw new Error('a broken handler'); // must not stop the link nor the next handler
    });
    l.onCommand((topic) => commands.push(topic));
    l.onMessage((topic, _p, name) => messages.push([topic, name]));
    l.start();
    await until(() => l.connected, 'connected');

    const own = receiverCommandSubscriptions(id, AREAS);
    expect(Object.keys(l.subscriptions()).sort()).toEqual(
      [...own, topics.timeResponse(id), topics.receiverEventReceipts(id)].sort(),
    );
    const others = [
      topics.receiverCommand(`${id}x`),
      topics.receiverCommand('rx-someone-else'),
      topics.areaCommand('village', '02680-02'),
      topics.areaCommand('commune', '02681'),
      topics.areaCommand('district', '268'),
      topics.areaCommand('province', '11'),
    ];
    for (const topic of [...others, ...own]) await watcher.publishAsync(topic, 'signed?', { qos: 1 });
    await watcher.publishAsync(topics.timeResponse(id), '{}', { qos: 0 });
    await until(() => commands.length >= own.length && messages.length >= own.length + 1, 'deliveries');
    await sleep(200); // room for a stray delivery to show up
    expect(commands.sort()).toEqual([...own].sort());
    expect(messages.find(([t]) => t === topics.timeResponse(id))?.[1]).toBe('timeResponse');
    expect(l.connected).toBe(true);
    expect(l.stats.refusedSubscriptions).toEqual([]);
  });

  it('announces itself online (retained) and publishes by topic spec; a clean close says shutdown, without a will', async () => {
    const clock = new ManualClock(Date.now());
    const l = link({ url: broker.url, clock, bootId: 'boot-1' });
    const id = l.receiverId;
    const states = await watchStates(id);
    await expect(l.publish(topics.receiverTelemetry(id), '{}', { qos: 0 })).rejects.toThrow(/not connected/);
    l.start();
    await until(() => l.connected, 'connected');
    expect(await retainedState(id)).toMatchObject({
      online: true,
      reason: 'connected',
      receiverId: id,
      bootId: 'boot-1',
    });

    await watcher.subscribeAsync(topics.receiverTelemetry(id), { qos: 0 });
    await l.publishTo('receiverTelemetry', '{"hello":1}');
    await until(() => (seen.get(topics.receiverTelemetry(id)) ?? []).length > 0, 'telemetry');
    const telemetry = seen.get(topics.receiverTelemetry(id))?.[0]?.packet;
    expect(telemetry?.retain).toBe(false);
    expect(telemetry?.properties?.messageExpiryInterval).toBeGreaterThan(290);
    expect(telemetry?.properties?.messageExpiryInterval).toBeLessThanOrEqual(300);

    await l.close('shutdown');
    expect(l.connected).toBe(false);
    expect(await retainedState(id)).toMatchObject({ online: false, reason: 'shutdown' });
    await sleep(300);
    expect(states().map((s) => s.reason)).toEqual(['connected', 'shutdown']); // no last will
    await expect(l.publishTo('receiverTelemetry', '{}')).rejects.toThrow(/not connected/);
  });

  it('on a cut link: the broker sends the last will, queues QoS 1 commands, and delivers them on reconnect', async () => {
    const clock = new ManualClock(Date.now());
    const g = await gate();
    await g.open();
    const l = link({ url: g.url, clock, backoff: new Backoff(1000, 60_000, seeded(1)) });
    const id = l.receiverId;
    const states = await watchStates(id);
    const commands: string[] = [];
    l.onCommand((topic, payload) => commands.push(`${topic} ${payload.toString()}`));
    let disconnects = 0;
    let connects = 0;
    l.onDisconnect(() => disconnects++);
    l.onConnect(() => connects++);
    l.start();
    await until(() => l.connected, 'connected');
    await until(() => states().length === 1, 'online state');
    expect(states()[0]).toMatchObject({ online: true, reason: 'connected' });

    g.cut(); // the 3G link dies: no DISCONNECT reaches the broker
    await until(() => states().length === 2, 'last will');
    expect(states()[1]).toMatchObject({ online: false, reason: 'last_will', receiverId: id });
    await until(() => !l.connected, 'link notices');
    expect(disconnects).toBe(1);
    await expect(l.publishTo('receiverEvents', '{}')).rejects.toThrow(/not connected/);

    // Sent while the receiver is away: the broker keeps them in its session.
    await watcher.publishAsync(topics.receiverCommand(id), 'one', { qos: 1 });
    await watcher.publishAsync(topics.areaCommand('commune', '02680'), 'two', { qos: 1 });

    // The retry waits on the injected clock, not on MQTT.js's own timer.
    const delay = l.stats.nextRetryInMs as number;
    expect(delay).toBeGreaterThanOrEqual(0);
    expect(delay).toBeLessThan(1000);
    expect(clock.nextDueIn()).toBe(delay);
    await sleep(300);
    expect(l.connected).toBe(false);
    expect(g.connections).toBe(1);

    await clock.advance(delay);
    await until(() => l.connected && commands.length === 2, 'reconnected with the queued commands');
    expect(commands).toEqual([`${topics.receiverCommand(id)} one`, `${topics.areaCommand('commune', '02680')} two`]);
    await until(() => states().length === 3, 'online again');
    expect(states()[2]).toMatchObject({ online: true, reason: 'connected' });
    expect(l.stats).toMatchObject({ connects: 2, reconnects: 1, disconnects: 1 });
    expect(connects).toBe(2);
  });

  it('keeps the session over a clean close: a command sent while the receiver reboots reaches the next start', async () => {
    const clock = new ManualClock(Date.now());
    const id = newId();
    const first = link({ url: broker.url, clock, receiverId: id });
    first.start();
    await until(() => first.connected, 'connected');
    await first.close('rebooting');
    expect(await retainedState(id)).toMatchObject({ online: false, reason: 'rebooting' });

    await watcher.publishAsync(topics.areaCommand('village', '02680-01'), 'while rebooting', { qos: 1 });
    const second = link({ url: broker.url, clock, receiverId: id });
    const commands: string[] = [];
    second.onCommand((_t, payload) => commands.push(payload.toString()));
    second.start();
    await until(() => second.connected && commands.length === 1, 'queued command after restart');
    expect(commands).toEqual(['while rebooting']);
  });
});

describe('MQTT link: reconnecting', () => {
  it('retries an unreachable broker with growing, jittered, capped delays on the injected clock, then connects', async () => {
    const clock = new ManualClock(Date.now());
    const g = await gate(); // not open: connections are refused
    const backoff = new Backoff(1000, 8000, seeded(99));
    const twin = new Backoff(1000, 8000, seeded(99)); // predicts each delay
    const l = link({ url: g.url, clock, backoff, stableMs: 30_000 });
    l.start();
    const bounds = [1000, 2000, 4000, 8000, 8000, 8000];
    const delays: number[] = [];
    for (const [i, bound] of bounds.entries()) {
      await until(() => l.stats.reconnectAttempts === i + 1 && l.stats.nextRetryInMs !== undefined, `failure ${i + 1}`);
      const delay = l.stats.nextRetryInMs as number;
      expect(delay).toBe(twin.next());
      expect(delay).toBeGreaterThanOrEqual(0);
      expect(delay).toBeLessThan(bound);
      expect(clock.nextDueIn()).toBe(delay);
      delays.push(delay);
      if (i < bounds.length - 1) await clock.advance(delay);
    }
    expect(new Set(delays).size).toBeGreaterThan(3); // jittered, not a fixed ladder
    expect(l.stats.lastError).toMatch(/ECONNREFUSED/);
    expect(l.connected).toBe(false);

    await g.open(); // the broker is back
    await clock.advance(delays.at(-1) as number);
    await until(() => l.connected, 'connected');
    expect(l.stats.reconnectAttempts).toBe(7);

    // Dropped again before it proved stable: the delays keep growing (no stampede loop).
    expect(backoff.attempt).toBe(6);
    g.cut();
    await until(() => l.stats.nextRetryInMs !== undefined, 'retry after flap');
    expect(l.stats.nextRetryInMs).toBe(twin.next());
    expect(backoff.attempt).toBe(7);
    await clock.advance(l.stats.nextRetryInMs as number);
    await until(() => l.connected, 'reconnected');

    // Stable for stableMs: the next loss starts again from the base.
    await clock.advance(30_000);
    expect(backoff.attempt).toBe(0);
    twin.reset();
    g.cut();
    await until(() => l.stats.nextRetryInMs !== undefined, 'retry after a stable session');
    expect(l.stats.nextRetryInMs).toBe(twin.next());
    expect(l.stats.nextRetryInMs).toBeLessThan(1000);
  });

  it('a close while the broker is out of reach ends quickly and stops retrying', async () => {
    const clock = new ManualClock(Date.now());
    const g = await gate();
    const l = link({ url: g.url, clock });
    l.start();
    await until(() => l.stats.nextRetryInMs !== undefined, 'first failure');
    const started = Date.now();
    await l.close();
    expect(Date.now() - started).toBeLessThan(1000);
    expect(clock.nextDueIn()).toBeUndefined();
    await g.open();
    await clock.advance(10 * 60_000);
    await sleep(100);
    expect(g.connections).toBe(0);
  });
});

describe('MQTT link: power cut and a dead link', () => {
  it('a power cut (drop) says nothing: no goodbye, so the broker sends the last will', async () => {
    const clock = new ManualClock(Date.now());
    const l = link({ url: broker.url, clock });
    const states = await watchStates(l.receiverId);
    l.start();
    await until(() => l.connected, 'connected');
    await until(() => states().some((s) => s.online), 'online state');
    l.drop();
    expect(l.connected).toBe(false);
    await until(() => states().some((s) => !s.online), 'offline state');
    expect(
      states()
        .filter((s) => !s.online)
        .map((s) => s.reason),
    ).toEqual(['last_will']);
    await sleep(200);
    expect(l.connected).toBe(false); // and it does not come back by itself
  });

  it('closes within its time limit when the link is dead (the goodbye waits for no PUBACK)', async () => {
    const g = await gate();
    await g.open();
    const clock = new ManualClock(Date.now());
    const l = link({ url: g.url, clock });
    l.start();
    await until(() => l.connected, 'connected');
    g.freeze();
    const began = Date.now();
    await l.close();
    const took = Date.now() - began;
    expect(took).toBeGreaterThanOrEqual(2900);
    expect(took).toBeLessThan(4500);
  });
});
