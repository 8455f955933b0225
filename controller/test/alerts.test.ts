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
  receiverCommandSubscriptions,
  TrustedKeySet,
  trustedKeyFor,
} from '@loa/protocols';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskAssetStore } from '../src/assets/asset-store.js';
import { AudioServices } from '../src/audio/audio-services.js';
import { hashPassword } from '../src/auth/passwords.js';
import { areaChain } from '../src/broker/broker-config.js';
import { loadControllerConfig } from '../src/config.js';
import { seedLoadProvince } from '../src/demo/load-province.js';
import { databaseSequence } from '../src/dispatch/sequence.js';
import { buildApp } from '../src/http/app.js';
import { useFreshDatabase } from './support/database.js';

// A generated province of its own (codes unique to this run), so the alerts published on
// its area topics reach no other test file's subscribers on the shared broker.
const config = loadControllerConfig();
const database = useFreshDatabase();
const jwk = generateSigningKey();
const P = `AL${randomUUID().slice(0, 4).toUpperCase()}`;
const PASSWORD = 'alert-test';
/** Generated usernames are lower case. */
const u = (name: string) => name.toLowerCase();
const dir = mkdtempSync(join(tmpdir(), 'loa-alerts-'));
let app: FastifyInstance;
let redis: Redis;
let audio: AudioServices;
let controllerMqtt: MqttClient;
let receiverMqtt: MqttClient;
let verifier: CommandVerifier;
let receiverId: string;
let communeCode: string;
const received: Array<{ topic: string; payload: Buffer }> = [];
const cookies = new Map<string, string>();

beforeAll(async () => {
  const db = database.db();
  const province = await seedLoadProvince(db, {
    receivers: 20,
    perVillage: 10,
    villagesPerCommune: 2,
    password: PASSWORD,
    provinceCode: P,
  });
  communeCode = province.communes[0] as string;
  receiverId = province.receivers[0]?.id as string;
  // A second province emergency officer (the approver), and one at commune level.
  const grant = async (username: string, code: string) => {
    const area = await db.area.findUniqueOrThrow({ where: { code } });
    await db.user.create({
      data: {
        username,
        displayName: username,
        passwordHash: await hashPassword(PASSWORD),
        grants: { create: { role: 'emergency', areaId: area.id } },
      },
    });
  };
  await grant(u(`emergency2-${P}`), P);
  await grant(u(`emergency-${communeCode}`), communeCode);
  const rx = await db.receiver.findUniqueOrThrow({ where: { id: receiverId }, include: { village: true } });
  const areas = await areaChain(db, rx.village.path);
  verifier = new CommandVerifier({
    keys: new TrustedKeySet([trustedKeyFor(jwk)]),
    receiverId,
    areas,
    replay: new ReplayGuard(),
  });
  controllerMqtt = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5 });
  receiverMqtt = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
  receiverMqtt.on('message', (topic, payload) => received.push({ topic, payload }));
  await receiverMqtt.subscribeAsync(receiverCommandSubscriptions(receiverId, areas), { qos: 1 });
  redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
  const store = new DiskAssetStore(dir);
  audio = new AudioServices(db, store, { ...config, ASSET_DIR: dir, QUEUE_PREFIX: `test-${randomUUID()}` });
  await audio.start({});
  const signer = new CommandSigner({
    issuer: 'alert-test',
    key: loadSigningKey(jwk),
    nextSeq: databaseSequence(db, 'alert-test'),
  });
  app = await buildApp({
    db,
    redis,
    rateLimitNamespace: `test-${randomUUID()}-`,
    commands: { signer, mqtt: controllerMqtt },
    assets: store,
    audio,
  });
  for (const username of [
    u(`emergency-${P}`),
    u(`emergency2-${P}`),
    u(`emergency-${communeCode}`),
    u(`official-${communeCode}`),
  ]) {
    const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password: PASSWORD } });
    expect(login.statusCode, login.body).toBe(200);
    cookies.set(username, `loa_session=${login.cookies.find((c) => c.name === 'loa_session')?.value}`);
  }
}, 120_000);

