import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  type CommandEnvelope,
  CommandSigner,
  CommandVerifier,
  decodeLivePacket,
  generateSigningKey,
  type LivePacket,
  loadSigningKey,
  ReplayGuard,
  receiverCommandSubscriptions,
  TrustedKeySet,
  topicFilter,
  topics,
  trustedKeyFor,
} from '@loa/protocols';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect } from 'vitest';
import { areaChain } from '../../src/broker/broker-config.js';
import { loadControllerConfig } from '../../src/config.js';
import type { Database } from '../../src/database/client.js';
import { type LoadProvince, seedLoadProvince } from '../../src/demo/load-province.js';
import { databaseSequence } from '../../src/dispatch/sequence.js';
import { buildApp } from '../../src/http/app.js';
import { ReceiverIngest } from '../../src/ingest/receiver-ingest.js';
import { endLocalBroadcasts, type LiveDeps } from '../../src/live/live-broadcast.js';
import type { FleetEvent } from '../../src/live-events/fleet-event.js';
import { useFreshDatabase } from './database.js';

export { until } from './alert-fixture.js';

/** A live packet as a receiver got it off the broker. */
export interface ReceivedPacket {
  packet: LivePacket;
  at: number;
  /** Arrival order among everything the receiver got (commands too). */
  order: number;
}

export interface LiveFixture {
  db: () => Database;
  app: () => FastifyInstance;
  /** What the live routes run on (to open sessions directly, as the relay does). */
  deps: () => LiveDeps;
  province: () => LoadProvince;
  P: string;
  /** Area ids by code. */
  areaId: (code: string) => string;
  /** The listening app, e.g. http://127.0.0.1:PORT. */
  baseUrl: () => string;
  call: (method: 'GET' | 'POST', url: string, user: string, payload?: object) => Promise<LightMyRequestResponse>;
  cookie: (user: string) => string;
  /** A fresh API token of the user (Authorization: Bearer). */
  token: (user: string) => Promise<string>;
  /** Verified commands as the first receiver of commune C1 takes them, in arrival order. */
  commands: () => Array<CommandEnvelope & { order: number }>;
  /** Verified packets of a session, in arrival order. */
  packets: (sessionId: string) => ReceivedPacket[];
  /** Packets of a session that did not verify (why). */
  badPackets: (sessionId: string) => string[];
  /** Publishes a receiver's event on its events topic and waits until the ingest applied it. */
  report: (receiverId: string, event: Record<string, unknown>) => Promise<void>;
  /** Fleet events the ingest produced. */
  events: FleetEvent[];
  keys: TrustedKeySet;
}

/**
 * A controller with live speech on a generated province (20 receivers, 5 per village, two
 * villages per commune: communes C1 and C2), listening on a port for the WebSocket and
 * the CLI, signed-in users (admin, emergency, technician of the province; an official per
 * commune), an ingest of receivers' events in a group of its own, and an MQTT client
 * listening where the first receiver of commune C1 would (commands and live audio).
 */
