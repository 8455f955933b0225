import { randomUUID } from 'node:crypto';
import { decodeMessage, EventReceipts, TOPIC_SPECS, topics } from '@loa/protocols';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControllerConfig } from '../src/config.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { ReceiverIngest } from '../src/ingest/receiver-ingest.js';
import { useFreshDatabase } from './support/database.js';

const config = loadControllerConfig();
const database = useFreshDatabase();
// Receivers only this file knows: other test files share the broker and the demo ids.
const tag = randomUUID().slice(0, 8);
const A = `rx-receipts-${tag}-a`;
const B = `rx-receipts-${tag}-b`;
const LATE = `rx-receipts-${tag}-late`;
let villageId: string;
let ingest: ReceiverIngest;
let receiver: MqttClient;
let listener: MqttClient;

interface Receipt {
  topic: string;
  packet: IPublishPacket;
  body: EventReceipts;
  /** Of the ids named, how many were in the database when the receipt arrived. */
  stored: number;
  arrivedAt: number;
}
const receipts: Receipt[] = [];
const rejections: { reason: string; topic: string }[] = [];
const invalid: string[] = [];
let checking = Promise.resolve();

beforeAll(async () => {
  const db = database.db();
  await seedDemoProvince(db, { password: 'pw' });
  const template = await db.receiver.findUniqueOrThrow({ where: { id: 'rx-02680-01-1' } });
  villageId = template.villageId;
  for (const id of [A, B]) {
    await db.receiver.create({ data: { id, name: id, villageId, latitude: 21.5, longitude: 104.1, faults: [] } });
  }
  ingest = new ReceiverIngest({
    db,
    mqttUrl: config.MQTT_URL,
    group: `test-${randomUUID().slice(0, 8)}`,
    log: (message, detail) => {
      if (message === 'rejected receiver message') rejections.push(detail as { reason: string; topic: string });
    },
  });
  await ingest.start();
  listener = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
  listener.on('message', (topic, payload, packet) => {
    const arrivedAt = Date.now();
    const decoded = decodeMessage(EventReceipts, payload);
    if (!decoded.ok) {
      invalid.push(`${topic}: ${payload.toString()}`);
      return;
    }
    // Look in the database at once: a receipt must never name an event not yet committed.
    checking = checking.then(async () => {
      const stored = await db.ingestedEvent.count({ where: { eventId: { in: decoded.value.eventIds } } });
      receipts.push({ topic, packet, body: decoded.value, stored, arrivedAt });
    });
  });
  await listener.subscribeAsync(
    [A, B, LATE].map((id) => topics.receiverEventReceipts(id)),
    { qos: 1 },
  );
  receiver = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
}, 60_000);

afterAll(async () => {
  await receiver?.endAsync();
  await listener?.endAsync();
  await ingest?.stop();
});

const base = (receiverId: string) => ({ v: 1, eventId: randomUUID(), receiverId, at: Date.now() });
const fault = (receiverId: string, state = 'raised', code = 'amplifier_fault') => ({
  ...base(receiverId),
  type: 'fault',
  code,
  state,
});
const cache = (receiverId: string) => ({
  ...base(receiverId),
  type: 'cache',
  sha256: 'a'.repeat(64),
  state: 'ready',
  bytes: 10,
});
const ack = (receiverId: string) => ({
  ...base(receiverId),
  type: 'ack',
  commandId: randomUUID(),
  result: 'refused',
  reason: 'expired',
});
const play = (receiverId: string) => ({
  ...base(receiverId),
  type: 'play',
  itemId: `occ-${randomUUID()}`, // not an occurrence of this controller
  source: 'schedule',
  state: 'finished',
  priority: 'normal',
});

async function send(receiverId: string, event: object | string) {
  const text = typeof event === 'string' ? event : JSON.stringify(event);
  await receiver.publishAsync(topics.receiverEvents(receiverId), text, { qos: 1 });
}

async function until(done: () => boolean, ms = 5000) {
  for (const end = Date.now() + ms; !done() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 10));
  await checking;
}

