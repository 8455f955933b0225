import { randomUUID } from 'node:crypto';
import {
  CommandSigner,
  CommandVerifier,
  generateSigningKey,
  loadSigningKey,
  ReplayGuard,
  receiverCommandSubscriptions,
  TrustedKeySet,
  trustedKeyFor,
} from '@loa/protocols';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { areaChain } from '../src/broker/broker-config.js';
import { loadControllerConfig } from '../src/config.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { databaseSequence } from '../src/dispatch/sequence.js';
import { buildApp } from '../src/http/app.js';
import { useFreshDatabase } from './support/database.js';

const config = loadControllerConfig();
const database = useFreshDatabase();
const jwk = generateSigningKey();
const RX = 'rx-02680-02-3';
let app: FastifyInstance;
let redis: Redis;
let controllerMqtt: MqttClient;
let receiverMqtt: MqttClient;
let verifier: CommandVerifier;
const received: Array<{ topic: string; payload: Buffer }> = [];

beforeAll(async () => {
  const db = database.db();
  await seedDemoProvince(db, { password: 'pw' });
  const rx = await db.receiver.findUniqueOrThrow({ where: { id: RX }, include: { village: true } });
  const areas = await areaChain(db, rx.village.path);
  verifier = new CommandVerifier({
    keys: new TrustedKeySet([trustedKeyFor(jwk)]),
    receiverId: RX,
    areas,
    replay: new ReplayGuard(),
  });
  controllerMqtt = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5 });
  receiverMqtt = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
  receiverMqtt.on('message', (topic, payload) => received.push({ topic, payload }));
  await receiverMqtt.subscribeAsync(receiverCommandSubscriptions(RX, areas), { qos: 1 });
  redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
  const signer = new CommandSigner({
    issuer: 'cmd-test',
    key: loadSigningKey(jwk),
    nextSeq: databaseSequence(db, 'cmd-test'),
  });
  app = await buildApp({
    db,
    redis,
    rateLimitNamespace: `test-${randomUUID()}-`,
    commands: { signer, mqtt: controllerMqtt },
  });
}, 60_000);

afterAll(async () => {
  await app?.close();
  await receiverMqtt?.endAsync();
  await controllerMqtt?.endAsync();
  redis?.disconnect();
});

async function as(username: string) {
  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password: 'pw' } });
  return `loa_session=${login.cookies.find((c) => c.name === 'loa_session')?.value}`;
}

describe('immediate commands', () => {
  it('sends a signed stop at once on the area topic, which the receiver accepts', async () => {
    const cookie = await as('official-02680');
    const before = received.length;
    const response = await app.inject({
      method: 'POST',
      url: '/commands/stop',
      headers: { cookie },
      payload: { targets: { areas: ['02680'] }, upToPriority: 'priority', reason: 'nhầm lịch' },
    });
    expect(response.statusCode, response.body).toBe(202);
    for (let i = 0; i < 100 && received.length === before; i++) await new Promise((r) => setTimeout(r, 20));
    const mine = received
      .slice(before)
      .map((m) => verifier.verify(m.payload, m.topic))
      .find((r) => r.ok);
    expect(mine?.ok && mine.command.kind === 'stop' && mine.command.body).toEqual({
      upToPriority: 'priority',
      reason: 'nhầm lịch',
    });
    expect(await database.db().auditLog.count({ where: { entity: 'command', action: 'stop' } })).toBe(1);
  });

  it('leaves stopping emergencies to emergency staff, and other communes alone', async () => {
    const official = await as('official-02680');
    const stopAll = await app.inject({
      method: 'POST',
      url: '/commands/stop',
      headers: { cookie: official },
      payload: { targets: { areas: ['02680'] } },
    });
    expect(stopAll.statusCode).toBe(403);
    const elsewhere = await app.inject({
      method: 'POST',
      url: '/commands/stop',
      headers: { cookie: official },
      payload: { targets: { areas: ['02683'] }, upToPriority: 'normal' },
    });
    expect(elsewhere.statusCode).toBe(403);
    const emergency = await as('emergency-082');
    const ok = await app.inject({
      method: 'POST',
      url: '/commands/stop',
      headers: { cookie: emergency },
      payload: { targets: { areas: ['02680', '02683'] } },
    });
    expect(ok.statusCode).toBe(202);
    expect(ok.json().commands).toHaveLength(2);
  });
});