export function useLiveFixture(prefix: string, options: { idleEndS?: number } = {}): LiveFixture {
  const config = loadControllerConfig();
  const database = useFreshDatabase();
  const jwk = generateSigningKey();
  const keys = new TrustedKeySet([trustedKeyFor(jwk)]);
  const P = `${prefix}${randomUUID().slice(0, 4).toUpperCase()}`;
  const PASSWORD = 'live-test';
  let app: FastifyInstance | undefined;
  let redis: Redis | undefined;
  let controllerMqtt: MqttClient | undefined;
  let receiverMqtt: MqttClient | undefined;
  let reporter: MqttClient | undefined;
  let ingest: ReceiverIngest | undefined;
  let verifier: CommandVerifier | undefined;
  let province: LoadProvince | undefined;
  let deps: LiveDeps | undefined;
  let baseUrl = '';
  const areaIds = new Map<string, string>();
  const cookies = new Map<string, string>();
  const commands: Array<CommandEnvelope & { order: number }> = [];
  const packets = new Map<string, ReceivedPacket[]>();
  const events: FleetEvent[] = [];
  const handled = new Set<string>();
  const badPackets = new Map<string, string[]>();
  /** Arrival order of everything the receiver got, commands and packets alike. */
  let arrivals = 0;

  beforeAll(async () => {
    const db = database.db();
    province = await seedLoadProvince(db, {
      receivers: 20,
      perVillage: 5,
      villagesPerCommune: 2,
      password: PASSWORD,
      provinceCode: P,
    });
    for (const a of await db.area.findMany({ select: { id: true, code: true } })) areaIds.set(a.code, a.id);
    const receiverId = province.receivers[0]?.id as string;
    const rx = await db.receiver.findUniqueOrThrow({ where: { id: receiverId }, include: { village: true } });
    const areas = await areaChain(db, rx.village.path);
    verifier = new CommandVerifier({ keys, receiverId, areas, replay: new ReplayGuard() });
    controllerMqtt = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5 });
    receiverMqtt = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
    reporter = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
    receiverMqtt.on('message', (topic, payload) => {
      const live = /^loa\/v1\/live\/([^/]+)\/audio$/.exec(topic);
      if (live?.[1]) {
        const checked = decodeLivePacket(payload, live[1], keys);
        if (!checked.ok) {
          // Other test runs on the same broker publish live audio too, signed with their keys.
          const bad = badPackets.get(live[1]) ?? [];
          bad.push(`${checked.reason}: ${checked.detail}`);
          badPackets.set(live[1], bad);
          return;
        }
        const list = packets.get(live[1]) ?? [];
        list.push({ packet: checked.packet, at: Date.now(), order: arrivals++ });
        packets.set(live[1], list);
        return;
      }
      const v = verifier?.verify(payload, topic);
      if (v?.ok) commands.push({ ...v.command, order: arrivals++ });
    });
    await receiverMqtt.subscribeAsync([...receiverCommandSubscriptions(receiverId, areas), topicFilter('liveAudio')], {
      qos: 1,
    });
    ingest = new ReceiverIngest({
      db,
      mqttUrl: config.MQTT_URL,
      group: `live-test-${randomUUID().slice(0, 8)}`,
      onEvent: (e) => events.push(e),
    });
    const handle = ingest.handle.bind(ingest);
    ingest.handle = async (topic, payload) => {
      try {
        await handle(topic, payload);
      } finally {
        handled.add(payload.toString());
      }
    };
    await ingest.start();
    redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
    const signer = new CommandSigner({
      issuer: `live-test-${P.toLowerCase()}`,
      key: loadSigningKey(jwk),
      nextSeq: databaseSequence(db, `live-test-${P.toLowerCase()}`),
    });
    const signingKey = loadSigningKey(jwk);
    app = await buildApp({
      db,
      redis,
      rateLimitNamespace: `test-${randomUUID()}-`,
      commands: { signer, mqtt: controllerMqtt },
      live: { signingKey, ...(options.idleEndS ? { idleEndS: options.idleEndS } : {}) },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    deps = {
      db,
      signer,
      mqtt: controllerMqtt,
      signingKey,
      ...(options.idleEndS ? { idleEndS: options.idleEndS } : {}),
    };
    for (const username of province.users) {
      const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password: PASSWORD } });
      expect(login.statusCode, login.body).toBe(200);
      cookies.set(username, `loa_session=${login.cookies.find((c) => c.name === 'loa_session')?.value}`);
    }
  }, 120_000);

  afterAll(async () => {
    await endLocalBroadcasts('test_over');
    await app?.close();
    await ingest?.stop();
    await receiverMqtt?.endAsync();
    await reporter?.endAsync();
    await controllerMqtt?.endAsync();
    redis?.disconnect();
  });

  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('live fixture not ready');
    return value;
  };

  return {
    db: database.db,
    app: () => ready(app),
    deps: () => ready(deps),
    province: () => ready(province),
    P,
    areaId: (code) => {
      const id = areaIds.get(code);
      if (!id) throw new Error(`no area ${code}`);
      return id;
    },
    baseUrl: () => baseUrl,
    cookie: (user) => cookies.get(user) as string,
    call: (method, url, user, payload) =>
      ready(app).inject({
        method,
        url,
        headers: { cookie: cookies.get(user) as string },
        ...(payload ? { payload } : {}),
      }),
    token: async (user) => {
      const created = await ready(app).inject({
        method: 'POST',
        url: '/auth/tokens',
        headers: { cookie: cookies.get(user) as string },
        payload: { name: 'live test' },
      });
      expect(created.statusCode, created.body).toBe(201);
      return (created.json() as { token: string }).token;
    },
    commands: () => commands,
    packets: (sessionId) => packets.get(sessionId) ?? [],
    report: async (receiverId, event) => {
      const text = JSON.stringify({ v: 1, eventId: randomUUID(), receiverId, at: Date.now(), ...event });
      await ready(reporter).publishAsync(topics.receiverEvents(receiverId), text, { qos: 1 });
      for (let i = 0; i < 500 && !handled.has(text); i++) await new Promise((r) => setTimeout(r, 10));
      if (!handled.has(text)) throw new Error('the ingest never applied the event');
      await ready(ingest).drain();
    },
    events,
    keys,
    badPackets: (sessionId) => badPackets.get(sessionId) ?? [],
  };
}
