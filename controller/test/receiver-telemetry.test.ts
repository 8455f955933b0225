import { randomUUID } from 'node:crypto';
import { topics } from '@loa/protocols';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControllerConfig } from '../src/config.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { buildApp } from '../src/http/app.js';
import { ReceiverIngest } from '../src/ingest/receiver-ingest.js';
import { pruneTelemetry, startTelemetryRetention } from '../src/receivers/telemetry-retention.js';
import { useFreshDatabase } from './support/database.js';

const config = loadControllerConfig();
const database = useFreshDatabase();
const PASSWORD = 'pw';
// Other test files publish for the demo receivers on the same broker: this file's receiver
// gets an id no one else knows.
const tag = randomUUID().slice(0, 8);
const RX = `rx-02680-01-1-${tag}`;
const BULK = `rx-02680-01-2-${tag}`;
let app: FastifyInstance;
let redis: Redis;
let ingest: ReceiverIngest;
let receiver: MqttClient;

beforeAll(async () => {
  const db = database.db();
  await seedDemoProvince(db, { password: PASSWORD });
  await db.receiver.update({ where: { id: 'rx-02680-01-1' }, data: { id: RX } });
  await db.receiver.update({ where: { id: 'rx-02680-01-2' }, data: { id: BULK } });
  redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
  app = await buildApp({ db, redis, rateLimitNamespace: `test-${randomUUID()}-` });
  ingest = new ReceiverIngest({ db, mqttUrl: config.MQTT_URL, group: `test-${tag}` });
  await ingest.start();
  receiver = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
}, 60_000);

afterAll(async () => {
  await receiver?.endAsync();
  await ingest?.stop();
  await app?.close();
  redis?.disconnect();
});

async function signIn(username: string): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password: PASSWORD } });
  expect(response.statusCode, response.body).toBe(200);
  return `loa_session=${response.cookies.find((c) => c.name === 'loa_session')?.value}`;
}

type Point = { at: string } & Record<string, unknown>;
async function history(cookie: string, id: string, query = ''): Promise<Point[]> {
  const response = await app.inject({ url: `/receivers/${id}/telemetry${query}`, headers: { cookie } });
  expect(response.statusCode, response.body).toBe(200);
  return (response.json() as { items: Point[] }).items;
}

const telemetry = (n: number, extra: Record<string, unknown> = {}) => ({
  v: 1,
  receiverId: RX,
  at: Date.now(),
  uptimeS: 60 + n,
  agentVersion: '1.0.0',
  power: { mains: n % 2 === 0, batteryPct: 90 - n, batteryV: 12.5 },
  network: { type: '4g', rssiDbm: -80 - n },
  audio: { volume: 70 + n, amplifierOn: n === 1 },
  playing: null,
  cache: { assets: 3, bytesUsed: 1000, bytesFree: 5000 - n },
  clock: { synced: true, offsetMs: n * 2 },
  faults: n === 2 ? ['amplifier_fault'] : [],
  ...extra,
});

