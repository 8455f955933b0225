import { randomUUID } from 'node:crypto';
import { topicFilter, topics } from '@loa/protocols';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashMosquittoPassword } from '../src/broker/mosquitto-password.js';
import { issueReceiverCredentials } from '../src/broker/receiver-credentials.js';
import { loadControllerConfig } from '../src/config.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { buildApp } from '../src/http/app.js';
import { useFreshDatabase } from './support/database.js';

const database = useFreshDatabase();
const HOOK = 'hook-secret-for-tests';
let app: FastifyInstance;
let redis: Redis;
let password: string;

beforeAll(async () => {
  const db = database.db();
  await seedDemoProvince(db, { password: 'pw' });
  password = (await issueReceiverCredentials(db, 'rx-02680-01-1')).password;
  redis = new Redis(loadControllerConfig().REDIS_URL, { maxRetriesPerRequest: 1 });
  app = await buildApp({
    db,
    redis,
    rateLimitNamespace: `test-${randomUUID()}-`,
    emqx: { hookToken: HOOK, controller: { username: 'controller', passwordHash: hashMosquittoPassword('ctl-pw') } },
  });
}, 60_000);

afterAll(async () => {
  await app?.close();
  redis?.disconnect();
});

const hook = (url: string, payload: object, token = HOOK) =>
  app
    .inject({ method: 'POST', url, payload, headers: { 'x-hook-token': token } })
    .then((r) => ({ status: r.statusCode, ...r.json() }));

describe('EMQX HTTP auth hooks', () => {
  it('authenticates receivers and the controller by their hashed passwords', async () => {
    expect(
      await hook('/broker/emqx/authenticate', { username: 'rx-02680-01-1', password, clientid: 'rx-02680-01-1' }),
    ).toMatchObject({ result: 'allow' });
    expect(await hook('/broker/emqx/authenticate', { username: 'rx-02680-01-1', password: 'nope' })).toMatchObject({
      result: 'deny',
    });
    expect(
      await hook('/broker/emqx/authenticate', { username: 'rx-02680-01-1', password, clientid: 'someone-else' }),
    ).toMatchObject({ result: 'deny' });
    expect(await hook('/broker/emqx/authenticate', { username: 'rx-02680-02-1', password })).toMatchObject({
      result: 'deny',
    });
    expect(await hook('/broker/emqx/authenticate', { username: 'controller', password: 'ctl-pw' })).toMatchObject({
      result: 'allow',
    });
  });

  it('authorises by the protocols ACL patterns', async () => {
    const may = async (username: string, action: string, topic: string) =>
      (await hook('/broker/emqx/authorize', { username, action, topic })).result;
    expect(await may('rx-02680-01-1', 'subscribe', topics.areaCommand('commune', '02680'))).toBe('allow');
    expect(await may('rx-02680-01-1', 'subscribe', topics.areaCommand('commune', '02683'))).toBe('deny');
    expect(await may('rx-02680-01-1', 'subscribe', topicFilter('areaCommand'))).toBe('deny');
    expect(await may('rx-02680-01-1', 'publish', topics.receiverEvents('rx-02680-01-1'))).toBe('allow');
    expect(await may('rx-02680-01-1', 'publish', topics.receiverEvents('rx-02683-01-1'))).toBe('deny');
    expect(await may('controller', 'publish', topics.areaCommand('province', '10'))).toBe('allow');
    expect(await may('nobody', 'publish', topics.receiverEvents('nobody'))).toBe('deny');
  });

  it('answers only EMQX, which holds the hook secret', async () => {
    expect(
      await hook('/broker/emqx/authenticate', { username: 'controller', password: 'ctl-pw' }, 'wrong'),
    ).toMatchObject({ status: 401, result: 'deny' });
  });
});
