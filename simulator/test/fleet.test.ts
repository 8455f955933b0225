import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { CommandSigner, generateSigningKey, loadSigningKey } from '@loa/protocols';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControllerConfig } from '../../controller/src/config.js';
import { seedDemoProvince } from '../../controller/src/demo/seed.js';
import { databaseSequence } from '../../controller/src/dispatch/sequence.js';
import { buildApp } from '../../controller/src/http/app.js';
import { ReceiverIngest } from '../../controller/src/ingest/receiver-ingest.js';
import { TimeServer } from '../../controller/src/time-sync/time-server.js';
import { useFreshDatabase } from '../../controller/test/support/database.js';
import { PrivateBroker } from '../../edge-agent/test/support/private-broker.js';
import { Fleet } from '../src/fleet/fleet.js';
import { ControllerRegistry } from '../src/registry/controller-registry.js';

// The real controller (in process, on a free port) and a virtual fleet of the demo's
// receivers of one commune, each a real edge agent, over a broker of the test's own (the
// demo receiver ids would otherwise reach other tests' ingests on the shared broker).
const config = loadControllerConfig();
let broker: PrivateBroker;
const database = useFreshDatabase();
const key = loadSigningKey(generateSigningKey());
const group = `sim-${randomUUID().slice(0, 8)}`;
let app: FastifyInstance;
let redis: Redis;
let mqttClient: MqttClient;
let ingest: ReceiverIngest;
let timeServer: TimeServer;
let fleet: Fleet;
let baseUrl: string;

beforeAll(async () => {
  const db = database.db();
  await seedDemoProvince(db, { password: 'pw' });
  broker = await PrivateBroker.start();
  redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
  mqttClient = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  const signer = new CommandSigner({ issuer: 'sim-test', key, nextSeq: databaseSequence(db, 'sim-test') });
  app = await buildApp({
    db,
    redis,
    rateLimitNamespace: `test-${randomUUID()}-`,
    commands: { signer, mqtt: mqttClient },
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  ingest = new ReceiverIngest({ db, mqttUrl: broker.url, group });
  await ingest.start();
  timeServer = new TimeServer({ mqttUrl: broker.url, key, group });
  await timeServer.start();
}, 60_000);

afterAll(async () => {
  await fleet?.stop();
  await timeServer?.stop();
  await ingest?.stop();
  await app?.close();
  await mqttClient?.endAsync();
  redis?.disconnect();
  await broker?.down();
});

async function until(check: () => boolean | Promise<boolean>, ms = 15_000) {
  for (let waited = 0; !(await check()) && waited < ms; waited += 50) await new Promise((r) => setTimeout(r, 50));
  expect(await check()).toBe(true);
}

describe('virtual fleet on the real agent, against the real controller', () => {
  it('reads the registry, starts the commune’s receivers, and they come online, synced, answering actions', async () => {
    const registry = new ControllerRegistry(baseUrl);
    // A province technician: the registry must see every area above each receiver.
    await registry.signIn('technician-10', 'pw');
    const all = await registry.receivers();
    expect(all).toHaveLength(150);
    const specs = all
      .filter((r) => r.areas.some((a) => a.areaCode === '02701'))
      .map((s, i) => ({ ...s, offsetMs: (i % 5) * 700 - 1400 }));
    expect(specs).toHaveLength(25);
    expect(specs[0]?.areas.map((a) => a.level)).toEqual(['province', 'district', 'commune', 'village']);
    fleet = new Fleet({ mqttUrl: broker.url, controllerUrl: baseUrl, trustedKeys: await registry.trustedKeys() });
    await fleet.start(specs);
    const db = database.db();
    await until(
      async () =>
        (await db.receiver.count({ where: { id: { in: specs.map((s) => s.receiverId) }, online: true } })) === 25,
    );
    // Every receiver's clock, whatever its error, is corrected to the controller's.
    await until(() => [...fleet.agents.values()].every((a) => a.sync.state().synced));
    for (const agent of fleet.agents.values())
      expect(Math.abs(agent.sync.controllerTime() - Date.now())).toBeLessThan(100);

    const target = specs[3]?.receiverId as string;
    const cookie = `loa_session=${(await app.inject({ method: 'POST', url: '/auth/login', payload: { username: 'technician-082', password: 'pw' } })).cookies[0]?.value}`;
    const sent = await app.inject({
      method: 'POST',
      url: `/receivers/${target}/actions`,
      headers: { cookie },
      payload: { action: 'volume', volume: 55 },
    });
    expect(sent.statusCode, sent.body).toBe(202);
    await until(async () => {
      const items = (await app.inject({ url: `/receivers/${target}/actions`, headers: { cookie } })).json().items;
      return items[0]?.result === 'done';
    });

    // Power loss: the receiver comes back from its store and is online again.
    await fleet.powerCycle(specs[3] as (typeof specs)[number]);
    await until(() => fleet.agents.get(target)?.link.connected === true);
  }, 60_000);
});
