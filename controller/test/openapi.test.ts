import { randomUUID } from 'node:crypto';
import { CommandSigner, generateSigningKey, loadSigningKey } from '@loa/protocols';
import { compileErrors, validate } from '@readme/openapi-parser';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadControllerConfig } from '../src/config.js';
import { buildApp } from '../src/http/app.js';
import { EventBus } from '../src/live-events/event-bus.js';
import { useFreshDatabase } from './support/database.js';

// The OpenAPI document of the full controller (every optional feature on), as /docs serves it.
const config = loadControllerConfig();
const database = useFreshDatabase();
let app: FastifyInstance;
let redis: Redis;
let client: MqttClient;
let bus: EventBus;

beforeAll(async () => {
  redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
  client = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
  bus = new EventBus(config.REDIS_URL);
  const signer = new CommandSigner({
    issuer: 'openapi-test',
    key: loadSigningKey(generateSigningKey()),
    nextSeq: async () => 1,
  });
  app = await buildApp({
    db: database.db(),
    redis,
    bus,
    rateLimitNamespace: `test-${randomUUID()}-`,
    commands: { signer, mqtt: client },
    emqx: { hookToken: 'x'.repeat(32), controller: { username: 'controller', passwordHash: 'unused' } },
  });
  await app.ready();
}, 60_000);

afterAll(async () => {
  await app?.close();
  await bus?.close();
  await client?.endAsync();
  redis?.disconnect();
});

type Operation = { summary?: string; tags?: string[]; responses?: Record<string, unknown> };

describe('OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document', async () => {
    const document = app.swagger() as Parameters<typeof validate>[0];
    const result = await validate(structuredClone(document));
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
  });

  it('documents every operation with a summary, a tag and its success response', async () => {
    const document = app.swagger() as { paths: Record<string, Record<string, Operation>> };
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({ name: `${method.toUpperCase()} ${path}`, operation })),
    );
    const incomplete = operations
      .filter(
        ({ operation: o }) =>
          !o.summary || !o.tags?.length || !Object.keys(o.responses ?? {}).some((s) => /^[23]/.test(s)),
      )
      .map((o) => o.name);
    expect(incomplete).toEqual([]);
    // The WebSocket (101 upgrade) is left out of the document by @fastify/websocket; README describes it.
    expect(app.hasRoute({ method: 'GET', url: '/events' })).toBe(true);
    // Every resource of the API is there (a route left out of the document would fail here).
    const names = operations.map((o) => o.name);
    for (const expected of [
      'POST /auth/login',
      'POST /auth/tokens',
      'GET /users',
      'GET /audit',
      'GET /areas',
      'GET /receivers/{id}',
      'PATCH /receivers/{id}',
      'POST /content',
      'PATCH /content/{id}',
      'POST /schedules',
      'PUT /schedules/{id}',
      'DELETE /schedules/{id}',
      'POST /occurrences/{id}/cancel',
      'GET /deliveries',
      'GET /timeline',
      'POST /commands/play',
      'POST /commands/stop',
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
    ])
      expect(names).toContain(expected);
  });
});
