import { randomUUID } from 'node:crypto';
import { topics } from '@loa/protocols';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControllerConfig } from '../src/config.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { ReceiverIngest } from '../src/ingest/receiver-ingest.js';
import { flagSilentReceivers } from '../src/presence/offline-sweep.js';
import { startPresenceJobs } from '../src/presence/presence-jobs.js';
import { useFreshDatabase } from './support/database.js';

const config = loadControllerConfig();
const database = useFreshDatabase();
let ingest: ReceiverIngest;
let receiver: MqttClient;
// Other test files (and perhaps a simulator) publish for the demo receivers on the same
// broker, so the receivers this file uses are renamed to ids no one else knows.
const tag = randomUUID().slice(0, 8);
const rename = (demoId: string) => `${demoId}-${tag}`;
const RX = rename('rx-02680-01-1');
const OTHER = rename('rx-02683-01-1');
const WILL = rename('rx-02680-02-1');
const SILENT = rename('rx-02680-03-1');
const RECENT = rename('rx-02680-03-2');
const SWEPT = rename('rx-02680-04-1');
const SAMPLED = rename('rx-02680-05-1');
/** Messages the ingest has finished with, as `topic payload`, in order. */
const handled: string[] = [];
const rejections: { reason: string; topic: string }[] = [];

beforeAll(async () => {
  const db = database.db();
  await seedDemoProvince(db, { password: 'pw' });
  for (const id of [RX, OTHER, WILL, SILENT, RECENT, SWEPT, SAMPLED]) {
    await db.receiver.update({ where: { id: id.slice(0, -tag.length - 1) }, data: { id } });
  }
  // A group of its own, so parallel test runs on the same broker do not share messages.
  ingest = new ReceiverIngest({
    db,
    mqttUrl: config.MQTT_URL,
    group: `test-${randomUUID().slice(0, 8)}`,
    log: (message, detail) => {
      if (message === 'rejected receiver message') rejections.push(detail as { reason: string; topic: string });
    },
  });
  const handle = ingest.handle.bind(ingest);
  ingest.handle = async (topic, payload) => {
    try {
      await handle(topic, payload);
    } finally {
      handled.push(`${topic} ${payload.toString('base64')}`);
    }
  };
  await ingest.start();
  receiver = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
}, 60_000);

afterAll(async () => {
  await receiver?.endAsync();
  await ingest?.stop();
});

/** Publishes, then waits until the ingest has applied this very message. */
async function publish(topic: string, payload: string | object) {
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const key = `${topic} ${Buffer.from(text).toString('base64')}`;
  const count = () => handled.filter((h) => h === key).length;
  const before = count();
  await receiver.publishAsync(topic, text, { qos: 1 });
  for (let i = 0; i < 500 && count() === before; i++) await new Promise((r) => setTimeout(r, 10));
  await ingest.drain();
}

const telemetry = (receiverId = RX) => ({
  v: 1,
  receiverId,
  at: Date.now(),
  uptimeS: 60,
  agentVersion: '1.0.0',
  firmware: 'fw-2.1',
  power: { mains: true },
  network: { type: '4g', rssiDbm: -90 },
  audio: { volume: 80, amplifierOn: false },
  playing: null,
  cache: { assets: 0, bytesUsed: 0, bytesFree: 1 },
  clock: { synced: true, offsetMs: 0 },
  faults: [],
});
const play = (occurrenceId: string, state: string, eventId = randomUUID()) => ({
  v: 1,
  eventId,
  receiverId: RX,
  at: Date.now(),
  type: 'play',
  itemId: occurrenceId,
  source: 'schedule',
  state,
  priority: 'normal',
});

