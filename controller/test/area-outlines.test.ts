import { randomUUID } from 'node:crypto';
import booleanPointInPolygon from '@turf/boolean-point-in-polygon';
import distance from '@turf/distance';
import { point } from '@turf/helpers';
import type { FastifyInstance } from 'fastify';
import type { MultiPolygon, Polygon } from 'geojson';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControllerConfig } from '../src/config.js';
import { approximateOutline, type LonLat } from '../src/demo/approximate-outlines.js';
import { seedLoadProvince } from '../src/demo/load-province.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { Prisma } from '../src/generated/prisma/client.js';
import { buildApp } from '../src/http/app.js';
import { useFreshDatabase } from './support/database.js';

const database = useFreshDatabase();
const PASSWORD = 'pw';
let app: FastifyInstance;
let redis: Redis;
type Area = { code: string; level: string; boundary?: Polygon | MultiPolygon | null };

beforeAll(async () => {
  await seedDemoProvince(database.db(), { password: PASSWORD });
  redis = new Redis(loadControllerConfig().REDIS_URL, { maxRetriesPerRequest: 1 });
  app = await buildApp({ db: database.db(), redis, rateLimitNamespace: `test-${randomUUID()}-` });
}, 60_000);

afterAll(async () => {
  await app?.close();
  redis?.disconnect();
});

async function signIn(username: string): Promise<string> {
  const response = await app.inject({ method: 'POST', url: '/auth/login', payload: { username, password: PASSWORD } });
  expect(response.statusCode, response.body).toBe(200);
  return `loa_session=${response.cookies.find((c) => c.name === 'loa_session')?.value}`;
}

async function get<T>(cookie: string, url: string): Promise<T> {
  const response = await app.inject({ url, headers: { cookie } });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as T;
}

const inside = (lonLat: LonLat, outline: Polygon | MultiPolygon) => booleanPointInPolygon(point(lonLat), outline);
const vertices = (outline: Polygon | MultiPolygon): LonLat[] =>
  (outline.type === 'Polygon' ? [outline.coordinates] : outline.coordinates).flat(2) as LonLat[];
/** Metres from a point to the nearest outline vertex (the outline is densely sampled by the buffer). */
const nearestVertexM = (lonLat: LonLat, outline: Polygon | MultiPolygon) =>
  Math.min(...vertices(outline).map((v) => distance(point(lonLat), point(v), { units: 'meters' })));

describe('approximate outlines', () => {
  it('makes a ~300 m circle of one point, a capsule of two, a buffered hull of many', () => {
    const centre: LonLat = [103.628, 22.632];
    const circle = approximateOutline([centre, centre], 300) as Polygon;
    expect(circle.type).toBe('Polygon');
    for (const v of vertices(circle)) {
      const m = distance(point(centre), point(v), { units: 'meters' });
      expect(m).toBeGreaterThan(290);
      expect(m).toBeLessThan(310);
    }
    const a: LonLat = [103.62, 22.63];
    const b: LonLat = [103.63, 22.63];
    const capsule = approximateOutline([a, b, [103.625, 22.63]], 300) as Polygon; // collinear: no hull
    for (const p of [a, b]) {
      expect(inside(p, capsule)).toBe(true);
      expect(nearestVertexM(p, capsule)).toBeGreaterThan(250);
    }
    expect(inside([103.625, 22.6307], capsule)).toBe(true); // ~80 m off the segment's middle
    expect(inside([103.625, 22.6345], capsule)).toBe(false); // ~500 m off
    const hull = approximateOutline([a, b, [103.625, 22.64]], 300) as Polygon;
    expect(inside([103.625, 22.635], hull)).toBe(true);
    expect(approximateOutline([], 300)).toBeNull();
  });
});

