import { randomUUID } from 'node:crypto';
import { CommandSigner, generateSigningKey, loadSigningKey, topics } from '@loa/protocols';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControllerConfig } from '../src/config.js';
import { markMissedDeliveries, NO_REPORT } from '../src/deliveries/missed-sweep.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import type { ProvisionTarget } from '../src/dispatch/provisioner.js';
import { databaseSequence } from '../src/dispatch/sequence.js';
import { buildApp } from '../src/http/app.js';
import { ReceiverIngest } from '../src/ingest/receiver-ingest.js';
import { useFreshDatabase } from './support/database.js';

// The controller's clock: Sunday 22 November 2026, 07:00 in Vietnam; tests move it.
let clock = new Date('2026-11-22T00:00:00Z');
const config = loadControllerConfig();
const database = useFreshDatabase();
const changed: ProvisionTarget[][] = [];
let app: FastifyInstance;
let redis: Redis;
let controllerMqtt: MqttClient;
let contentId: string;
const cookies = new Map<string, string>();

beforeAll(async () => {
  const db = database.db();
  await seedDemoProvince(db, { password: 'pw', now: clock });
  redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
  controllerMqtt = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5 });
  const signer = new CommandSigner({
    issuer: 'changes-test',
    key: loadSigningKey(generateSigningKey()),
    nextSeq: databaseSequence(db, 'changes-test'),
  });
  app = await buildApp({
    db,
    redis,
    now: () => clock,
    rateLimitNamespace: `test-${randomUUID()}-`,
    commands: { signer, mqtt: controllerMqtt },
    onScheduleChanged: async (targets) => {
      changed.push(targets);
    },
  });
  contentId = (await db.content.findFirstOrThrow({ where: { ownerArea: { code: '02680' } } })).id;
}, 60_000);

afterAll(async () => {
  await app?.close();
  await controllerMqtt?.endAsync();
  redis?.disconnect();
});

async function as(username: string): Promise<string> {
  let cookie = cookies.get(username);
  if (!cookie) {
    const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password: 'pw' } });
    cookie = `loa_session=${login.cookies.find((c) => c.name === 'loa_session')?.value}`;
    cookies.set(username, cookie);
  }
  return cookie;
}

const call = async (
  username: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  url: string,
  more: { payload?: object; headers?: Record<string, string> } = {},
) => app.inject({ method, url, payload: more.payload, headers: { cookie: await as(username), ...more.headers } });

// Daily at 09:00 local from Tuesday 24 November: five airtimes within the 7-day horizon.
const daily = (over: Record<string, unknown> = {}) => ({
  title: 'Loa phát thanh thôn',
  contentId,
  startLocal: '2026-11-24T09:00:00',
  rrule: 'FREQ=DAILY',
  durationMs: 300_000,
  priority: 'priority',
  startMode: 'next',
  volume: 80,
  targets: { areas: ['02680-01'], receivers: ['rx-02680-02-1'] },
  acceptConflicts: true,
  ...over,
});

async function deliveriesOf(scheduleId: string) {
  return database.db().delivery.findMany({
    where: { occurrence: { scheduleId } },
    include: { occurrence: true },
    orderBy: [{ occurrence: { startsAt: 'asc' } }, { receiverId: 'asc' }],
  });
}