describe('telemetry history', () => {
  it('keeps every report the ingest accepts and answers them oldest first, for whoever may see the receiver', async () => {
    const db = database.db();
    for (let n = 0; n < 3; n++) {
      const before = await db.telemetrySample.count({ where: { receiverId: RX } });
      await receiver.publishAsync(topics.receiverTelemetry(RX), JSON.stringify(telemetry(n)), { qos: 1 });
      await expect
        .poll(() => db.telemetrySample.count({ where: { receiverId: RX } }), { timeout: 10_000 })
        .toBe(before + 1);
    }
    const official = await signIn('official-02680');
    const items = await history(official, RX);
    expect(items).toHaveLength(3);
    expect(items.map((i) => i.volume)).toEqual([70, 71, 72]);
    expect([...items].sort((a, b) => a.at.localeCompare(b.at))).toEqual(items);
    expect(items[2]).toEqual({
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      batteryPct: 88,
      batteryV: 12.5,
      mains: true,
      rssiDbm: -82,
      networkType: '4g',
      temperatureC: null,
      volume: 72,
      amplifierOn: false,
      cacheBytesFree: 4998,
      clockOffsetMs: 4,
      faults: ['amplifier_fault'],
    });
    // Optional readings a receiver does not have come back as null.
    const bare = telemetry(3, { power: { mains: true }, network: { type: 'ethernet' }, temperatureC: 41.5 });
    await receiver.publishAsync(topics.receiverTelemetry(RX), JSON.stringify(bare), { qos: 1 });
    await expect.poll(() => db.telemetrySample.count({ where: { receiverId: RX } }), { timeout: 10_000 }).toBe(4);
    expect((await history(official, RX)).at(-1)).toMatchObject({
      batteryPct: null,
      batteryV: null,
      rssiDbm: null,
      networkType: 'ethernet',
      temperatureC: 41.5,
    });
    expect(await history(await signIn('technician-082'), RX)).toHaveLength(4);

    const outsider = await signIn('official-02683');
    const refused = await app.inject({ url: `/receivers/${RX}/telemetry`, headers: { cookie: outsider } });
    expect(refused.statusCode).toBe(403);
    expect(refused.json().detail).toMatch(/no .* role covering area/);
    const missing = await app.inject({ url: '/receivers/rx-nowhere/telemetry', headers: { cookie: official } });
    expect(missing.statusCode).toBe(404);
    expect((await app.inject({ url: `/receivers/${RX}/telemetry` })).statusCode).toBe(401);
  });

  it('answers the last 24 h by default, any range on request, and says what is wrong with a bad one', async () => {
    const db = database.db();
    const now = Date.now();
    const hoursAgo = (h: number) => new Date(now - h * 3600_000);
    await db.telemetrySample.createMany({
      data: [30, 23, 1].map((h) => ({ receiverId: BULK, at: hoursAgo(h), values: telemetry(h, { receiverId: BULK }) })),
    });
    const cookie = await signIn('technician-10');
    expect((await history(cookie, BULK)).map((i) => i.volume)).toEqual([93, 71]);
    const from = hoursAgo(31).toISOString();
    const to = hoursAgo(2).toISOString();
    expect(
      (await history(cookie, BULK, `?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`)).map(
        (i) => i.volume,
      ),
    ).toEqual([100, 93]);
    const backwards = await app.inject({
      url: `/receivers/${BULK}/telemetry?from=${encodeURIComponent(to)}&to=${encodeURIComponent(from)}`,
      headers: { cookie },
    });
    expect(backwards.statusCode).toBe(400);
    expect(backwards.json().detail).toMatch(/is after to/);
    for (const query of ['?limit=10001', '?limit=0', '?from=yesterday'])
      expect((await app.inject({ url: `/receivers/${BULK}/telemetry${query}`, headers: { cookie } })).statusCode).toBe(
        400,
      );
    await db.telemetrySample.deleteMany({ where: { receiverId: BULK } });
  });

  it('thins a long history evenly to the limit, keeping the newest, covering the whole range', async () => {
    const db = database.db();
    const start = Date.now() - 20 * 3600_000;
    const total = 7000; // one report every 10 s for ~19.4 h
    const rows = Array.from({ length: total }, (_, i) => ({
      receiverId: BULK,
      at: new Date(start + i * 10_000),
      values: telemetry(0, { receiverId: BULK, uptimeS: i }),
    }));
    for (let i = 0; i < rows.length; i += 2000) await db.telemetrySample.createMany({ data: rows.slice(i, i + 2000) });
    const cookie = await signIn('technician-10');

    const all = await history(cookie, BULK, '?limit=10000');
    expect(all).toHaveLength(total);
    const thinned = await history(cookie, BULK, '?limit=100');
    expect(thinned).toHaveLength(100);
    const times = thinned.map((i) => Date.parse(i.at));
    expect(times.at(-1)).toBe(start + (total - 1) * 10_000); // the newest report is there
    expect(times[0]).toBeLessThan(start + (total / 100) * 10_000); // the first run's last sample
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(69 * 10_000); // 7000/100 = 70 samples apart
    expect(Math.max(...gaps)).toBeLessThanOrEqual(71 * 10_000);
    // The default limit is 2000.
    expect(await history(cookie, BULK)).toHaveLength(2000);
  });

  it('deletes samples older than the retention, on a BullMQ schedule', async () => {
    const db = database.db();
    const old = { receiverId: BULK, values: telemetry(0, { receiverId: BULK }) };
    await db.telemetrySample.createMany({
      data: [
        { ...old, at: new Date(Date.now() - 15 * 86_400_000) },
        { ...old, at: new Date(Date.now() - 15 * 86_400_000 - 1000) },
      ],
    });
    const before = await db.telemetrySample.count();
    expect(await pruneTelemetry(db, new Date(Date.now() - 14 * 86_400_000))).toBe(2);
    expect(await db.telemetrySample.count()).toBe(before - 2);

    await db.telemetrySample.create({ data: { ...old, at: new Date(Date.now() - 3 * 86_400_000) } });
    const jobs = await startTelemetryRetention({
      db,
      redisUrl: config.REDIS_URL,
      retentionDays: 2,
      everyMs: 200,
      prefix: `test-${randomUUID()}`,
    });
    try {
      await expect
        .poll(() => db.telemetrySample.count({ where: { at: { lt: new Date(Date.now() - 2 * 86_400_000) } } }), {
          timeout: 10_000,
        })
        .toBe(0);
      // Recent samples stay.
      expect(await db.telemetrySample.count({ where: { receiverId: RX } })).toBe(4);
    } finally {
      await jobs.queue.obliterate({ force: true });
      await jobs.stop();
    }
  });
});