describe('receiver ingest over the real broker', () => {
  it('marks a receiver online from its telemetry, with firmware and version', async () => {
    await publish(topics.receiverTelemetry(RX), telemetry());
    const rx = await database.db().receiver.findUniqueOrThrow({ where: { id: RX } });
    expect(rx).toMatchObject({ online: true, firmware: 'fw-2.1', agentVersion: '1.0.0' });
    expect(rx.lastSeenAt).not.toBeNull();
    // Each accepted report is also kept, as it came, for the history charts.
    const samples = await database.db().telemetrySample.findMany({ where: { receiverId: RX } });
    expect(samples).toHaveLength(1);
    expect(samples[0]?.values).toMatchObject({ receiverId: RX, network: { type: '4g', rssiDbm: -90 } });
    expect(samples[0]?.at.getTime()).toBe(rx.lastSeenAt?.getTime());
  });

  it('moves a delivery through started and finished, ignoring duplicates and late reports', async () => {
    const db = database.db();
    const delivery = await db.delivery.findFirstOrThrow({ where: { receiverId: RX, state: 'planned' } });
    const started = play(delivery.occurrenceId, 'started');
    await publish(topics.receiverEvents(RX), started);
    expect((await db.delivery.findUniqueOrThrow({ where: { id: delivery.id } })).state).toBe('started');
    await publish(topics.receiverEvents(RX), play(delivery.occurrenceId, 'finished'));
    const duplicates = ingest.stats.duplicates;
    await publish(topics.receiverEvents(RX), started); // QoS 1 redelivery
    expect(ingest.stats.duplicates).toBe(duplicates + 1);
    await publish(topics.receiverEvents(RX), play(delivery.occurrenceId, 'started')); // late, new id
    const final = await db.delivery.findUniqueOrThrow({ where: { id: delivery.id } });
    expect(final.state).toBe('finished');
    expect(final.startedAt).not.toBeNull();
    expect(final.finishedAt).not.toBeNull();
  });

  it('ends a delivery as finished when an interrupted warning is resumed and heard whole', async () => {
    const db = database.db();
    const delivery = await db.delivery.findFirstOrThrow({ where: { receiverId: RX, state: 'planned' } });
    for (const state of ['started', 'interrupted', 'started', 'finished'])
      await publish(topics.receiverEvents(RX), play(delivery.occurrenceId, state));
    expect((await db.delivery.findUniqueOrThrow({ where: { id: delivery.id } })).state).toBe('finished');
    const other = await db.delivery.findFirstOrThrow({ where: { receiverId: RX, state: 'planned' } });
    for (const state of ['started', 'finished', 'interrupted'])
      await publish(topics.receiverEvents(RX), play(other.occurrenceId, state));
    expect((await db.delivery.findUniqueOrThrow({ where: { id: other.id } })).state).toBe('finished');
  });

  it('receipts stored events to their receiver, repeats again, malformed never', async () => {
    const listener = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
    const receipted: string[][] = [];
    listener.on('message', (_topic, payload) => receipted.push(JSON.parse(payload.toString()).eventIds));
    await listener.subscribeAsync(topics.receiverEventReceipts(RX), { qos: 1 });
    const waitFor = async (id: string, times: number) => {
      for (let i = 0; i < 200 && receipted.filter((ids) => ids.includes(id)).length < times; i++)
        await new Promise((r) => setTimeout(r, 10));
      return receipted.filter((ids) => ids.includes(id)).length;
    };
    try {
      const fault = { v: 1, eventId: randomUUID(), receiverId: RX, at: Date.now(), type: 'fault', code: 'overheat' };
      await publish(topics.receiverEvents(RX), { ...fault, state: 'raised' });
      expect(await waitFor(fault.eventId, 1)).toBe(1);
      await publish(topics.receiverEvents(RX), { ...fault, state: 'raised' }); // the receiver missed the receipt
      expect(await waitFor(fault.eventId, 2)).toBe(2);
      const bad = { ...fault, eventId: randomUUID(), state: 'smouldering' };
      await publish(topics.receiverEvents(RX), bad);
      await new Promise((r) => setTimeout(r, 400));
      expect(receipted.flat()).not.toContain(bad.eventId);
      await publish(topics.receiverEvents(RX), { ...fault, eventId: randomUUID(), state: 'cleared' });
    } finally {
      await listener.endAsync();
    }
  });

  it('latches and clears faults', async () => {
    const fault = (state: string) => ({
      v: 1,
      eventId: randomUUID(),
      receiverId: RX,
      at: Date.now(),
      type: 'fault',
      code: 'speaker_line_open',
      state,
    });
    await publish(topics.receiverEvents(RX), fault('raised'));
    expect((await database.db().receiver.findUniqueOrThrow({ where: { id: RX } })).faults).toEqual([
      'speaker_line_open',
    ]);
    await publish(topics.receiverEvents(RX), fault('cleared'));
    expect((await database.db().receiver.findUniqueOrThrow({ where: { id: RX } })).faults).toEqual([]);
  });

  it('counts malformed, spoofed and unknown messages and keeps going', async () => {
    // Counted by topic: this ingest also sees (and rejects) what other test files publish.
    const mine = new Set([
      topics.receiverEvents(RX),
      topics.receiverTelemetry(RX),
      topics.receiverTelemetry('rx-nowhere'),
    ]);
    const from = rejections.length;
    const rejected = () => {
      const counts: Record<string, number> = {};
      for (const r of rejections.slice(from)) if (mine.has(r.topic)) counts[r.reason] = (counts[r.reason] ?? 0) + 1;
      return counts;
    };
    await publish(topics.receiverEvents(RX), 'not json at all');
    await publish(topics.receiverEvents(RX), '{"v":1,"type":"play"}');
    await publish(topics.receiverTelemetry(RX), telemetry(OTHER)); // claims to be another receiver
    await publish(topics.receiverTelemetry('rx-nowhere'), telemetry('rx-nowhere'));
    await publish(topics.receiverEvents(RX), Buffer.from([0xff, 0x00, 0xfe]).toString('latin1'));
    expect(rejected()).toEqual({ malformed: 3, spoofed_id: 1, unknown_receiver: 1 });
    expect((await database.db().receiver.findUniqueOrThrow({ where: { id: OTHER } })).online).toBe(false);
    // Refused reports leave no history behind.
    expect(await database.db().telemetrySample.count({ where: { receiverId: { in: [OTHER, 'rx-nowhere'] } } })).toBe(0);
    await publish(topics.receiverTelemetry(RX), telemetry());
    expect(ingest.stats.accepted).toBeGreaterThan(0);
  });

  it("takes the broker's last will as offline", async () => {
    const id = WILL;
    const will = { v: 1, receiverId: id, online: false, at: Date.now(), reason: 'last_will' };
    const doomed = await mqtt.connectAsync(config.MQTT_URL, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      will: { topic: topics.receiverState(id), payload: Buffer.from(JSON.stringify(will)), qos: 1, retain: false },
    });
    await publish(topics.receiverState(id), { ...will, online: true, reason: 'connected' });
    expect((await database.db().receiver.findUniqueOrThrow({ where: { id } })).online).toBe(true);
    doomed.stream.destroy(); // power cut: no DISCONNECT
    for (let i = 0; i < 100; i++) {
      await ingest.drain();
      if (!(await database.db().receiver.findUniqueOrThrow({ where: { id } })).online) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await database.db().receiver.findUniqueOrThrow({ where: { id } })).online).toBe(false);
  });
});