describe('play now', () => {
  async function contentWithAudio(languages: string[]) {
    const db = database.db();
    const area = await db.area.findUniqueOrThrow({ where: { code: '02680' } });
    return db.content.create({
      data: {
        title: 'Thông báo tiêm chủng',
        category: 'notice',
        ownerAreaId: area.id,
        variants: {
          create: [
            ...languages.map((language, i) => ({
              language,
              kind: 'audio' as const,
              asset: {
                create: {
                  sha256: randomUUID().replaceAll('-', '').padEnd(64, String(i)),
                  durationMs: 30_000 + i,
                  bytes: 90_000,
                  format: 'opus',
                  mime: 'audio/ogg',
                },
              },
            })),
            { language: 'ium', kind: 'text' as const, text: 'chưa có tiếng' },
          ],
        },
      },
    });
  }

  it('airs a content item at once, in the village languages that have audio, signed for the receiver', async () => {
    const content = await contentWithAudio(['hmn', 'vie']);
    const cookie = await as('official-02680');
    const before = received.length;
    const response = await app.inject({
      method: 'POST',
      url: '/commands/play',
      headers: { cookie },
      payload: { contentId: content.id, targets: { receivers: [RX] }, volume: 70 },
    });
    expect(response.statusCode, response.body).toBe(202);
    // RX's village speaks vie, hmn, ium; ium has only text, so it is left out, order kept.
    expect(response.json().commands).toEqual([expect.objectContaining({ languages: ['vie', 'hmn'] })]);
    for (let i = 0; i < 100 && received.length === before; i++) await new Promise((r) => setTimeout(r, 20));
    const verified = received
      .slice(before)
      .map((m) => verifier.verify(m.payload, m.topic))
      .find((r) => r.ok && r.command.kind === 'play.now');
    expect(verified?.ok).toBe(true);
    if (!verified?.ok || verified.command.kind !== 'play.now') return;
    const body = verified.command.body as { item: { itemId: string; volume: number; segments: unknown[] } };
    expect(body.item.itemId).toBe(response.json().itemId);
    expect(body.item.volume).toBe(70);
    expect(body.item.segments).toHaveLength(2);
  });

  it('refuses content with no audio for a target, and emergency priority for officials', async () => {
    const db = database.db();
    const area = await db.area.findUniqueOrThrow({ where: { code: '02680' } });
    const textOnly = await db.content.create({
      data: {
        title: 'Chỉ có chữ',
        category: 'notice',
        ownerAreaId: area.id,
        variants: { create: [{ language: 'vie', kind: 'text', text: 'xin chào' }] },
      },
    });
    const cookie = await as('official-02680');
    const silent = await app.inject({
      method: 'POST',
      url: '/commands/play',
      headers: { cookie },
      payload: { contentId: textOnly.id, targets: { areas: ['02680'] } },
    });
    expect(silent.statusCode).toBe(422);
    expect(silent.json().detail).toMatch(/no audio.*02680/);
    const audio = await contentWithAudio(['vie']);
    const emergency = await app.inject({
      method: 'POST',
      url: '/commands/play',
      headers: { cookie },
      payload: { contentId: audio.id, targets: { areas: ['02680'] }, priority: 'emergency' },
    });
    expect(emergency.statusCode).toBe(403);
    expect(await db.dispatchedCommand.count({ where: { kind: 'play.now' } })).toBe(1);
  });
});
