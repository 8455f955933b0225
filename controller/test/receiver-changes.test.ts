import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyMosquittoPassword } from '../src/broker/mosquitto-password.js';
import { loadControllerConfig } from '../src/config.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import type { ProvisionTarget } from '../src/dispatch/provisioner.js';
import { buildApp } from '../src/http/app.js';
import { useFreshDatabase } from './support/database.js';

const NOW = new Date('2026-11-22T00:00:00Z');
const database = useFreshDatabase();
const changed: ProvisionTarget[][] = [];
let app: FastifyInstance;
let redis: Redis;

beforeAll(async () => {
  await seedDemoProvince(database.db(), { password: 'pw', now: NOW });
  redis = new Redis(loadControllerConfig().REDIS_URL, { maxRetriesPerRequest: 1 });
  app = await buildApp({
    db: database.db(),
    redis,
    now: () => NOW,
    rateLimitNamespace: `test-${randomUUID()}-`,
    onScheduleChanged: async (targets) => {
      changed.push(targets);
    },
  });
}, 60_000);

afterAll(async () => {
  await app?.close();
  redis?.disconnect();
});

async function as(username: string): Promise<string> {
  const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password: 'pw' } });
  return `loa_session=${login.cookies.find((c) => c.name === 'loa_session')?.value}`;
}

const futureDeliveries = (receiverId: string) =>
  database.db().delivery.groupBy({
    by: ['state'],
    where: { receiverId, occurrence: { startsAt: { gt: NOW } } },
    _count: true,
  });

describe('receiver installation and changes', () => {
  it('registers a receiver, answers credentials that match the stored hash, and plans what its village airs', async () => {
    const cookie = await as('technician-10');
    const response = await app.inject({
      method: 'POST',
      url: '/receivers',
      headers: { cookie },
      payload: {
        id: 'rx-02680-01-9',
        name: 'Cụm loa đầu thôn',
        villageCode: '02680-01',
        latitude: 22.64,
        longitude: 103.63,
        hardware: { model: 'LS-30', horns: 2 },
      },
    });
    expect(response.statusCode, response.body).toBe(201);
    const { receiver, credentials } = response.json();
    expect(receiver).toMatchObject({ id: 'rx-02680-01-9', villageCode: '02680-01', enabled: true });
    expect(credentials.username).toBe('rx-02680-01-9');
    const stored = await database.db().receiver.findUniqueOrThrow({ where: { id: 'rx-02680-01-9' } });
    expect(verifyMosquittoPassword(stored.mqttPasswordHash as string, credentials.password)).toBe(true);
    // The demo programmes of its commune now include it.
    const planned = await futureDeliveries('rx-02680-01-9');
    expect(planned.find((g) => g.state === 'planned')?._count).toBeGreaterThan(5);
    expect(changed.flat().length).toBeGreaterThan(0);
  });

  it('refuses a duplicate id, a commune as village, a position outside Vietnam, and other roles', async () => {
    const cookie = await as('technician-10');
    const base = { id: 'rx-02680-01-8', name: 'x', villageCode: '02680-01', latitude: 22.6, longitude: 103.6 };
    const post = (payload: object, c = cookie) =>
      app.inject({ method: 'POST', url: '/receivers', headers: { cookie: c }, payload });
    expect((await post({ ...base, id: 'rx-02680-01-1' })).statusCode).toBe(409);
    const commune = await post({ ...base, villageCode: '02680' });
    expect(commune.statusCode).toBe(400);
    expect(commune.json().detail).toMatch(/commune, not a village/);
    expect((await post({ ...base, latitude: 48.8 })).statusCode).toBe(400);
    expect((await post(base, await as('official-02680'))).statusCode).toBe(403);
  });

  it('disabling cancels its coming airtimes, enabling restores them; If-Match guards the change', async () => {
    const cookie = await as('technician-10');
    const get = await app.inject({ url: '/receivers/rx-02680-02-2', headers: { cookie } });
    const etag = get.headers.etag as string;
    expect(
      (await app.inject({ url: '/receivers/rx-02680-02-2', headers: { cookie, 'if-none-match': etag } })).statusCode,
    ).toBe(304);
    const before = await futureDeliveries('rx-02680-02-2');
    const planned = before.find((g) => g.state === 'planned')?._count ?? 0;
    expect(planned).toBeGreaterThan(0);
    const patch = (payload: object, ifMatch: string) =>
      app.inject({
        method: 'PATCH',
        url: '/receivers/rx-02680-02-2',
        headers: { cookie, 'if-match': ifMatch },
        payload,
      });
    const off = await patch({ enabled: false }, etag);
    expect(off.statusCode, off.body).toBe(200);
    expect(await futureDeliveries('rx-02680-02-2')).toEqual([{ state: 'cancelled', _count: planned }]);
    expect((await patch({ enabled: true }, etag)).statusCode).toBe(412);
    const on = await patch({ enabled: true }, off.headers.etag as string);
    expect(on.statusCode).toBe(200);
    expect(await futureDeliveries('rx-02680-02-2')).toEqual([{ state: 'planned', _count: planned }]);
    const audit = await database.db().auditLog.findMany({ where: { entity: 'receiver', entityId: 'rx-02680-02-2' } });
    expect(audit.map((a) => (a.after as { enabled: boolean }).enabled)).toEqual([false, true]);
  });
});