describe('offline flagging', () => {
  it('flags a receiver silent for more than 25 s, and only those', async () => {
    const db = database.db();
    const now = new Date();
    await db.receiver.update({
      where: { id: SILENT },
      data: { online: true, lastSeenAt: new Date(now.getTime() - 26_000) },
    });
    await db.receiver.update({
      where: { id: RECENT },
      data: { online: true, lastSeenAt: new Date(now.getTime() - 20_000) },
    });
    const flagged = await flagSilentReceivers(db, now);
    expect(flagged).toContain(SILENT);
    expect(flagged).not.toContain(RECENT);
    expect((await db.receiver.findUniqueOrThrow({ where: { id: SILENT } })).online).toBe(false);
  });

  it('gives a receiver set to report every 60 s two and a half of its periods (150 s) before flagging it', async () => {
    const db = database.db();
    const now = new Date();
    const slow = (silentS: number) =>
      db.receiver.update({
        where: { id: RECENT },
        data: {
          online: true,
          lastSeenAt: new Date(now.getTime() - silentS * 1000),
          telemetry: { ...telemetry(RECENT), intervalS: 60 },
        },
      });
    await slow(100);
    expect(await flagSilentReceivers(db, now)).not.toContain(RECENT);
    await slow(151);
    expect(await flagSilentReceivers(db, now)).toContain(RECENT);
    // A report period shorter than the limit does not shorten it (one lost beat is no alarm).
    await db.receiver.update({
      where: { id: RECENT },
      data: {
        online: true,
        lastSeenAt: new Date(now.getTime() - 20_000),
        telemetry: { ...telemetry(RECENT), intervalS: 5 },
      },
    });
    expect(await flagSilentReceivers(db, now)).not.toContain(RECENT);
  });

  it('runs the sweep on a BullMQ schedule, flagging within seconds', async () => {
    const db = database.db();
    await db.receiver.update({
      where: { id: SWEPT },
      data: { online: true, lastSeenAt: new Date(Date.now() - 60_000) },
    });
    const flagged: string[] = [];
    const jobs = await startPresenceJobs({
      db,
      redisUrl: config.REDIS_URL,
      everyMs: 200,
      prefix: `test-${randomUUID()}`,
      onOffline: (ids) => flagged.push(...ids),
    });
    try {
      for (let i = 0; i < 100 && !flagged.includes(SWEPT); i++) await new Promise((r) => setTimeout(r, 50));
      expect(flagged).toContain(SWEPT);
    } finally {
      await jobs.queue.obliterate({ force: true });
      await jobs.stop();
    }
  });
});