describe('GET /areas with outlines', () => {
  it("answers every demo area's outline around all receivers below it, and leaves them out on request", async () => {
    const cookie = await signIn('admin');
    const { items } = await get<{ items: Area[] }>(cookie, '/areas?limit=100');
    expect(items).toHaveLength(39);
    const receivers = await database.db().receiver.findMany({ include: { village: true } });
    for (const area of items) {
      const outline = area.boundary;
      expect(outline?.type, area.code).toMatch(/^(Polygon|MultiPolygon)$/);
      if (!outline) continue;
      const below = receivers.filter((r) => r.village.path.includes(`/${area.code}/`));
      expect(below.length).toBeGreaterThan(0);
      const buffer = area.level === 'village' ? 300 : 600;
      for (const r of below) {
        const here: LonLat = [r.longitude, r.latitude];
        expect(inside(here, outline), `${r.id} in ${area.code}`).toBe(true);
        // Buffered: no receiver lies on the edge (a vertex is never much nearer than the buffer).
        expect(nearestVertexM(here, outline)).toBeGreaterThan(buffer * 0.9);
      }
    }
    // A village's outline is small (clusters lie within ~400 m), a commune's takes in its villages.
    const village = items.find((a) => a.code === '02680-01') as Area;
    const span = (o: Polygon | MultiPolygon) => {
      const vs = vertices(o);
      const lons = vs.map((v) => v[0]);
      const lats = vs.map((v) => v[1]);
      return distance(point([Math.min(...lons), Math.min(...lats)]), point([Math.max(...lons), Math.max(...lats)]), {
        units: 'meters',
      });
    };
    expect(span(village.boundary as Polygon)).toBeLessThan(2000);
    expect(span((items.find((a) => a.code === '02680') as Area).boundary as Polygon)).toBeGreaterThan(
      span(village.boundary as Polygon),
    );

    const lean = await get<{ items: Area[] }>(cookie, '/areas?limit=100&boundary=false');
    expect(lean.items).toHaveLength(39);
    expect(lean.items.every((a) => !('boundary' in a))).toBe(true);
    const one = await get<Area>(cookie, '/areas/02680-01');
    expect(one.boundary).toEqual(village.boundary);
  });

  it('keeps a stored outline when the demo is seeded again, answers a stored Feature as its geometry, junk as null', async () => {
    const db = database.db();
    const real: Polygon = {
      type: 'Polygon',
      coordinates: [
        [
          [103.6, 22.6],
          [103.7, 22.6],
          [103.7, 22.7],
          [103.6, 22.6],
        ],
      ],
    };
    await db.area.update({ where: { code: '02680-02' }, data: { boundary: real as never } });
    await db.area.update({
      where: { code: '02680-03' },
      data: { boundary: { type: 'Feature', properties: {}, geometry: real } as never },
    });
    await db.area.update({ where: { code: '02680-04' }, data: { boundary: { type: 'Point', coordinates: [1, 2] } } });
    await seedDemoProvince(db, { password: PASSWORD });
    const cookie = await signIn('official-02680');
    expect((await get<Area>(cookie, '/areas/02680-02')).boundary).toEqual(real);
    expect((await get<Area>(cookie, '/areas/02680-03')).boundary).toEqual(real);
    expect((await get<Area>(cookie, '/areas/02680-04')).boundary).toBeNull();
    await db.area.update({ where: { code: '02680-04' }, data: { boundary: Prisma.DbNull } });
    expect((await get<Area>(cookie, '/areas/02680-04')).boundary).toBeNull();
  });

  it('outlines a load province too', async () => {
    const db = database.db();
    await seedLoadProvince(db, {
      receivers: 60,
      perVillage: 20,
      villagesPerCommune: 2,
      password: 'pw',
      provinceCode: 'LO',
    });
    const areas = await db.area.findMany({ where: { path: { startsWith: '/LO/' } } });
    expect(areas.length).toBe(7); // province, district, 2 communes, 3 villages
    expect(areas.every((a) => (a.boundary as { type?: string } | null)?.type === 'Polygon')).toBe(true);
  });
});