/** How often each event id was named in receipts sent to this receiver. */
function namedFor(receiverId: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const r of receipts.filter((r) => r.topic === topics.receiverEventReceipts(receiverId))) {
    for (const id of r.body.eventIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}

/** Lets any receipt still on its way arrive (a batch waits up to 200 ms). */
const settle = () => new Promise((r) => setTimeout(r, 500)).then(() => checking);

describe('event receipts over the real broker', () => {
  it('names exactly the events stored, once each, and only after they are committed', async () => {
    const events = [fault(A), cache(A), ack(A), play(A), fault(A, 'cleared')];
    for (const e of events) await send(A, e);
    await until(() => events.every((e) => namedFor(A).has(e.eventId)));
    await settle();
    expect(namedFor(A)).toEqual(new Map(events.map((e) => [e.eventId, 1])));

    expect(invalid).toEqual([]);
    const mine = receipts.filter((r) => r.topic === topics.receiverEventReceipts(A));
    for (const r of mine) {
      expect(r.body.receiverId).toBe(A);
      expect(r.stored).toBe(r.body.eventIds.length);
      expect(r.packet.qos).toBe(TOPIC_SPECS.receiverEventReceipts.qos);
      expect(r.packet.retain).toBe(false);
      expect(r.packet.properties?.messageExpiryInterval).toBeGreaterThan(0);
      expect(r.packet.properties?.messageExpiryInterval).toBeLessThanOrEqual(3600);
    }
    // Five events in quick succession are one batch, or very few.
    expect(mine.length).toBeLessThanOrEqual(3);
  });

  it('names a repeated event again, without applying it twice', async () => {
    const raised = fault(A, 'raised', 'speaker_line_open');
    await send(A, raised);
    await until(() => namedFor(A).get(raised.eventId) === 1);
    await database.db().receiver.update({ where: { id: A }, data: { faults: [] } });
    await send(A, raised); // the receiver missed the first receipt and sends it again
    await until(() => namedFor(A).get(raised.eventId) === 2);
    expect(namedFor(A).get(raised.eventId)).toBe(2);
    expect((await database.db().receiver.findUniqueOrThrow({ where: { id: A } })).faults).toEqual([]);
  });

  it('names nothing malformed, spoofed or from an unknown receiver', async () => {
    const malformed = { ...fault(A), state: 'smouldering' };
    const spoofed = fault(B); // B's event on A's topic
    const unknown = fault(LATE);
    const rejected = (topic: string) => rejections.filter((r) => r.topic === topic).map((r) => r.reason);
    await send(A, malformed);
    await send(A, spoofed);
    await send(A, '{"v":1,"type":"play"}');
    await send(LATE, unknown);
    await until(
      () => rejected(topics.receiverEvents(A)).length >= 3 && rejected(topics.receiverEvents(LATE)).length >= 1,
    );
    expect(rejected(topics.receiverEvents(A)).sort()).toEqual(['malformed', 'malformed', 'spoofed_id']);
    expect(rejected(topics.receiverEvents(LATE))).toEqual(['unknown_receiver']);
    await settle();
    const named = [...namedFor(A).keys(), ...namedFor(B).keys(), ...namedFor(LATE).keys()];
    for (const e of [malformed, spoofed, unknown]) expect(named).not.toContain(e.eventId);
  });

  it('stores and names an event refused while its receiver was unknown once it is sent again', async () => {
    const raised = fault(LATE, 'raised', 'overheat');
    const unknown = () =>
      rejections.filter((r) => r.topic === topics.receiverEvents(LATE) && r.reason === 'unknown_receiver').length;
    const before = unknown();
    await send(LATE, raised);
    await until(() => unknown() > before);
    await settle();
    expect(namedFor(LATE).has(raised.eventId)).toBe(false);

    const db = database.db();
    await db.receiver.create({
      data: { id: LATE, name: LATE, villageId, latitude: 21.5, longitude: 104.1, faults: [] },
    });
    await send(LATE, raised); // still in the receiver's outbox
    await until(() => namedFor(LATE).has(raised.eventId));
    expect(namedFor(LATE).get(raised.eventId)).toBe(1);
    expect((await db.receiver.findUniqueOrThrow({ where: { id: LATE } })).faults).toEqual(['overheat']);
  });

  it('batches a receiver flushing its outbox into few receipts', async () => {
    const events = Array.from({ length: 250 }, () => cache(B));
    const started = Date.now();
    await Promise.all(events.map((e) => send(B, e)));
    await until(() => events.every((e) => namedFor(B).has(e.eventId)), 15_000);
    const mine = receipts.filter((r) => r.topic === topics.receiverEventReceipts(B));
    const last = Math.max(...mine.map((r) => r.arrivedAt));
    await settle();
    expect(namedFor(B)).toEqual(new Map(events.map((e) => [e.eventId, 1])));
    for (const r of mine) {
      expect(r.body.eventIds.length).toBeLessThanOrEqual(100);
      expect(r.stored).toBe(r.body.eventIds.length);
    }
    // A receipt goes out when 100 ids are waiting, or 200 ms after the first one waited.
    expect(mine.length).toBeLessThanOrEqual(Math.ceil((last - started) / 200) + Math.floor(events.length / 100) + 1);
    expect(invalid).toEqual([]);
  }, 30_000);
});
