import { randomUUID } from 'node:crypto';
import { topics } from '@loa/protocols';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/hardware/system-clock.js';
import { Backoff } from '../../src/link/backoff.js';
import { MqttLink } from '../../src/link/mqtt-link.js';
import { TcpGate, until } from '../link/helpers.js';
import { PrivateBroker } from '../support/private-broker.js';

// The link's dynamic subscriptions (a live session's audio topic), against a Mosquitto of
// the file's own: binary payloads arrive as they were sent, a subscription survives a
// broker that forgot the session, and one let go of offline is dropped at the next connect.
let broker: PrivateBroker;
let controller: MqttClient;
const links: MqttLink[] = [];
const gates: TcpGate[] = [];

beforeAll(async () => {
  broker = await PrivateBroker.start();
  controller = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 200 });
}, 15_000);

afterEach(async () => {
  await Promise.all(links.splice(0).map((l) => l.close()));
  await Promise.all(gates.splice(0).map((g) => g.close()));
});

afterAll(async () => {
  await controller?.endAsync(true);
  await broker?.down();
});

function link(url: string) {
  const l = new MqttLink({
    url,
    receiverId: `rx-sub-${randomUUID().slice(0, 8)}`,
    areas: [{ level: 'village', areaCode: '02680-01' }],
    agentVersion: 'test',
    bootId: randomUUID(),
    clock: systemClock,
    backoff: new Backoff(50, 200, Math.random),
  });
  const received: Array<{ topic: string; payload: Buffer; name: string | undefined }> = [];
  l.onMessage((topic, payload, name) => received.push({ topic, payload, name }));
  links.push(l);
  return { l, received };
}

/** Publishes until the link has one more message on `topic` (QoS 0 may race the SUBACK). */
async function delivered(received: Array<{ topic: string }>, topic: string, payload: Buffer) {
  const before = received.filter((m) => m.topic === topic).length;
  await until(
    () => {
      void controller.publishAsync(topic, payload, { qos: 0 });
      return received.filter((m) => m.topic === topic).length > before;
    },
    `a message on ${topic}`,
    5000,
  );
}

describe('dynamic subscriptions of the link', () => {
  it('receives binary packets on a subscribed live topic, again after the broker forgot the session, and not after unsubscribe', async () => {
    const { l, received } = link(broker.url);
    l.start();
    await until(() => l.connected, 'connected');
    const topic = topics.liveAudio(randomUUID());
    await l.subscribe(topic, 0);
    expect(l.subscriptions()[topic]).toEqual({ qos: 0 });
    const bytes = Buffer.from([0x4c, 0x56, 0x01, 0x00, 0xff, 0x00, 0x80]);
    await delivered(received, topic, bytes);
    const message = received.find((m) => m.topic === topic);
    expect(message?.name).toBe('liveAudio');
    expect(message?.payload.equals(bytes)).toBe(true);

    // A broker restart without persistence forgets every session: the link subscribes again.
    await broker.down();
    await broker.up();
    await until(() => l.connected && l.stats.reconnects >= 1, 'reconnected', 10_000);
    await delivered(received, topic, bytes);

    await l.unsubscribe(topic);
    expect(topic in l.subscriptions()).toBe(false);
    const count = received.length;
    for (let i = 0; i < 5; i++) await controller.publishAsync(topic, bytes, { qos: 0 });
    await new Promise((r) => setTimeout(r, 300));
    expect(received.length).toBe(count);
  }, 30_000);

  it('lets go of a topic unsubscribed while offline at the next connect', async () => {
    const gate = await TcpGate.create(broker.port);
    gates.push(gate);
    await gate.open();
    const { l, received } = link(gate.url);
    l.start();
    await until(() => l.connected, 'connected');
    const topic = topics.liveAudio(randomUUID());
    await l.subscribe(topic, 0);
    await delivered(received, topic, Buffer.from('a'));
    // The link drops; the broker keeps its session (and the subscription) for the receiver's return.
    gate.cut();
    await until(() => !l.connected, 'disconnected');
    await l.unsubscribe(topic);
    await until(() => l.connected, 'reconnected', 10_000);
    // A probe topic subscribed after the reconnect: once it gets through, the unsubscribe (sent first) has been made.
    const probe = topics.liveAudio(randomUUID());
    await l.subscribe(probe, 0);
    await delivered(received, probe, Buffer.from('p'));
    const count = received.filter((m) => m.topic === topic).length;
    for (let i = 0; i < 5; i++) await controller.publishAsync(topic, Buffer.from('b'), { qos: 0 });
    await new Promise((r) => setTimeout(r, 300));
    expect(received.filter((m) => m.topic === topic).length).toBe(count);
  }, 30_000);
});
