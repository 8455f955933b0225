import { randomUUID } from 'node:crypto';
import {
  type AreaRef,
  CommandSigner,
  CommandVerifier,
  generateSigningKey,
  loadSigningKey,
  ReplayGuard,
  receiverCommandSubscriptions,
  TrustedKeySet,
  topics,
  trustedKeyFor,
  type VerifiedCommand,
} from '@loa/protocols';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { areaChain } from '../src/broker/broker-config.js';
import { loadControllerConfig } from '../src/config.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { ProvisionJobs } from '../src/dispatch/provision-jobs.js';
import { Provisioner } from '../src/dispatch/provisioner.js';
import { databaseSequence } from '../src/dispatch/sequence.js';
import { buildApp } from '../src/http/app.js';
import { useFreshDatabase } from './support/database.js';

const config = loadControllerConfig();
const database = useFreshDatabase();
const RX = 'rx-02680-01-1';
const jwk = generateSigningKey();
const keys = new TrustedKeySet([trustedKeyFor(jwk)]);
let app: FastifyInstance;
let redis: Redis;
let controllerMqtt: MqttClient;
let receiverMqtt: MqttClient;
let jobs: ProvisionJobs;
let cookie: string;
let contentId: string;
let areas: AreaRef[];
const received: Array<{ topic: string; payload: Buffer; expiry: number | undefined }> = [];

beforeAll(async () => {
  const db = database.db();
  await seedDemoProvince(db, { password: 'pw' });
  // Audio as the pipeline ([5/8]) will store it: a content-addressed asset per language.
  const content = await db.content.findFirstOrThrow({ where: { ownerArea: { code: '02680' } } });
  contentId = content.id;
  for (const [language, sha] of [
    ['vie', 'a'],
    ['hmn', 'b'],
  ] as const) {
    await db.asset.create({
      data: {
        sha256: sha.repeat(64),
        durationMs: 60_000,
        bytes: 180_000,
        format: 'ogg-opus',
        mime: 'audio/ogg; codecs=opus',
      },
    });
    await db.contentVariant.upsert({
      where: { contentId_language: { contentId, language } },
      create: { contentId, language, kind: 'audio', assetSha256: sha.repeat(64) },
      update: { kind: 'audio', assetSha256: sha.repeat(64) },
    });
  }
  areas = await areaChain(db, (await db.area.findUniqueOrThrow({ where: { code: '02680-01' } })).path);

  controllerMqtt = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5 });
  receiverMqtt = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
  receiverMqtt.on('message', (topic, payload, packet) =>
    received.push({ topic, payload, expiry: packet.properties?.messageExpiryInterval }),
  );
  await receiverMqtt.subscribeAsync(receiverCommandSubscriptions(RX, areas), { qos: 1 });

  const signer = new CommandSigner({
    issuer: 'test-controller',
    key: loadSigningKey(jwk),
    nextSeq: databaseSequence(db, 'test-controller'),
  });
  jobs = new ProvisionJobs({ redisUrl: config.REDIS_URL, prefix: `test-${randomUUID()}` });
  jobs.work(new Provisioner({ db, mqtt: controllerMqtt, signer }));
  redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
  app = await buildApp({
    db,
    redis,
    rateLimitNamespace: `test-${randomUUID()}-`,
    onScheduleChanged: (targets) => jobs.enqueue(targets),
  });
  const login = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { username: 'official-02680', password: 'pw' },
  });
  cookie = `loa_session=${login.cookies.find((c) => c.name === 'loa_session')?.value}`;
}, 60_000);

afterAll(async () => {
  await app?.close();
  await jobs?.queue.obliterate({ force: true });
  await jobs?.close();
  await receiverMqtt?.endAsync();
  await controllerMqtt?.endAsync();
  redis?.disconnect();
});

let consumed = 0;

/** The next provision signed by this test's key (other test files share the broker and its topics). */
async function nextProvision(
  after: number,
): Promise<{ command: VerifiedCommand; expiry: number | undefined; topic: string }> {
  consumed = Math.max(consumed, after);
  for (;;) {
    for (let i = 0; i < 200 && received.length <= consumed; i++) await new Promise((r) => setTimeout(r, 25));
    const message = received[consumed++];
    if (!message) throw new Error('no provision arrived');
    const verifier = new CommandVerifier({ keys, receiverId: RX, areas, replay: new ReplayGuard() });
    const result = verifier.verify(message.payload, message.topic);
    if (!result.ok && result.reason === 'unknown_key') continue;
    if (!result.ok) throw new Error(`receiver refused: ${result.reason} ${result.detail}`);
    return { command: result.command, expiry: message.expiry, topic: message.topic };
  }
}

const schedule = (over: Record<string, unknown>) => ({
  title: 'Thông báo',
  contentId,
  durationMs: 120_000,
  priority: 'priority',
  startMode: 'next',
  volume: 90,
  targets: { areas: ['02680'] },
  // Airtimes are relative to the real clock and may land on a seeded programme.
  acceptConflicts: true,
  ...over,
});
const localIn = (ms: number) => new Date(Date.now() + ms + 7 * 3600_000).toISOString().slice(0, 19);

