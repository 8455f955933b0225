import { randomUUID } from 'node:crypto';
import { CommandSigner, generateSigningKey, loadSigningKey, topics } from '@loa/protocols';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControllerConfig } from '../src/config.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { ProvisionJobs } from '../src/dispatch/provision-jobs.js';
import { Provisioner, type ProvisionTarget } from '../src/dispatch/provisioner.js';
import { databaseSequence } from '../src/dispatch/sequence.js';
import { ReceiverIngest } from '../src/ingest/receiver-ingest.js';
import { rollHorizon } from '../src/scheduling/horizon-jobs.js';
import { useFreshDatabase } from './support/database.js';

// Two controller instances share PostgreSQL, Redis and the broker, and nothing else.
const config = loadControllerConfig();
const database = useFreshDatabase();
const key = loadSigningKey(generateSigningKey());
const prefix = `test-${randomUUID()}`;
const clients: MqttClient[] = [];
const closers: Array<() => Promise<void>> = [];
let communes: Array<{ id: string; code: string }>;
const provisions: string[] = [];

async function connect(): Promise<MqttClient> {
  const client = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
  clients.push(client);
  return client;
}

function instance(options: { failFirst?: boolean } = {}) {
  const db = database.db();
  const jobs = new ProvisionJobs({ redisUrl: config.REDIS_URL, prefix });
  closers.push(() => jobs.close());
  return {
    jobs,
    async work() {
      const signer = new CommandSigner({ issuer: 'ctl', key, nextSeq: databaseSequence(db, 'ctl') });
      const provisioner = new Provisioner({ db, mqtt: await connect(), signer });
      let failed = !options.failFirst;
      const flaky = {
        provision: async (target: ProvisionTarget) => {
          if (!failed) {
            failed = true;
            throw new Error('broker went away');
          }
          return provisioner.provision(target);
        },
      } as Provisioner;
      jobs.work(flaky);
    },
  };
}

beforeAll(async () => {
  await seedDemoProvince(database.db(), { password: 'pw' });
  communes = await database.db().area.findMany({ where: { level: 'commune' }, select: { id: true, code: true } });
  const listener = await connect();
  listener.on('message', (topic) => provisions.push(topic));
  await listener.subscribeAsync(
    communes.map((c) => topics.areaCommand('commune', c.code)),
    { qos: 1 },
  );
}, 60_000);

afterAll(async () => {
  const queue = new ProvisionJobs({ redisUrl: config.REDIS_URL, prefix });
  await queue.queue.obliterate({ force: true });
  await queue.close();
  for (const close of closers) await close();
  await Promise.all(clients.map((c) => c.endAsync(true)));
});

async function waitFor(condition: () => boolean, ms = 10_000) {
  for (let waited = 0; !condition() && waited < ms; waited += 25) await new Promise((r) => setTimeout(r, 25));
}

describe('two controller instances', () => {
  it('lose and duplicate nothing when the instance that queued the work stops before doing it', async () => {
    const a = instance();
    await a.jobs.enqueue(communes.map((c) => ({ areaId: c.id })));
    await a.jobs.close(); // instance A goes down with six provisions queued
    const b = instance({ failFirst: true }); // B's first attempt also fails: retried, not lost
    const c = instance();
    await b.work();
    await c.work();
    await waitFor(() => provisions.length >= communes.length);
    await new Promise((r) => setTimeout(r, 1500)); // would any duplicate arrive?
    expect(provisions.sort()).toEqual(communes.map((c) => topics.areaCommand('commune', c.code)).sort());
  }, 30_000);

  it('share the ingest so each report is applied exactly once', async () => {
    const group = `test-${randomUUID().slice(0, 8)}`;
    // Counted by what each instance applied of this test's own reports: the shared broker
    // also delivers other receivers' (retained) messages to the group.
    const appliedBy = [0, 0];
    const ingests = [0, 1].map(
      (n) =>
        new ReceiverIngest({
          db: database.db(),
          mqttUrl: config.MQTT_URL,
          group,
          onEvent: (e) => {
            if (e.type === 'delivery.state' && mine.has(e.occurrenceId)) appliedBy[n] = (appliedBy[n] ?? 0) + 1;
          },
        }),
    );
    const mine = new Set<string>();
    for (const i of ingests) await i.start();
    closers.push(async () => {
      for (const i of ingests) await i.stop();
    });
    const deliveries = await database.db().delivery.findMany({ where: { receiverId: 'rx-02680-01-1' }, take: 20 });
    for (const d of deliveries) mine.add(d.occurrenceId);
    const receiver = await connect();
    for (const d of deliveries) {
      const event = {
        v: 1,
        eventId: randomUUID(),
        receiverId: d.receiverId,
        at: Date.now(),
        type: 'play',
        itemId: d.occurrenceId,
        source: 'schedule',
        state: 'started',
        priority: 'normal',
      };
      await receiver.publishAsync(topics.receiverEvents(d.receiverId), JSON.stringify(event), { qos: 1 });
    }
    const applied = () => (appliedBy[0] ?? 0) + (appliedBy[1] ?? 0);
    await waitFor(() => applied() >= deliveries.length);
    for (const i of ingests) await i.drain();
    await new Promise((r) => setTimeout(r, 300)); // would a second application arrive?
    expect(applied()).toBe(deliveries.length);
    expect(appliedBy.every((n) => n > 0)).toBe(true);
    const started = await database
      .db()
      .delivery.count({ where: { id: { in: deliveries.map((d) => d.id) }, state: 'started' } });
    expect(started).toBe(deliveries.length);
  }, 30_000);

  it('roll the horizon forward idempotently', async () => {
    const enqueued: ProvisionTarget[] = [];
    const first = await rollHorizon(
      database.db(),
      async (t) => void enqueued.push(...t),
      new Date(Date.now() + 86_400_000),
    );
    const second = await rollHorizon(
      database.db(),
      async (t) => void enqueued.push(...t),
      new Date(Date.now() + 86_400_000),
    );
    expect(first.occurrences).toBeGreaterThan(0);
    expect(second.occurrences).toBe(0);
    expect(first.targets).toBe(6);
  });
});
