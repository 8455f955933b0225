import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CommandSigner,
  CommandVerifier,
  generateSigningKey,
  loadSigningKey,
  ReplayGuard,
  TrustedKeySet,
  topics,
  trustedKeyFor,
} from '@loa/protocols';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskAssetStore } from '../src/assets/asset-store.js';
import { DEFAULT_PIPELINE } from '../src/audio/pipeline.js';
import { ensureTones } from '../src/audio/tone-assets.js';
import { areaChain } from '../src/broker/broker-config.js';
import { loadControllerConfig } from '../src/config.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { databaseSequence } from '../src/dispatch/sequence.js';
import { buildApp } from '../src/http/app.js';
import { ReceiverIngest } from '../src/ingest/receiver-ingest.js';
import { useFreshDatabase } from './support/database.js';

const config = loadControllerConfig();
const database = useFreshDatabase();
const jwk = generateSigningKey();
const RX = 'rx-02839-04-3';
let app: FastifyInstance;
let redis: Redis;
let controllerMqtt: MqttClient;
let receiver: MqttClient;
let ingest: ReceiverIngest;
let verifier: CommandVerifier;
const received: Array<{ topic: string; payload: Buffer }> = [];

beforeAll(async () => {
  const db = database.db();
  await seedDemoProvince(db, { password: 'pw' });
  const rx = await db.receiver.findUniqueOrThrow({ where: { id: RX }, include: { village: true } });
  verifier = new CommandVerifier({
    keys: new TrustedKeySet([trustedKeyFor(jwk)]),
    receiverId: RX,
    areas: await areaChain(db, rx.village.path),
    replay: new ReplayGuard(),
  });
  ingest = new ReceiverIngest({ db, mqttUrl: config.MQTT_URL, group: `actions-${randomUUID().slice(0, 8)}` });
  await ingest.start();
  controllerMqtt = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5 });
  receiver = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
  receiver.on('message', (topic, payload) => received.push({ topic, payload }));
  await receiver.subscribeAsync(topics.receiverCommand(RX), { qos: 1 });
  redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
  const signer = new CommandSigner({
    issuer: 'actions-test',
    key: loadSigningKey(jwk),
    nextSeq: databaseSequence(db, 'actions-test'),
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
  await receiver?.endAsync();
  await controllerMqtt?.endAsync();
  await ingest?.stop();
  redis?.disconnect();
});

async function as(username: string) {
  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password: 'pw' } });
  return `loa_session=${login.cookies.find((c) => c.name === 'loa_session')?.value}`;
}

async function until(check: () => boolean | Promise<boolean>) {
  for (let i = 0; i < 300 && !(await check()); i++) await new Promise((r) => setTimeout(r, 10));
  expect(await check()).toBe(true);
}

describe('remote actions on one receiver', () => {
  it('sends a signed device command, and shows the receiver’s answer', async () => {
    const cookie = await as('technician-085');
    const response = await app.inject({
      method: 'POST',
      url: `/receivers/${RX}/actions`,
      headers: { cookie },
      payload: { action: 'volume', volume: 40 },
    });
    expect(response.statusCode, response.body).toBe(202);
    const { commandId } = response.json();
    await until(() => received.length > 0);
    const verified = verifier.verify(received[0]?.payload as Buffer, received[0]?.topic);
    expect(verified.ok && verified.command).toMatchObject({
      id: commandId,
      kind: 'device.volume',
      body: { volume: 40 },
    });
    const ack = (result: string, detail?: string) => ({
      v: 1,
      eventId: randomUUID(),
      receiverId: RX,
      at: Date.now(),
      type: 'ack',
      commandId,
      result,
      ...(detail ? { detail } : {}),
    });
    await receiver.publishAsync(topics.receiverEvents(RX), JSON.stringify(ack('accepted')), { qos: 1 });
    await receiver.publishAsync(topics.receiverEvents(RX), JSON.stringify(ack('failed', 'amplifier does not answer')), {
      qos: 1,
    });
    const actions = async () =>
      (await app.inject({ url: `/receivers/${RX}/actions`, headers: { cookie } })).json().items as Array<{
        result: string;
      }>;
    await until(async () => (await actions())[0]?.result === 'failed');
    expect((await actions())[0]).toMatchObject({
      commandId,
      kind: 'device.volume',
      detail: 'amplifier does not answer',
    });
  });

  it('stores the log lines a receiver sends and shows them to technicians only', async () => {
    const cookie = await as('technician-085');
    const sent = await app.inject({
      method: 'POST',
      url: `/receivers/${RX}/actions`,
      headers: { cookie },
      payload: { action: 'logs', maxLines: 50 },
    });
    expect(sent.statusCode).toBe(202);
    const logs = {
      v: 1,
      receiverId: RX,
      at: Date.now(),
      commandId: sent.json().commandId,
      lines: ['{"msg":"agent started"}'],
    };
    await receiver.publishAsync(topics.receiverLogs(RX), JSON.stringify(logs), { qos: 1 });
    await receiver.publishAsync(topics.receiverLogs(RX), JSON.stringify({ ...logs, receiverId: 'rx-02839-04-4' }), {
      qos: 1,
    });
    const shown = async () => (await app.inject({ url: `/receivers/${RX}/logs`, headers: { cookie } })).json();
    await until(async () => (await shown()).items.length === 1);
    expect((await shown()).items[0]).toMatchObject({ commandId: logs.commandId, lines: logs.lines });
    await until(() => (ingest.stats.rejected.spoofed_id ?? 0) >= 1);
    const official = await as('official-02839');
    expect((await app.inject({ url: `/receivers/${RX}/logs`, headers: { cookie: official } })).statusCode).toBe(403);
    const reboot = await app.inject({
      method: 'POST',
      url: `/receivers/${RX}/actions`,
      headers: { cookie: official },
      payload: { action: 'reboot' },
    });
    expect(reboot.statusCode).toBe(403);
    const audible = await app.inject({
      method: 'POST',
      url: `/receivers/${RX}/actions`,
      headers: { cookie },
      payload: { action: 'test', mode: 'audible' },
    });
    expect(audible.statusCode).toBe(422);
    expect(audible.json().detail).toMatch(/chime asset.*use mode "silent"/);
    // Once the audio pipeline has made the tones, the audible test plays the chime.
    const dir = mkdtempSync(join(tmpdir(), 'loa-actions-tones-'));
    const tones = await ensureTones(database.db(), new DiskAssetStore(dir), DEFAULT_PIPELINE);
    const before = received.length;
    const played = await app.inject({
      method: 'POST',
      url: `/receivers/${RX}/actions`,
      headers: { cookie },
      payload: { action: 'test', mode: 'audible' },
    });
    expect(played.statusCode, played.body).toBe(202);
    await until(() => received.length > before);
    const test = verifier.verify(received.at(-1)?.payload as Buffer, received.at(-1)?.topic);
    expect(test.ok && test.command).toMatchObject({
      id: played.json().commandId,
      kind: 'device.test',
      body: {
        mode: 'audible',
        toneSha256: tones.chime.sha256,
        assets: [{ sha256: tones.chime.sha256, url: `/assets/${tones.chime.sha256}` }],
      },
    });
    rmSync(dir, { recursive: true, force: true });
    const bad = await app.inject({
      method: 'POST',
      url: `/receivers/${RX}/actions`,
      headers: { cookie },
      payload: { action: 'self-destruct' },
    });
    expect(bad.statusCode).toBe(400);
  });
});
