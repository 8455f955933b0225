import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControllerConfig } from '../src/config.js';
import { markMissedDeliveries } from '../src/deliveries/missed-sweep.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { buildProvision } from '../src/dispatch/provision-builder.js';
import { buildApp } from '../src/http/app.js';
import { useFreshDatabase } from './support/database.js';

// Sunday 22 November 2026, 07:00 in Vietnam.
const NOW = new Date('2026-11-22T00:00:00Z');
const database = useFreshDatabase();
let app: FastifyInstance;
let redis: Redis;
let cookie: string;
let contentId: string;

beforeAll(async () => {
  const db = database.db();
  await seedDemoProvince(db, { password: 'pw', now: NOW });
  redis = new Redis(loadControllerConfig().REDIS_URL, { maxRetriesPerRequest: 1 });
  app = await buildApp({ db, redis, now: () => NOW, rateLimitNamespace: `test-${randomUUID()}-` });
  const login = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { username: 'official-02680', password: 'pw' },
  });
  cookie = `loa_session=${login.cookies.find((c) => c.name === 'loa_session')?.value}`;
  contentId = (await db.content.findFirstOrThrow({ where: { ownerArea: { code: '02680' } } })).id;
}, 60_000);

afterAll(async () => {
  await app?.close();
  redis?.disconnect();
});

// Tuesday 24 November, 12:00-13:00 local: the national news relayed to one village.
const relay = (over: Record<string, unknown> = {}) => ({
  title: 'Tiếp sóng thời sự VOV1',
  contentId,
  startLocal: '2026-11-24T12:00:00',
  durationMs: 3600_000,
  priority: 'normal',
  startMode: 'hard',
  volume: 70,
  prelude: 'none',
  targets: { areas: ['02680-02'] },
  relayUrl: 'https://stream.vov.vn/vov1.mp3',
  acceptConflicts: true,
  ...over,
});
const send = (method: 'POST' | 'PUT', url: string, payload: object, headers: Record<string, string> = {}) =>
  app.inject({ method, url, payload, headers: { cookie, ...headers } });

