import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type CommandEnvelope,
  CommandSigner,
  CommandVerifier,
  generateSigningKey,
  loadSigningKey,
  ReplayGuard,
  receiverCommandSubscriptions,
  TrustedKeySet,
  trustedKeyFor,
} from '@loa/protocols';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect } from 'vitest';
import type { AlertDeps } from '../../src/alerts/alert-dispatch.js';
import { DiskAssetStore } from '../../src/assets/asset-store.js';
import { AudioServices } from '../../src/audio/audio-services.js';
import { hashPassword } from '../../src/auth/passwords.js';
import { areaChain } from '../../src/broker/broker-config.js';
import type { CapPolicy } from '../../src/cap/cap-policy.js';
import { loadControllerConfig } from '../../src/config.js';
import type { Database } from '../../src/database/client.js';
import { type LoadProvince, seedLoadProvince } from '../../src/demo/load-province.js';
import { databaseSequence } from '../../src/dispatch/sequence.js';
import { buildApp } from '../../src/http/app.js';
import { EventBus } from '../../src/live-events/event-bus.js';
import type { FleetEvent } from '../../src/live-events/fleet-event.js';
import { useFreshDatabase } from './database.js';

/** Generated usernames are lower case. */
export const u = (name: string) => name.toLowerCase();

export async function until<T>(find: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface AlertFixture {
  db: () => Database;
  app: () => FastifyInstance;
  /** What the alert routes run on (to call the dispatch and CAP intake directly). */
  deps: () => AlertDeps;
  /** The generated province: code unique to this run, so its topics reach no other test file. */
  province: () => LoadProvince;
  P: string;
  /** Users: emergency-<P> and emergency2-<P> (province), emergency-<commune 0>, official-<commune 0>. */
  call: (method: 'GET' | 'POST', url: string, user: string, payload?: object) => Promise<LightMyRequestResponse>;
  /** The session cookie of a signed-in fixture user. */
  cookie: (user: string) => string;
  /** A draft alert body to the province, with the given fields replaced. */
  draft: (over?: Record<string, unknown>) => Record<string, unknown>;
  /** The verified command with this id, as the first receiver of the province would take it. */
  command: (id: string) => Promise<CommandEnvelope>;
  /** Every command topic the watcher saw, as received. */
  received: Array<{ topic: string; payload: Buffer }>;
  /** Every event the app announced on its event bus (for /events), in order. */
  events: FleetEvent[];
}

/**
 * A controller with alerts on a generated province (40 receivers, 10 per village, two
 * villages per commune, so two communes), logged-in emergency staff, and an MQTT client listening where
 * the province's first receiver would, with that receiver's verifier.
 */
export function useAlertFixture(prefix: string, options: { cap?: CapPolicy } = {}): AlertFixture {
  const config = loadControllerConfig();
  const database = useFreshDatabase();
  const jwk = generateSigningKey();
  const P = `${prefix}${randomUUID().slice(0, 4).toUpperCase()}`;
  const PASSWORD = 'alert-test';
  const dir = mkdtempSync(join(tmpdir(), 'loa-alerts-'));
  let app: FastifyInstance | undefined;
  let redis: Redis | undefined;
  let audio: AudioServices | undefined;
  let controllerMqtt: MqttClient | undefined;
  let receiverMqtt: MqttClient | undefined;
  let verifier: CommandVerifier | undefined;
  let province: LoadProvince | undefined;
  let deps: AlertDeps | undefined;
  const received: Array<{ topic: string; payload: Buffer }> = [];
  const events: FleetEvent[] = [];
  let bus: EventBus | undefined;
  const cookies = new Map<string, string>();

  beforeAll(async () => {
    const db = database.db();
    province = await seedLoadProvince(db, {
      receivers: 40,
      perVillage: 10,
      villagesPerCommune: 2,
      password: PASSWORD,
      provinceCode: P,
    });
    const communeCode = province.communes[0] as string;
    const receiverId = province.receivers[0]?.id as string;
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
      issuer: `alert-test-${u(P)}`,
      key: loadSigningKey(jwk),
      nextSeq: databaseSequence(db, `alert-test-${u(P)}`),
    });
    bus = new EventBus(config.REDIS_URL, `test-alert-events-${randomUUID()}`);
    await bus.ready();
    bus.on((event) => events.push(event));
    app = await buildApp({
      db,
      redis,
      bus,
      rateLimitNamespace: `test-${randomUUID()}-`,
      commands: { signer, mqtt: controllerMqtt },
      assets: store,
      audio,
      ...(options.cap ? { cap: options.cap } : {}),
    });
    deps = {
      db,
      signer,
      mqtt: controllerMqtt,
      speech: audio.speech,
      approval: 'actual-district',
      now: () => new Date(),
    };
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
    await bus?.close();
    await audio?.close();
    await receiverMqtt?.endAsync();
    await controllerMqtt?.endAsync();
    redis?.disconnect();
    rmSync(dir, { recursive: true, force: true });
  });

  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('alert fixture not ready');
    return value;
  };

  return {
    db: database.db,
    app: () => ready(app),
    deps: () => ready(deps),
    province: () => ready(province),
    P,
    received,
    events,
    cookie: (user) => cookies.get(user) as string,
    call: (method, url, user, payload) =>
      ready(app).inject({
        method,
        url,
        headers: { cookie: cookies.get(user) as string },
        ...(payload ? { payload } : {}),
      }),
    draft: (over = {}) => ({
      status: 'Actual',
      hazard: 'flash_flood',
      riskLevel: 4,
      headline: { vie: 'Cảnh báo lũ quét cấp 4' },
      instruction: { vie: 'Bà con di chuyển lên vùng cao ngay trước 18:00.' },
      areas: [P],
      expiresAt: new Date(Date.now() + 6 * 3600_000).toISOString(),
      repeat: { everyS: 3600, windowStart: '07:00', windowEnd: '20:00' },
      ...over,
    }),
    command: (id) =>
      until(() => {
        for (const m of received) {
          const v = ready(verifier).verify(m.payload, m.topic);
          if (v.ok && v.command.id === id) return v.command;
        }
        return undefined;
      }),
  };
}