describe('changing a schedule', () => {
  let id: string;

  it('serves one schedule with an ETag, and 304 when the caller’s copy is current', async () => {
    const created = await call('official-02680', 'POST', '/schedules', { payload: daily() });
    expect(created.statusCode, created.body).toBe(201);
    id = created.json().id;
    expect(created.json()).toMatchObject({ occurrences: 5, deliveries: 30 });
    const got = await call('official-02680', 'GET', `/schedules/${id}`);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({
      rrule: 'FREQ=DAILY',
      targets: { areas: ['02680-01'], receivers: ['rx-02680-02-1'] },
      enabled: true,
      revision: 0,
    });
    const etag = got.headers.etag as string;
    expect(etag).toMatch(/^".+"$/);
    const again = await call('official-02680', 'GET', `/schedules/${id}`, { headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect((await call('official-02683', 'GET', `/schedules/${id}`)).statusCode).toBe(403);
  });

  it('replaces it: dropped airtimes and receivers are cancelled, kept ones re-planned, targets re-provisioned', async () => {
    const db = database.db();
    // Pretend the receivers already hold the old version.
    await db.delivery.updateMany({
      where: { occurrence: { scheduleId: id } },
      data: { state: 'acknowledged', acknowledgedAt: clock },
    });
    const etag = (await call('official-02680', 'GET', `/schedules/${id}`)).headers.etag as string;
    const stale = await call('official-02680', 'PUT', `/schedules/${id}`, {
      payload: daily({ rrule: 'FREQ=WEEKLY' }),
      headers: { 'if-match': '"someone-else"' },
    });
    expect(stale.statusCode).toBe(412);
    changed.length = 0;
    const put = await call('official-02680', 'PUT', `/schedules/${id}`, {
      payload: daily({ rrule: 'FREQ=WEEKLY', durationMs: 600_000, targets: { areas: ['02680-01'] } }),
      headers: { 'if-match': etag },
    });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json().replanned).toMatchObject({ cancelled: 4, kept: 1, occurrences: 0, deliveries: 0 });
    expect(put.json().schedule).toMatchObject({ revision: 1, rrule: 'FREQ=WEEKLY', durationMs: 600_000 });
    expect(put.headers.etag).not.toBe(etag);

    const rows = await deliveriesOf(id);
    const tuesday = rows.filter((d) => d.occurrence.startsAt.toISOString() === '2026-11-24T02:00:00.000Z');
    expect(tuesday.map((d) => [d.receiverId, d.state])).toEqual([
      ['rx-02680-01-1', 'planned'],
      ['rx-02680-01-2', 'planned'],
      ['rx-02680-01-3', 'planned'],
      ['rx-02680-01-4', 'planned'],
      ['rx-02680-01-5', 'planned'],
      ['rx-02680-02-1', 'cancelled'],
    ]);
    expect(tuesday[0]?.occurrence.endsAt.toISOString()).toBe('2026-11-24T02:10:00.000Z');
    const later = rows.filter((d) => d.occurrence.startsAt > new Date('2026-11-24T03:00:00Z'));
    expect(later).toHaveLength(24);
    expect(new Set(later.map((d) => d.state))).toEqual(new Set(['cancelled']));
    expect(new Set(later.map((d) => d.occurrence.status))).toEqual(new Set(['cancelled']));
    // Both the area and the receiver that was dropped get a new provision (without it).
    const village = await db.area.findUniqueOrThrow({ where: { code: '02680-01' } });
    expect(changed.flat()).toEqual(expect.arrayContaining([{ areaId: village.id }, { receiverId: 'rx-02680-02-1' }]));
    const audit = await db.auditLog.findFirstOrThrow({ where: { entityId: id, action: 'update' } });
    expect((audit.before as { rrule: string }).rrule).toBe('FREQ=DAILY');
    // The old ETag is now stale.
    const late = await call('official-02680', 'DELETE', `/schedules/${id}`, {
      headers: { 'if-match': etag },
    });
    expect(late.statusCode).toBe(412);
  });

  it('keeps other communes’ officials out of changing it', async () => {
    const put = await call('official-02683', 'PUT', `/schedules/${id}`, { payload: daily() });
    expect(put.statusCode).toBe(403);
    const del = await call('official-02683', 'DELETE', `/schedules/${id}`);
    expect(del.statusCode).toBe(403);
    const occurrence = await database.db().occurrence.findFirstOrThrow({ where: { scheduleId: id } });
    const cancel = await call('official-02683', 'POST', `/occurrences/${occurrence.id}/cancel`, { payload: {} });
    expect(cancel.statusCode).toBe(403);
  });

  it('cancels one airtime, and answers 409 the second time', async () => {
    const occurrence = await database.db().occurrence.findFirstOrThrow({
      where: { scheduleId: id, status: 'planned' },
    });
    changed.length = 0;
    const cancel = await call('official-02680', 'POST', `/occurrences/${occurrence.id}/cancel`, {
      payload: { reason: 'trùng họp thôn' },
    });
    expect(cancel.statusCode, cancel.body).toBe(200);
    expect(cancel.json()).toEqual({ cancelledDeliveries: 5, stopCommands: [] });
    expect(changed).toHaveLength(1);
    const states = await database
      .db()
      .delivery.findMany({ where: { occurrenceId: occurrence.id, state: 'cancelled' } });
    expect(states.filter((d) => d.reason === 'trùng họp thôn')).toHaveLength(5);
    const twice = await call('official-02680', 'POST', `/occurrences/${occurrence.id}/cancel`, { payload: {} });
    expect(twice.statusCode).toBe(409);
  });

  it('stops an airtime that is on air when it is cancelled', async () => {
    const created = await call('official-02680', 'POST', '/schedules', {
      payload: daily({
        title: 'Đang phát',
        rrule: undefined,
        startLocal: '2026-11-22T07:30:00',
        targets: { areas: ['02680'] },
      }),
    });
    expect(created.statusCode, created.body).toBe(201);
    const occurrence = await database.db().occurrence.findFirstOrThrow({ where: { scheduleId: created.json().id } });
    await database.db().delivery.updateMany({
      where: { occurrenceId: occurrence.id, receiverId: 'rx-02680-01-1' },
      data: { state: 'started' },
    });
    clock = new Date('2026-11-22T00:32:00Z');
    try {
      const cancel = await call('official-02680', 'POST', `/occurrences/${occurrence.id}/cancel`, { payload: {} });
      expect(cancel.statusCode, cancel.body).toBe(200);
      // 24 not yet begun are cancelled; the one on air is stopped by a signed command.
      expect(cancel.json().cancelledDeliveries).toBe(24);
      expect(cancel.json().stopCommands).toHaveLength(1);
      const stop = await database.db().dispatchedCommand.findUniqueOrThrow({
        where: { id: cancel.json().stopCommands[0] },
      });
      expect(stop).toMatchObject({ kind: 'stop', targetKey: 'commune:02680' });
    } finally {
      clock = new Date('2026-11-22T00:00:00Z');
    }
  });

  it('withdraws it: future airtimes cancelled, history kept, marked disabled', async () => {
    const etag = (await call('official-02680', 'GET', `/schedules/${id}`)).headers.etag as string;
    const del = await call('official-02680', 'DELETE', `/schedules/${id}`, {
      headers: { 'if-match': etag },
    });
    expect(del.statusCode, del.body).toBe(200);
    const got = await call('official-02680', 'GET', `/schedules/${id}`);
    expect(got.json()).toMatchObject({ enabled: false, revision: 2 });
    const open = (await deliveriesOf(id)).filter((d) => d.state !== 'cancelled');
    expect(open).toEqual([]);
    expect(await database.db().occurrence.count({ where: { scheduleId: id } })).toBe(5);
  });
});

describe('bad input', () => {
  it('refuses a misspelt field instead of silently dropping it, naming the field', async () => {
    const response = await call('official-02680', 'POST', '/schedules', {
      payload: { ...daily(), acceptConflict: true },
    });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.json().detail).toBe('body has an unknown property "acceptConflict"; check its spelling');
    expect(response.json().errors).toEqual([
      { path: '', message: 'has an unknown property "acceptConflict"; check its spelling' },
    ]);
  });
});