describe('relay schedules', () => {
  it('saves a relay with its URL and dead-air time (default 10 s); the window is the duration given', async () => {
    const created = await send('POST', '/schedules', relay());
    expect(created.statusCode, created.body).toBe(201);
    const view = await app.inject({ url: `/schedules/${created.json().id}`, headers: { cookie } });
    expect(view.json()).toMatchObject({
      relayUrl: 'https://stream.vov.vn/vov1.mp3',
      deadAirS: 10,
      durationMs: 3600_000,
      prelude: 'none',
    });
    const occurrence = await database.db().occurrence.findFirstOrThrow({ where: { scheduleId: created.json().id } });
    expect(occurrence.endsAt.getTime() - occurrence.startsAt.getTime()).toBe(3600_000);

    const withDeadAir = await send('POST', '/schedules', relay({ startLocal: '2026-11-25T12:00:00', deadAirS: 30 }));
    const other = await app.inject({ url: `/schedules/${withDeadAir.json().id}`, headers: { cookie } });
    expect(other.json()).toMatchObject({ deadAirS: 30 });
  });

  it('shows null relay fields on an ordinary schedule', async () => {
    const created = await send(
      'POST',
      '/schedules',
      relay({ relayUrl: undefined, startLocal: '2026-11-26T12:00:00', durationMs: 60_000 }),
    );
    expect(created.statusCode, created.body).toBe(201);
    const view = await app.inject({ url: `/schedules/${created.json().id}`, headers: { cookie } });
    expect(view.json()).toMatchObject({ relayUrl: null, deadAirS: null });
  });

  it.each([
    ['ftp://radio.example.vn/live', /relayUrl/],
    ['file:///etc/passwd', /relayUrl/],
    ['radio.example.vn:8000/live', /relayUrl/],
    ['http://', /relayUrl/],
    ['http://radio example/live', /relayUrl/],
    ['http://[::1/live', /relayUrl is not a valid URL/],
    ['http://radio.example.vn/\u0000live', /relayUrl/],
    [`http://radio.example.vn/${'a'.repeat(2030)}`, /relayUrl/],
  ])('refuses relayUrl %s with a 400 naming it', async (relayUrl, message) => {
    const response = await send('POST', '/schedules/check', relay({ relayUrl }));
    expect(response.statusCode, response.body).toBe(400);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(JSON.stringify(response.json())).toMatch(message);
  });

  it('refuses dead-air times outside 3-300 s, dead air without a relay, and a siren prelude', async () => {
    for (const deadAirS of [2, 301, 10.5]) {
      const response = await send('POST', '/schedules/check', relay({ deadAirS }));
      expect(response.statusCode, String(deadAirS)).toBe(400);
      expect(JSON.stringify(response.json())).toContain('deadAirS');
    }
    const alone = await send('POST', '/schedules/check', relay({ relayUrl: undefined, deadAirS: 20 }));
    expect(alone.statusCode).toBe(400);
    expect(alone.json().detail).toBe('deadAirS is only for a relay: give relayUrl too');
    const siren = await send('POST', '/schedules/check', relay({ prelude: 'siren' }));
    expect(siren.statusCode).toBe(400);
    expect(siren.json().detail).toMatch(/prelude is none or chime/);
    expect(await database.db().schedule.count({ where: { title: 'Tiếp sóng thời sự VOV1', deadAirS: 20 } })).toBe(0);
  });

  it('changes and removes the relay on PUT', async () => {
    const created = await send('POST', '/schedules', relay({ startLocal: '2026-11-27T12:00:00' }));
    const url = `/schedules/${created.json().id}`;
    const etag = (await app.inject({ url, headers: { cookie } })).headers.etag as string;
    const changed = await send(
      'PUT',
      url,
      relay({ startLocal: '2026-11-27T12:00:00', relayUrl: 'http://10.0.0.5:8000/vtv.aac', deadAirS: 5 }),
      { 'if-match': etag },
    );
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json().schedule).toMatchObject({ relayUrl: 'http://10.0.0.5:8000/vtv.aac', deadAirS: 5 });
    const plain = await send(
      'PUT',
      url,
      relay({ startLocal: '2026-11-27T12:00:00', relayUrl: undefined, durationMs: 60_000 }),
      { 'if-match': changed.headers.etag as string },
    );
    expect(plain.statusCode, plain.body).toBe(200);
    expect(plain.json().schedule).toMatchObject({ relayUrl: null, deadAirS: null });
  });

  it('plans deliveries for relay airtimes but never provisions them (the controller streams them)', async () => {
    const db = database.db();
    const created = await send('POST', '/schedules', relay({ startLocal: '2026-11-23T14:00:00' }));
    expect(created.json().deliveries).toBeGreaterThan(0);
    // The same airtime as an ordinary item, to show the content would otherwise be provisioned.
    const ordinary = await send(
      'POST',
      '/schedules',
      relay({ relayUrl: undefined, startLocal: '2026-11-23T15:00:00', durationMs: 60_000 }),
    );
    const [relayed, normal] = await Promise.all(
      [created, ordinary].map((r) => db.occurrence.findFirstOrThrow({ where: { scheduleId: r.json().id } })),
    );
    const area = await db.area.findUniqueOrThrow({ where: { code: '02680-02' } });
    const plan = await buildProvision(
      db,
      { areaId: area.id },
      { from: NOW, to: new Date(NOW.getTime() + 7 * 86_400_000) },
      1,
    );
    const listed = [...plan.occurrenceIds, ...plan.withoutAudio];
    expect(listed).toContain(normal?.id);
    expect(listed).not.toContain(relayed?.id);
    expect(plan.body.items.map((i) => i.itemId)).not.toContain(relayed?.id);
    expect(await db.delivery.count({ where: { occurrenceId: relayed?.id, state: 'planned' } })).toBe(
      created.json().deliveries,
    );
  });

  it('leaves relay deliveries alone while the relay is still on air, then marks the unreported ones missed', async () => {
    const db = database.db();
    const created = await send('POST', '/schedules', relay({ startLocal: '2026-11-22T08:00:00', durationMs: 600_000 }));
    const occurrence = await db.occurrence.findFirstOrThrow({ where: { scheduleId: created.json().id } });
    const deliveries = await db.delivery.count({ where: { occurrenceId: occurrence.id } });
    expect(deliveries).toBeGreaterThan(0);
    // The relay started late and is still running past its window's end and the grace.
    await db.liveSession.create({
      data: {
        id: occurrence.id,
        kind: 'relay',
        title: 'Tiếp sóng thời sự VOV1',
        priority: 'normal',
        volume: 70,
        latencyMs: 250,
        prelude: 'none',
        state: 'on_air',
        occurrenceId: occurrence.id,
        relayUrl: 'https://stream.vov.vn/vov1.mp3',
      },
    });
    const later = new Date(occurrence.endsAt.getTime() + 10 * 60_000);
    const whileOnAir = await markMissedDeliveries(db, later);
    expect(whileOnAir.filter((m) => m.occurrenceId === occurrence.id)).toEqual([]);
    await db.liveSession.update({
      where: { id: occurrence.id },
      data: { state: 'ended', endReason: 'relay_window_end' },
    });
    const afterEnd = await markMissedDeliveries(db, later);
    expect(afterEnd.filter((m) => m.occurrenceId === occurrence.id)).toHaveLength(deliveries);
  });
});
