import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControllerConfig } from '../src/config.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { buildApp } from '../src/http/app.js';
import { useFreshDatabase } from './support/database.js';

const database = useFreshDatabase();
const PASSWORD = 'correct horse battery staple';
let app: FastifyInstance;
let redis: Redis;

beforeAll(async () => {
  await seedDemoProvince(database.db(), { password: PASSWORD });
  redis = new Redis(loadControllerConfig().REDIS_URL, { maxRetriesPerRequest: 1 });
  app = await buildApp({ db: database.db(), redis, loginRateLimit: 5, rateLimitNamespace: `test-${randomUUID()}-` });
}, 60_000);

afterAll(async () => {
  await app?.close();
  redis?.disconnect();
});

async function signIn(username: string): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password: PASSWORD } });
  expect(response.statusCode, response.body).toBe(200);
  const cookie = response.cookies.find((c) => c.name === 'loa_session');
  expect(cookie?.httpOnly).toBe(true);
  expect(cookie?.sameSite).toBe('Strict');
  return `loa_session=${cookie?.value}`;
}

async function getAll(cookie: string, url: string, limit = 40): Promise<Array<{ id: string }>> {
  const items: Array<{ id: string }> = [];
  let cursor: string | null = null;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const response = await app.inject({
      url: `${url}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`,
      headers: { cookie },
    });
    expect(response.statusCode, response.body).toBe(200);
    const body = response.json() as { items: Array<{ id: string }>; nextCursor: string | null };
    items.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor);
  return items;
}

describe('HTTP API: sign-in', () => {
  it('signs in with the argon2 password and says who is signed in', async () => {
    const cookie = await signIn('official-02680');
    const me = await app.inject({ url: '/auth/me', headers: { cookie } });
    expect(me.json()).toMatchObject({
      username: 'official-02680',
      locale: 'vi',
      grants: [{ role: 'official', areaCode: '02680' }],
    });
    await app.inject({ method: 'POST', url: '/auth/logout', headers: { cookie } });
    const after = await app.inject({ url: '/auth/me', headers: { cookie } });
    expect(after.statusCode).toBe(401);
  });

  it('refuses a wrong password or unknown user alike, as problem+json', async () => {
    for (const username of ['official-02680', 'nobody']) {
      const response = await app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { username, password: 'wrong' },
      });
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.json()).toMatchObject({
        status: 401,
        title: 'Unauthorized',
        detail: 'wrong username or password',
      });
    }
  });

  it('rejects malformed bodies with the offending field named', async () => {
    const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { username: '' } });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors.length).toBeGreaterThan(0);
  });

  it('limits sign-in attempts per client', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { username: 'official-02683', password: 'guess' },
      });
      statuses.push(r.statusCode);
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(1);
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    const limited = await app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username: 'official-02683', password: PASSWORD },
    });
    expect(limited.json()).toMatchObject({ status: 429, title: 'Too Many Requests' });
    // Another user behind the same address is not locked out.
    await signIn('official-02701');
  });

  it('asks for sign-in on protected routes', async () => {
    const response = await app.inject({ url: '/receivers' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ status: 401 });
  });
});

describe('HTTP API: area scoping', () => {
  it("shows a commune official only that commune's areas and receivers", async () => {
    const cookie = await signIn('official-02680');
    const areas = (await getAll(cookie, '/areas')) as unknown as Array<{ code: string }>;
    expect(areas.map((a) => a.code).sort()).toEqual([
      '02680',
      '02680-01',
      '02680-02',
      '02680-03',
      '02680-04',
      '02680-05',
    ]);
    expect(await getAll(cookie, '/receivers')).toHaveLength(25);
  });

  it('answers 403 when an official of commune A reaches into commune B', async () => {
    const cookie = await signIn('official-02680');
    for (const url of ['/areas/02683', '/receivers?area=02683', '/receivers/rx-02683-01-1', '/areas?within=085']) {
      const response = await app.inject({ url, headers: { cookie } });
      expect(response.statusCode, url).toBe(403);
      expect(response.json().detail).toMatch(/no .* role covering area/);
    }
    expect((await app.inject({ url: '/receivers/rx-02680-01-1', headers: { cookie } })).statusCode).toBe(200);
  });

  it('lets a district role cover its communes, and an admin everything, page by page without repeats', async () => {
    const district = await signIn('emergency-082');
    expect(await getAll(district, '/receivers')).toHaveLength(75);
    const admin = await signIn('admin');
    const all = await getAll(admin, '/receivers', 40);
    expect(all).toHaveLength(150);
    expect(new Set(all.map((r) => r.id)).size).toBe(150);
    const villages = await getAll(admin, '/areas?level=village', 7);
    expect(villages).toHaveLength(30);
  });

  it('refuses a forged cursor', async () => {
    const cookie = await signIn('admin');
    const response = await app.inject({ url: '/receivers?cursor=%%%', headers: { cookie } });
    expect(response.statusCode).toBe(400);
  });
});

describe('HTTP API: operations', () => {
  it('reports liveness and readiness of its dependencies', async () => {
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    expect((await app.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready', database: 'ok', redis: 'ok' });
  });

  it('exposes Prometheus metrics with request timings and fleet state', async () => {
    await app.inject({ url: '/healthz' });
    const response = await app.inject({ url: '/metrics' });
    expect(response.headers['content-type']).toContain('text/plain');
    expect(response.body).toMatch(
      /loa_http_request_duration_seconds_count\{method="GET",route="\/healthz",status="200"\} [1-9]/,
    );
    expect(response.body).toMatch(/loa_receivers\{online="false"\} \d+/);
    expect(response.body).toContain('loa_process_cpu_seconds_total');
  });

  it('serves an OpenAPI 3.1 document of every route at /docs', async () => {
    const doc = (await app.inject({ url: '/docs/json' })).json() as { openapi: string; paths: Record<string, unknown> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/auth/login',
        '/auth/me',
        '/areas',
        '/areas/{code}',
        '/receivers',
        '/receivers/{id}',
        '/healthz',
        '/readyz',
      ]),
    );
    expect((await app.inject({ url: '/docs' })).statusCode).toBeLessThan(400);
  });
});

describe('HTTP API: receiver credentials', () => {
  it('lets a technician issue MQTT credentials once, stores only a hash, audits it; officials may not', async () => {
    const official = await signIn('official-02680');
    expect(
      (await app.inject({ method: 'POST', url: '/receivers/rx-02680-01-1/credentials', headers: { cookie: official } }))
        .statusCode,
    ).toBe(403);
    const technician = await signIn('technician-082');
    const response = await app.inject({
      method: 'POST',
      url: '/receivers/rx-02680-01-1/credentials',
      headers: { cookie: technician },
    });
    expect(response.statusCode).toBe(201);
    const { username, password } = response.json() as { username: string; password: string };
    expect(username).toBe('rx-02680-01-1');
    const stored = await database.db().receiver.findUniqueOrThrow({ where: { id: username } });
    expect(stored.mqttPasswordHash).toMatch(/^\$7\$/);
    expect(stored.mqttPasswordHash).not.toContain(password);
    expect(
      await database
        .db()
        .auditLog.count({ where: { entity: 'receiver', entityId: username, action: 'issue_credentials' } }),
    ).toBe(1);
    const other = await signIn('technician-085');
    expect(
      (await app.inject({ method: 'POST', url: '/receivers/rx-02680-01-1/credentials', headers: { cookie: other } }))
        .statusCode,
    ).toBe(403);
  });
});