describe('deliveries', () => {
  it('lists deliveries by schedule and state, only within the caller’s areas', async () => {
    const schedule = await database.db().schedule.findFirstOrThrow({ where: { title: 'Loa phát thanh thôn' } });
    const mine = await call('official-02680', 'GET', `/deliveries?schedule=${schedule.id}&state=cancelled&limit=500`);
    expect(mine.statusCode, mine.body).toBe(200);
    expect(mine.json().items).toHaveLength(30);
    expect(mine.json().items[0]).toMatchObject({ scheduleId: schedule.id, state: 'cancelled', title: schedule.title });
    const theirs = await call('official-02683', 'GET', `/deliveries?schedule=${schedule.id}`);
    expect(theirs.json().items).toEqual([]);
    expect((await call('official-02683', 'GET', '/deliveries?area=02680')).statusCode).toBe(403);
    const paged = await call('official-02680', 'GET', `/deliveries?schedule=${schedule.id}&limit=7`);
    expect(paged.json().items).toHaveLength(7);
    expect(paged.json().nextCursor).toEqual(expect.any(String));
  });

  it('marks airtimes without a report as missed, and lets a late report from the receiver correct it', async () => {
    const db = database.db();
    const created = await call('official-02680', 'POST', '/schedules', {
      payload: daily({
        title: 'Không ai báo',
        rrule: undefined,
        startLocal: '2026-11-22T10:00:00',
        targets: { areas: ['02680-03'] },
      }),
    });
    expect(created.statusCode, created.body).toBe(201);
    const occurrence = await db.occurrence.findFirstOrThrow({ where: { scheduleId: created.json().id } });
    // Five minutes after the end is still within the grace; six is not.
    expect(await markMissedDeliveries(db, new Date('2026-11-22T03:10:00Z'))).toEqual([]);
    const missed = await markMissedDeliveries(db, new Date('2026-11-22T03:11:00Z'));
    expect(missed.filter((m) => m.occurrenceId === occurrence.id)).toHaveLength(5);
    expect(
      await db.delivery.count({ where: { occurrenceId: occurrence.id, state: 'missed', reason: NO_REPORT } }),
    ).toBe(5);
    const ingest = new ReceiverIngest({ db, mqttUrl: config.MQTT_URL });
    const report = {
      v: 1,
      eventId: randomUUID(),
      receiverId: 'rx-02680-03-4',
      at: Date.parse('2026-11-22T03:05:00Z'),
      type: 'play',
      itemId: occurrence.id,
      source: 'schedule',
      state: 'finished',
      priority: 'priority',
    };
    await ingest.handle(topics.receiverEvents('rx-02680-03-4'), Buffer.from(JSON.stringify(report)));
    const corrected = await db.delivery.findFirstOrThrow({
      where: { occurrenceId: occurrence.id, receiverId: 'rx-02680-03-4' },
    });
    expect(corrected).toMatchObject({ state: 'finished', reason: null });
    // A receiver's own "missed" is final: a later report cannot turn it into something else.
    expect(await db.delivery.count({ where: { occurrenceId: occurrence.id, state: 'missed' } })).toBe(4);
  });
});