describe('provisioning', () => {
  it('sends the commune a signed schedule ahead of airtime, which the receiver verifies', async () => {
    const start = received.length;
    const response = await app.inject({
      method: 'POST',
      url: '/schedules',
      headers: { cookie },
      payload: schedule({ title: 'Họp dân', startLocal: localIn(2 * 3600_000) }),
    });
    expect(response.statusCode, response.body).toBe(201);
    const { command, expiry, topic } = await nextProvision(start);
    expect(topic).toBe(topics.areaCommand('commune', '02680'));
    expect(command.kind).toBe('schedule.provision');
    if (command.kind !== 'schedule.provision') throw new Error();
    const item = command.body.items.find((i) => i.title === 'Họp dân');
    expect(item?.segments.map((s) => s.language)).toEqual(['vie', 'hmn']);
    expect(command.body.assets.map((a) => a.sha256).sort()).toEqual(['a'.repeat(64), 'b'.repeat(64)]);
    expect(expiry).toBeGreaterThan(6 * 86_400);
    // Deliveries are marked provisioned once the publish has gone out.
    let deliveries = await database.db().delivery.findMany({ where: { occurrenceId: item?.itemId } });
    for (let i = 0; i < 100 && !deliveries.every((d) => d.state === 'provisioned'); i++) {
      await new Promise((r) => setTimeout(r, 25));
      deliveries = await database.db().delivery.findMany({ where: { occurrenceId: item?.itemId } });
    }
    expect(deliveries).toHaveLength(25);
    expect(deliveries.every((d) => d.state === 'provisioned' && d.provisionedAt)).toBe(true);
  });

  it('re-provisions a changed schedule with a higher revision that carries both items', async () => {
    const start = received.length;
    const first = await nextProvisionAfterCreate(start, 'Họp chi bộ', 3 * 3600_000);
    const second = await nextProvisionAfterCreate(received.length, 'Lịch tiêm chủng', 4 * 3600_000);
    if (first.kind !== 'schedule.provision' || second.kind !== 'schedule.provision') throw new Error();
    expect(second.body.revision).toBeGreaterThan(first.body.revision);
    expect(second.seq).toBeGreaterThan(first.seq);
    const titles = second.body.items.map((i) => i.title);
    expect(titles).toEqual(expect.arrayContaining(['Họp chi bộ', 'Lịch tiêm chủng']));
  });
});

async function nextProvisionAfterCreate(start: number, title: string, inMs: number) {
  const response = await app.inject({
    method: 'POST',
    url: '/schedules',
    headers: { cookie },
    payload: schedule({ title, startLocal: localIn(inMs) }),
  });
  expect(response.statusCode, response.body).toBe(201);
  // Deduplicated jobs may fold two changes into one provision; wait for the one with this title.
  for (let n = start; ; n = consumed) {
    const { command } = await nextProvision(n);
    if (command.kind === 'schedule.provision' && command.body.items.some((i) => i.title === title)) return command;
  }
}

describe('acknowledgements and resending', () => {
  it('ties an accepted provision to that receiver’s deliveries and resends to those that stay silent', async () => {
    const db = database.db();
    const { ReceiverIngest } = await import('../src/ingest/receiver-ingest.js');
    const { resendUnacknowledged } = await import('../src/dispatch/resend.js');
    const ingest = new ReceiverIngest({ db, mqttUrl: config.MQTT_URL, group: `test-${randomUUID().slice(0, 8)}` });
    await ingest.start();
    try {
      const start = received.length;
      const command = await nextProvisionAfterCreate(start, 'Lịch làm việc', 5 * 3600_000);
      if (command.kind !== 'schedule.provision') throw new Error();
      const item = command.body.items.find((i) => i.title === 'Lịch làm việc');
      const ack = {
        v: 1,
        eventId: randomUUID(),
        receiverId: RX,
        at: Date.now(),
        type: 'ack',
        commandId: command.id,
        result: 'accepted',
      };
      await receiverMqtt.publishAsync(topics.receiverEvents(RX), JSON.stringify(ack), { qos: 1 });
      const mine = () => db.delivery.findFirstOrThrow({ where: { occurrenceId: item?.itemId, receiverId: RX } });
      for (let i = 0; i < 200 && (await mine()).state !== 'acknowledged'; i++)
        await new Promise((r) => setTimeout(r, 25));
      expect((await mine()).state).toBe('acknowledged');
      expect(await db.delivery.count({ where: { occurrenceId: item?.itemId, state: 'provisioned' } })).toBe(24);

      const queued: unknown[] = [];
      const soon = await resendUnacknowledged(db, async (t) => void queued.push(...t), new Date());
      expect(soon.deliveries).toBe(0);
      const later = await resendUnacknowledged(
        db,
        async (t) => void queued.push(...t),
        new Date(Date.now() + 6 * 60_000),
      );
      expect(later.deliveries).toBeGreaterThanOrEqual(24);
      const commune = await db.area.findUniqueOrThrow({ where: { code: '02680' } });
      expect(queued).toEqual([{ areaId: commune.id }]);
    } finally {
      await ingest.stop();
    }
  }, 30_000);
});