describe('telemetry samples for the history charts', () => {
  it('keeps one report per TELEMETRY_SAMPLE_S per receiver, and at once a report whose faults changed', async () => {
    const db = database.db();
    let now = new Date('2026-12-01T00:00:00Z');
    const sampler = new ReceiverIngest({ db, mqttUrl: config.MQTT_URL, telemetrySampleS: 300, now: () => now });
    const report = (faults: string[]) =>
      sampler.handle(topics.receiverTelemetry(SAMPLED), Buffer.from(JSON.stringify({ ...telemetry(SAMPLED), faults })));
    await report([]); // kept: the first
    now = new Date(now.getTime() + 10_000);
    await report([]); // dropped: 10 s later, nothing changed
    now = new Date(now.getTime() + 10_000);
    await report(['amplifier_fault']); // kept: a fault appeared
    now = new Date(now.getTime() + 10_000);
    await report(['amplifier_fault']); // dropped
    now = new Date(now.getTime() + 300_000);
    await report(['amplifier_fault']); // kept: 5 min since the last kept one
    const samples = await db.telemetrySample.findMany({ where: { receiverId: SAMPLED }, orderBy: { at: 'asc' } });
    expect(samples.map((s) => (s.values as { faults: string[] }).faults)).toEqual([
      [],
      ['amplifier_fault'],
      ['amplifier_fault'],
    ]);
    expect(samples.map((s) => s.at.toISOString())).toEqual([
      '2026-12-01T00:00:00.000Z',
      '2026-12-01T00:00:20.000Z',
      '2026-12-01T00:05:30.000Z',
    ]);
    // The receiver's live state follows every report, kept as a sample or not.
    const rx = await db.receiver.findUniqueOrThrow({ where: { id: SAMPLED } });
    expect(rx.lastSeenAt?.toISOString()).toBe('2026-12-01T00:05:30.000Z');
  });
});
