import { randomUUID } from 'node:crypto';
import {
  CommandVerifier,
  decodeMessage,
  ReceiverState,
  ReplayGuard,
  receiverCommandSubscriptions,
  sharedSubscription,
  TOPIC_SPECS,
  topicFilter,
  topics,
} from '@loa/protocols';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AREAS, issuer, receiverState } from './fixtures.js';

// Runs against the real MQTT 5 broker the project's services script provides.
const MQTT_URL = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const clients: MqttClient[] = [];

async function connect(options: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const client = await mqtt.connectAsync(MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0, ...options });
  clients.push(client);
  return client;
}

function nextMessage(client: MqttClient, filter: (topic: string) => boolean = () => true) {
  return new Promise<{ topic: string; payload: Buffer; packet: mqtt.IPublishPacket }>((resolve) => {
    const onMessage = (topic: string, payload: Buffer, packet: mqtt.IPublishPacket) => {
      if (!filter(topic)) return;
      client.off('message', onMessage);
      resolve({ topic, payload, packet });
    };
    client.on('message', onMessage);
  });
}

let receiverId: string;

beforeAll(() => {
  receiverId = `test-${randomUUID().slice(0, 8)}`;
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
});

describe('the contract over a real MQTT 5 broker', () => {
  it('delivers an area command to a receiver subscribed to its areas, which verifies it once and refuses the replay', async () => {
    const { signer, keys } = issuer(Date.now());
    const commune = { level: 'commune' as const, areaCode: `c-${receiverId}` };
    const areas = [...AREAS.filter((a) => a.level !== 'commune'), commune];
    const receiver = await connect({ clientId: receiverId });
    await receiver.subscribeAsync(receiverCommandSubscriptions(receiverId, areas), { qos: 1 });
    const verifier = new CommandVerifier({ keys, receiverId, areas, replay: new ReplayGuard() });

    const controller = await connect();
    const envelope = await signer.sign({
      kind: 'stop',
      target: { type: 'area', ...commune },
      body: { upToPriority: 'priority' },
      ttlMs: 30_000,
    });
    const payload = JSON.stringify(envelope);
    const expirySeconds = Math.ceil((envelope.expiresAt - Date.now()) / 1000);

    const first = nextMessage(receiver);
    await controller.publishAsync(topics.areaCommand(commune.level, commune.areaCode), payload, {
      qos: TOPIC_SPECS.areaCommand.qos,
      properties: { messageExpiryInterval: expirySeconds, contentType: 'application/json' },
    });
    const delivered = await first;
    expect(delivered.packet.properties?.contentType).toBe('application/json');
    expect(delivered.packet.properties?.messageExpiryInterval).toBeLessThanOrEqual(expirySeconds);
    const accepted = verifier.verify(delivered.payload, delivered.topic);
    expect(accepted.ok && accepted.command.kind).toBe('stop');

    const second = nextMessage(receiver);
    await controller.publishAsync(topics.areaCommand(commune.level, commune.areaCode), payload, { qos: 1 });
    const replayed = verifier.verify((await second).payload, topics.areaCommand(commune.level, commune.areaCode));
    expect(replayed.ok ? 'ok' : replayed.reason).toBe('replayed');
  });

  it("announces a receiver's disappearance through its retained last will", async () => {
    const will = { ...receiverState(), receiverId, online: false, reason: 'last_will' as const, at: Date.now() };
    const receiver = await connect({
      clientId: `${receiverId}-w`,
      will: {
        topic: topics.receiverState(receiverId),
        payload: Buffer.from(JSON.stringify(will)),
        qos: 1,
        retain: true,
      },
    });
    await receiver.publishAsync(
      topics.receiverState(receiverId),
      JSON.stringify({ ...receiverState(), receiverId, at: Date.now() }),
      { qos: 1, retain: true },
    );
    // Drop the connection without DISCONNECT, as a power cut would.
    receiver.stream.destroy();

    const watcher = await connect();
    await watcher.subscribeAsync(topicFilter('receiverState'), { qos: 1 });
    let state = decodeMessage(
      ReceiverState,
      (await nextMessage(watcher, (t) => t === topics.receiverState(receiverId))).payload,
    );
    for (let i = 0; i < 20 && state.ok && state.value.online; i++) {
      state = decodeMessage(
        ReceiverState,
        (await nextMessage(watcher, (t) => t === topics.receiverState(receiverId))).payload,
      );
    }
    expect(state.ok && state.value).toMatchObject({ online: false, reason: 'last_will' });
    // Clear the retained message so the broker keeps no test state.
    await watcher.publishAsync(topics.receiverState(receiverId), '', { qos: 1, retain: true });
  });

  it('splits receiver events between controller instances with a shared subscription', async () => {
    const filter = sharedSubscription(`ctl-${receiverId}`, topicFilter('receiverEvents'));
    const a = await connect();
    const b = await connect();
    const seen = { a: 0, b: 0 };
    a.on('message', (t) => t.includes(receiverId) && seen.a++);
    b.on('message', (t) => t.includes(receiverId) && seen.b++);
    await a.subscribeAsync(filter, { qos: 1 });
    await b.subscribeAsync(filter, { qos: 1 });
    const receiver = await connect();
    for (let i = 0; i < 20; i++)
      await receiver.publishAsync(topics.receiverEvents(receiverId), `{"n":${i}}`, { qos: 1 });
    for (let i = 0; i < 50 && seen.a + seen.b < 20; i++) await new Promise((r) => setTimeout(r, 20));
    expect(seen.a + seen.b).toBe(20);
    expect(seen.a).toBeGreaterThan(0);
    expect(seen.b).toBeGreaterThan(0);
  });
});
