import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControllerConfig } from '../src/config.js';
import { buildApp } from '../src/http/app.js';
import { useFreshDatabase } from './support/database.js';

const database = useFreshDatabase();
const INDEX = '<!doctype html><title>Loa</title><div id="root"></div>';
const SCRIPT = 'console.log("loa");';
let built: string;
let empty: string;
let redis: Redis;
const apps: FastifyInstance[] = [];

beforeAll(() => {
  built = mkdtempSync(join(tmpdir(), 'loa-dashboard-'));
  mkdirSync(join(built, 'assets'));
  writeFileSync(join(built, 'index.html'), INDEX);
  writeFileSync(join(built, 'assets', 'index-3f2a1b.js'), SCRIPT);
  empty = mkdtempSync(join(tmpdir(), 'loa-dashboard-unbuilt-'));
  redis = new Redis(loadControllerConfig().REDIS_URL, { maxRetriesPerRequest: 1 });
});

afterAll(async () => {
  for (const app of apps) await app.close();
  redis?.disconnect();
  rmSync(built, { recursive: true, force: true });
  rmSync(empty, { recursive: true, force: true });
});

async function serving(dir: string): Promise<FastifyInstance> {
  const app = await buildApp({
    db: database.db(),
    redis,
    rateLimitNamespace: `test-${randomUUID()}-`,
    dashboardDir: dir,
  });
  apps.push(app);
  return app;
}

describe('the dashboard under /app/', () => {
  it('leads / to the app, answers its pages with index.html and its hashed assets for good', async () => {
    const app = await serving(built);
    const root = await app.inject({ url: '/' });
    expect(root.statusCode).toBe(302);
    expect(root.headers.location).toBe('/app/');
    expect((await app.inject({ url: '/app' })).headers.location).toBe('/app/');

    for (const url of ['/app/', '/app/x/y', '/app/fleet/rx-02680-01-1?tab=telemetry']) {
      const page = await app.inject({ url });
      expect(page.statusCode, url).toBe(200);
      expect(page.headers['content-type'], url).toContain('text/html');
      expect(page.headers['cache-control'], url).toBe('no-cache');
      expect(page.body, url).toBe(INDEX);
    }

    const asset = await app.inject({ url: '/app/assets/index-3f2a1b.js' });
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['content-type']).toContain('javascript');
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.body).toBe(SCRIPT);

    // A stale page asking for an asset of an older build gets a 404, not HTML as script.
    const missing = await app.inject({ url: '/app/assets/missing.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect(missing.json()).toMatchObject({ status: 404, detail: 'no file /app/assets/missing.js' });

    // The API is still the API.
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
  });

  it('says how to build the dashboard when the directory holds no index.html', async () => {
    const app = await serving(empty);
    expect((await app.inject({ url: '/' })).headers.location).toBe('/app/');
    const response = await app.inject({ url: '/app/anything' });
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json().detail).toMatch(/not built in .*loa-dashboard-unbuilt-.*; run npm run build/);
  });
});
