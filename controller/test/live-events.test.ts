import { randomUUID } from 'node:crypto';
import { topics } from '@loa/protocols';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadControllerConfig } from '../src/config.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { buildApp } from '../src/http/app.js';
import { ReceiverIngest } from '../src/ingest/receiver-ingest.js';
import { EventBus } from '../src/live-events/event-bus.js';
import { useFreshDatabase } from './support/database.js';

const config = loadControllerConfig();
const database = useFreshDatabase();
let app: FastifyInstance;
let redis: Redis;
let bus: EventBus;
let ingest: ReceiverIngest;
let receiver: MqttClient;
let base: string;
const sockets: WebSocket[] = [];

beforeAll(async () => {
  const db = database.db();
  await seedDemoProvince(db, { password: 'pw' });
  redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
  bus = new EventBus(config.REDIS_URL, `test-events-${randomUUID()}`);
  await bus.ready();
  app = await buildApp({ db, redis, bus, rateLimitNamespace: `test-${randomUUID()}-` });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  base = address.replace('http', 'ws');
  ingest = new ReceiverIngest({
    db,
    mqttUrl: config.MQTT_URL,
    group: `test-${randomUUID().slice(0, 8)}`,
    onEvent: (e) => void bus.publish(e),
  });
  await ingest.start();
  receiver = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
}, 60_000);

afterAll(async () => {
  for (const s of sockets) s.close();
  await receiver?.endAsync();
  await ingest?.stop();
  await app?.close();
  await bus?.close();
  redis?.disconnect();
});

async function openEvents(username: string): Promise<{ messages: Array<Record<string, unknown>> }> {
  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password: 'pw' } });
  const cookie = `loa_session=${login.cookies.find((c) => c.name === 'loa_session')?.value}`;
  const socket = new WebSocket(`${base}/events`, { headers: { cookie } });
  sockets.push(socket);
  const messages: Array<Record<string, unknown>> = [];
  socket.on('message', (data) => messages.push(JSON.parse(String(data))));
  await new Promise((resolve, reject) => {
    socket.once('open', resolve);
    socket.once('error', reject);
  });
  for (let i = 0; i < 100 && messages.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  return { messages };
}

describe('live fleet events over the WebSocket', () => {
  it('streams a receiver coming online to users whose scope covers it, and only to them', async () => {
    const own = await openEvents('official-02680');
    const district = await openEvents('technician-082');
    const other = await openEvents('official-02683');
    expect(own.messages[0]).toEqual({ type: 'hello', username: 'official-02680' });
    const telemetry = {
      v: 1,
      receiverId: 'rx-02680-05-3',
      at: Date.now(),
      uptimeS: 5,
      agentVersion: '1.0.0',
      power: { mains: true },
      network: { type: '4g' },
      audio: { volume: 70, amplifierOn: false },
      playing: null,
      cache: { assets: 0, bytesUsed: 0, bytesFree: 1 },
      clock: { synced: true, offsetMs: 0 },
      faults: [],
    };
    await receiver.publishAsync(topics.receiverTelemetry('rx-02680-05-3'), JSON.stringify(telemetry), { qos: 1 });
    for (let i = 0; i < 200 && (own.messages.length < 2 || district.messages.length < 2); i++)
      await new Promise((r) => setTimeout(r, 20));
    const online = { type: 'receiver.online', receiverId: 'rx-02680-05-3', online: true };
    expect(own.messages[1]).toMatchObject(online);
    expect(district.messages[1]).toMatchObject(online);
    // A second report changes nothing, so it is not an event.
    await receiver.publishAsync(
      topics.receiverTelemetry('rx-02680-05-3'),
      JSON.stringify({ ...telemetry, at: Date.now() }),
      { qos: 1 },
    );
    await new Promise((r) => setTimeout(r, 300));
    expect(own.messages).toHaveLength(2);
    expect(other.messages).toEqual([{ type: 'hello', username: 'official-02683' }]);
  });

  it('streams an alert’s progress on each receiver as its reports arrive', async () => {
    const db = database.db();
    const identifier = `loa-${randomUUID()}`;
    const alert = await db.alert.create({
      data: {
        identifier,
        wireId: identifier,
        status: 'Exercise',
        hazard: 'flood',
        riskLevel: 2,
        headline: { vie: 'Diễn tập' },
        areaCodes: ['02680'],
        reachLevels: ['commune'],
        expiresAt: new Date(Date.now() + 3600_000),
        state: 'issued',
        issuedAt: new Date(),
        deliveries: { create: { receiverId: 'rx-02680-05-3' } },
      },
    });
    const own = await openEvents('official-02680');
    const play = {
      v: 1,
      eventId: randomUUID(),
      receiverId: 'rx-02680-05-3',
      at: Date.now(),
      type: 'play',
      itemId: `${identifier}.r0.0`,
      source: 'alert',
      state: 'started',
      priority: 'emergency',
    };
    await receiver.publishAsync(topics.receiverEvents('rx-02680-05-3'), JSON.stringify(play), { qos: 1 });
    for (let i = 0; i < 200 && !own.messages.some((m) => m.type === 'alert.delivery'); i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(own.messages.find((m) => m.type === 'alert.delivery')).toMatchObject({
      alertId: alert.id,
      receiverId: 'rx-02680-05-3',
      state: 'started',
    });
  });

  it('refuses a WebSocket without a session', async () => {
    const socket = new WebSocket(`${base}/events`);
    const status = await new Promise<number>((resolve) => {
      socket.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      socket.once('open', () => resolve(101));
    });
    expect(status).toBe(401);
  });
  it('announces alert changes to emergency staff and admins only (they re-read what they may see)', async () => {
    const emergency = await openEvents('emergency-082');
    const admin = await openEvents('admin');
    const official = await openEvents('official-02680');
    const technician = await openEvents('technician-082');
    await bus.publish({ type: 'alert.changed', alertId: 'a1', at: new Date().toISOString() });
    const got = (c: { messages: Array<Record<string, unknown>> }) => c.messages.some((m) => m.type === 'alert.changed');
    await expect.poll(() => got(emergency) && got(admin)).toBe(true);
    await new Promise((r) => setTimeout(r, 200));
    expect(got(official)).toBe(false);
    expect(got(technician)).toBe(false);
  });
});