afterAll(async () => {
  await app?.close();
  await audio?.close();
  await receiverMqtt?.endAsync();
  await controllerMqtt?.endAsync();
  redis?.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

const call = (method: 'GET' | 'POST', url: string, user: string, payload?: object) =>
  app.inject({ method, url, headers: { cookie: cookies.get(user) as string }, ...(payload ? { payload } : {}) });

const draft = (over: Record<string, unknown> = {}) => ({
  status: 'Actual',
  hazard: 'flash_flood',
  riskLevel: 4,
  headline: { vie: 'Cảnh báo lũ quét cấp 4' },
  instruction: { vie: 'Bà con di chuyển lên vùng cao ngay trước 18:00.' },
  areas: [P],
  expiresAt: new Date(Date.now() + 6 * 3600_000).toISOString(),
  repeat: { everyS: 3600, windowStart: '07:00', windowEnd: '20:00' },
  ...over,
});

async function until<T>(find: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The verified command with this id, as a receiver in the province would take it. */
const command = (id: string) =>
  until(() => {
    for (const m of received) {
      const v = verifier.verify(m.payload, m.topic);
      if (v.ok && v.command.id === id) return v.command;
    }
    return undefined;
  });

describe('alerts', () => {
  it('cannot issue an Actual alert to the province until a second person approves it', async () => {
    const created = await call('POST', '/alerts', u(`emergency-${P}`), draft());
    expect(created.statusCode, created.body).toBe(201);
    const alert = created.json();
    expect(alert).toMatchObject({
      state: 'draft',
      needsApproval: true,
      approved: false,
      riskColour: { hex: '#D50000' },
    });

    const early = await call('POST', `/alerts/${alert.id}/issue`, u(`emergency-${P}`));
    expect(early.statusCode).toBe(409);
    expect(early.json().detail).toMatch(/needs a second person's approval/);
    const self = await call('POST', `/alerts/${alert.id}/approve`, u(`emergency-${P}`));
    expect(self.statusCode).toBe(403);
    const official = await call('POST', `/alerts/${alert.id}/approve`, u(`official-${communeCode}`));
    expect(official.statusCode).toBe(403);
    expect(await database.db().alert.findUnique({ where: { id: alert.id } })).toMatchObject({ state: 'draft' });

    const approved = await call('POST', `/alerts/${alert.id}/approve`, u(`emergency2-${P}`));
    expect(approved.statusCode, approved.body).toBe(200);
    expect(approved.json()).toMatchObject({ approved: true });

    const issued = await call('POST', `/alerts/${alert.id}/issue`, u(`emergency-${P}`));
    expect(issued.statusCode, issued.body).toBe(200);
    expect(issued.json().alert).toMatchObject({ state: 'issued' });
    const sent = await command(issued.json().commands[0].id);
    const tones = await database.db().tone.findMany();
    expect(sent).toMatchObject({
      kind: 'alert.issue',
      body: {
        alertId: alert.identifier,
        status: 'Actual',
        riskLevel: 4,
        priority: 'emergency',
        repeat: { everyS: 3600, windowStart: '07:00', windowEnd: '20:00' },
        item: {
          priority: 'emergency',
          startMode: 'hard',
          prelude: 'siren',
          preludeSha256: tones.find((t) => t.name === 'siren-4')?.assetSha256,
          segments: [{ language: 'vie' }],
        },
      },
    });
    const again = await call('POST', `/alerts/${alert.id}/issue`, u(`emergency-${P}`));
    expect(again.statusCode).toBe(409);
    const audit = await database
      .db()
      .auditLog.findMany({ where: { entity: 'alert', entityId: alert.id }, orderBy: { at: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['create', 'approve', 'issue']);
  });

  it('issues an Actual commune alert at once, and cancels it in one action with a message', async () => {
    const user = u(`emergency-${communeCode}`);
    const created = await call('POST', '/alerts', user, draft({ areas: [communeCode], riskLevel: 2 }));
    expect(created.json()).toMatchObject({ needsApproval: false });
    const issued = await call('POST', `/alerts/${created.json().id}/issue`, user);
    expect(issued.statusCode, issued.body).toBe(200);
    const cancelled = await call('POST', `/alerts/${created.json().id}/cancel`, user, {
      reason: 'phát nhầm',
      message: { vie: 'Hủy bỏ cảnh báo lũ quét vừa phát. Xin lỗi bà con.' },
    });
    expect(cancelled.statusCode, cancelled.body).toBe(200);
    expect(cancelled.json().alert).toMatchObject({ state: 'cancelled' });
    const [stop, message] = cancelled.json().commands as { id: string }[];
    expect(await command((stop as { id: string }).id)).toMatchObject({
      kind: 'alert.cancel',
      body: { alertId: created.json().identifier, reason: 'phát nhầm' },
    });
    expect(await command((message as { id: string }).id)).toMatchObject({
      kind: 'play.now',
      body: { item: { prelude: 'chime', priority: 'emergency', segments: [{ language: 'vie' }] } },
    });
    expect((await call('POST', `/alerts/${created.json().id}/cancel`, user, {})).statusCode).toBe(409);
  });

  it('says Exercise and Test alerts are not real, first, in what it synthesises', async () => {
    const user = u(`emergency-${communeCode}`);
    const created = await call('POST', '/alerts', user, draft({ areas: [communeCode], status: 'Exercise' }));
    const issued = await call('POST', `/alerts/${created.json().id}/issue`, user);
    expect(issued.statusCode, issued.body).toBe(200);
    const sent = await command(issued.json().commands[0].id);
    expect(sent).toMatchObject({ body: { status: 'Exercise' } });
    const sha = (sent.body as { item: { segments: { sha256: string }[] } }).item.segments[0]?.sha256;
    const spoken = await database.db().speechCache.findFirst({ where: { assetSha256: sha } });
    expect(spoken?.text).toMatch(/^Đây là tin diễn tập, không phải tin thật\. Cảnh báo lũ quét cấp bốn\./);
  });

  it('refuses what it must: areas out of scope, a past expiry, no language with audio', async () => {
    const outside = await call('POST', '/alerts', u(`emergency-${communeCode}`), draft({ areas: [P] }));
    expect(outside.statusCode).toBe(403);
    const past = await call(
      'POST',
      '/alerts',
      u(`emergency-${P}`),
      draft({ expiresAt: new Date(Date.now() - 1000).toISOString() }),
    );
    expect(past.statusCode).toBe(400);
    const hmong = await call(
      'POST',
      '/alerts',
      u(`emergency-${communeCode}`),
      draft({ areas: [communeCode], headline: { hmn: 'Dej nyab' }, instruction: {} }),
    );
    const refused = await call('POST', `/alerts/${hmong.json().id}/issue`, u(`emergency-${communeCode}`));
    expect(refused.statusCode).toBe(422);
    expect(refused.json().detail).toMatch(/no audio in any language \(hmn\)/);
    expect((await database.db().alert.findUnique({ where: { id: hmong.json().id } }))?.state).toBe('draft');
  });
});
