import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControllerConfig } from '../src/config.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { buildApp } from '../src/http/app.js';
import { materialiseSchedule } from '../src/scheduling/horizon.js';
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
  const content = await db.content.findFirstOrThrow({ where: { ownerArea: { code: '02680' } } });
  contentId = content.id;
}, 60_000);

afterAll(async () => {
  await app?.close();
  redis?.disconnect();
});

const announcement = (over: Record<string, unknown> = {}) => ({
  title: 'Thông báo tiêm phòng',
  contentId,
  startLocal: '2026-11-24T09:00:00',
  durationMs: 300_000,
  priority: 'priority',
  startMode: 'next',
  volume: 80,
  targets: { areas: ['02680'] },
  ...over,
});

const post = (url: string, payload: object) => app.inject({ method: 'POST', url, payload, headers: { cookie } });

describe('schedules', () => {
  it('creates a one-off for the official’s commune, planned on every receiver, and audits it', async () => {
    const response = await post('/schedules', announcement());
    expect(response.statusCode, response.body).toBe(201);
    const body = response.json();
    expect(body).toMatchObject({ occurrences: 1, deliveries: 25, conflicts: [] });
    const audit = await database.db().auditLog.findFirstOrThrow({ where: { entity: 'schedule', entityId: body.id } });
    expect(audit).toMatchObject({ action: 'create', actorKind: 'user' });
    expect((audit.after as { title: string }).title).toBe('Thông báo tiêm phòng');

    const timeline = await app.inject({
      url: '/timeline?receiver=rx-02680-03-2&from=2026-11-23T17:00:00Z&to=2026-11-24T17:00:00Z',
      headers: { cookie },
    });
    const items = timeline.json().items as Array<{
      title: string;
      startsAt: string;
      deliveries: Record<string, number>;
    }>;
    expect(items.map((i) => [i.title, i.startsAt])).toEqual([
      ['Bản tin sáng – Xã Y Tý', '2026-11-23T23:30:00.000Z'],
      ['Thông báo tiêm phòng', '2026-11-24T02:00:00.000Z'],
      ['Bản tin chiều – Xã Y Tý', '2026-11-24T10:30:00.000Z'],
    ]);
    expect(items[1]?.deliveries).toEqual({ planned: 1 });
  });

  it('answers 403 when an official of commune A targets commune B or one of its receivers', async () => {
    for (const targets of [{ areas: ['02683'] }, { receivers: ['rx-02683-01-1'] }, { areas: ['02680', '082'] }]) {
      const response = await post('/schedules', announcement({ targets }));
      expect(response.statusCode, JSON.stringify(targets)).toBe(403);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    expect(
      await database.db().schedule.count({ where: { title: 'Thông báo tiêm phòng', ownerArea: { code: '02683' } } }),
    ).toBe(0);
  });

  it('leaves emergency scheduling to emergency staff', async () => {
    const response = await post('/schedules', announcement({ priority: 'emergency' }));
    expect(response.statusCode).toBe(403);
  });

  it('reports conflicts before saving and saves only when told to', async () => {
    // 06:35 on Tuesday overlaps the morning news (06:30-06:45), which has lower priority.
    const clash = announcement({ title: 'Họp khẩn', startLocal: '2026-11-24T06:35:00' });
    const checked = await post('/schedules/check', clash);
    expect(checked.json()).toMatchObject({
      airtimes: 1,
      receivers: 25,
      conflicts: [{ title: 'Bản tin sáng – Xã Y Tý', startsAt: '2026-11-23T23:30:00.000Z', receivers: 25 }],
    });
    const refused = await post('/schedules', clash);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().conflicts).toHaveLength(1);
    expect(await database.db().schedule.count({ where: { title: 'Họp khẩn' } })).toBe(0);
    const saved = await post('/schedules', { ...clash, acceptConflicts: true });
    expect(saved.statusCode).toBe(201);
    // A normal item under the (higher-priority) weekly notice on Monday 07:30 is not a conflict.
    const under = await post(
      '/schedules/check',
      announcement({ priority: 'normal', startLocal: '2026-11-23T07:32:00' }),
    );
    expect(under.json().conflicts).toEqual([]);
  });

  it('expands a weekly recurrence over the 7-day horizon, idempotently', async () => {
    const response = await post(
      '/schedules',
      announcement({
        title: 'Phát thanh thứ Tư',
        startLocal: '2026-11-25T11:00:00',
        rrule: 'FREQ=WEEKLY;BYDAY=WE,SA',
        targets: { areas: ['02680-01'] },
      }),
    );
    expect(response.json()).toMatchObject({ occurrences: 2, deliveries: 10 });
    const again = await materialiseSchedule(database.db(), response.json().id, NOW);
    expect(again).toEqual({ occurrences: 0, deliveries: 0 });
  });

  it('refuses bad recurrence rules, unknown areas and missing targets with a reason', async () => {
    expect((await post('/schedules', announcement({ rrule: 'FREQ=HOURLY' }))).json()).toMatchObject({
      status: 400,
      detail: expect.stringMatching(/more frequent/),
    });
    expect((await post('/schedules', announcement({ targets: { areas: ['99999'] } }))).json()).toMatchObject({
      status: 404,
      detail: 'no area 99999',
    });
    expect((await post('/schedules', announcement({ targets: {} }))).json()).toMatchObject({ status: 400 });
    expect((await post('/schedules', announcement({ startMode: 'wait' }))).json()).toMatchObject({
      detail: 'startMode wait needs waitS',
    });
    expect((await post('/schedules', announcement({ timezone: 'Mars/Olympus' }))).json()).toMatchObject({
      detail: 'unknown time zone Mars/Olympus',
    });
  });
});
