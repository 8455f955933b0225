import { randomBytes, randomUUID } from 'node:crypto';
import {
  checkTimeResponse,
  generateSigningKey,
  loadSigningKey,
  type TimeRequest,
  type TimeResponse,
  TrustedKeySet,
  topics,
  trustedKeyFor,
} from '@loa/protocols';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PrivateBroker } from '../../edge-agent/test/support/private-broker.js';
import { loadControllerConfig } from '../src/config.js';
import { TimeServer } from '../src/time-sync/time-server.js';

// The time service on the shared broker, in a share group of its own. Other runs' time
// requests may reach it too, so the test counts only what concerns its own receivers.

const config = loadControllerConfig();
const jwk = generateSigningKey();
const keys = new TrustedKeySet([trustedKeyFor(jwk)]);
const rejections: Array<{ reason: string; topic: string }> = [];
let server: TimeServer;
let client: MqttClient;
const received: Array<{ topic: string; payload: Buffer; packet: IPublishPacket }> = [];

const newReceiver = () => `rx-time-${randomUUID().slice(0, 8)}`;
const nonce = () => randomBytes(16).toString('base64url');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(condition: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function timeServer(mqttUrl: string, group: string): TimeServer {
  return new TimeServer({
    mqttUrl,
    key: loadSigningKey(jwk),
    group,
    log: (_message, detail) => rejections.push(detail as { reason: string; topic: string }),
  });
}

beforeAll(async () => {
  server = timeServer(config.MQTT_URL, `test-${randomUUID().slice(0, 8)}`);
  await server.start();
  client = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
  client.on('message', (topic, payload, packet) => received.push({ topic, payload, packet }));
});

afterAll(async () => {
  await client?.endAsync();
  await server?.stop();
});

/** Listens on the receiver's answer topic, as the receiver would. */
async function listen(receiverId: string): Promise<() => Array<{ payload: Buffer; packet: IPublishPacket }>> {
  const topic = topics.timeResponse(receiverId);
  await client.subscribeAsync(topic, { qos: 0 });
  return () => received.filter((m) => m.topic === topic);
}

describe('controller time service', () => {
  it('answers each request signed, bound to its nonce, with t1 on receipt and t2 on sending', async () => {
    const receiverId = newReceiver();
    const answers = await listen(receiverId);
    const request: TimeRequest = { v: 1, receiverId, nonce: nonce(), t0: 1_000_000 };
    const sentAt = Date.now();
    await client.publishAsync(topics.timeRequest(receiverId), JSON.stringify(request), { qos: 0 });
    await until(() => answers().length === 1, 'the answer');
    const receivedAt = Date.now();
    const { payload, packet } = answers()[0] as { payload: Buffer; packet: IPublishPacket };

    const check = checkTimeResponse(payload, { keys, receiverId, pendingNonces: new Set([request.nonce]) });
    expect(check.ok).toBe(true);
    const response = JSON.parse(payload.toString()) as TimeResponse;
    expect(response).toMatchObject({ receiverId, nonce: request.nonce, t0: request.t0 });
    expect(response.t1).toBeGreaterThanOrEqual(sentAt);
    expect(response.t2).toBeGreaterThanOrEqual(response.t1);
    expect(response.t2).toBeLessThanOrEqual(receivedAt);
    expect(packet.qos).toBe(0);
    expect(packet.retain).toBe(false);
    expect(packet.properties?.messageExpiryInterval).toBeGreaterThan(0);
    expect(packet.properties?.messageExpiryInterval).toBeLessThanOrEqual(10);

    // Bound to that nonce and that receiver: useless for any other request.
    expect(checkTimeResponse(payload, { keys, receiverId, pendingNonces: new Set([nonce()]) })).toMatchObject({
      ok: false,
      reason: 'replayed',
    });
    expect(
      checkTimeResponse(payload, { keys, receiverId: newReceiver(), pendingNonces: new Set([request.nonce]) }),
    ).toMatchObject({ ok: false, reason: 'wrong_target' });
    const shifted = JSON.stringify({ ...response, t1: response.t1 + 60_000, t2: response.t2 + 60_000 });
    expect(checkTimeResponse(shifted, { keys, receiverId, pendingNonces: new Set([request.nonce]) })).toMatchObject({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('counts malformed, spoofed, oversized and retained requests, answers none of them, and carries on', async () => {
    const receiverId = newReceiver();
    const answers = await listen(receiverId);
    const topic = topics.timeRequest(receiverId);
    const good = (id = receiverId): TimeRequest => ({ v: 1, receiverId: id, nonce: nonce(), t0: 5 });
    const mine = () => rejections.filter((r) => r.topic === topic).map((r) => r.reason);
    const before = server.stats.rejected;

    await client.publishAsync(topic, 'not json');
    await client.publishAsync(topic, JSON.stringify({ v: 1, receiverId, t0: 5 })); // no nonce
    await client.publishAsync(topic, JSON.stringify({ ...good(), nonce: 'short' }));
    await client.publishAsync(topic, JSON.stringify({ ...good(), t0: -1 }));
    await client.publishAsync(topic, JSON.stringify(good(newReceiver()))); // someone else's id
    await client.publishAsync(topic, JSON.stringify({ ...good(), pad: 'x'.repeat(2000) }));
    await until(() => mine().length === 6, 'six rejections');
    expect(mine()).toEqual(['malformed', 'malformed', 'malformed', 'malformed', 'spoofed_id', 'malformed']);
    expect(server.stats.rejected - before).toBeGreaterThanOrEqual(6);
    expect(server.stats.byReason.malformed).toBeGreaterThanOrEqual(5);

    // A retained request would be answered by every instance that (re)subscribes.
    const late = timeServer(config.MQTT_URL, `test-${randomUUID().slice(0, 8)}`);
    await client.publishAsync(topic, JSON.stringify(good()), { qos: 1, retain: true });
    try {
      await late.start();
      await until(() => late.stats.byReason.retained === 1, 'the retained request refused');
    } finally {
      await client.publishAsync(topic, '', { qos: 1, retain: true }); // clears it
      await late.stop();
    }

    await sleep(200);
    // The live copy of that retained request (sent to subscribers already there) is answered: one answer.
    expect(answers()).toHaveLength(1);
    await client.publishAsync(topic, JSON.stringify(good()));
    await until(() => answers().length === 2, 'an answer to a good request');
  });

  it('instances in one share group split the requests: each is answered exactly once', async () => {
    const group = `test-${randomUUID().slice(0, 8)}`;
    const a = timeServer(config.MQTT_URL, group);
    const b = timeServer(config.MQTT_URL, group);
    await a.start();
    await b.start();
    try {
      const receiverId = newReceiver();
      const answers = await listen(receiverId);
      const nonces = Array.from({ length: 20 }, nonce);
      for (const n of nonces)
        await client.publishAsync(
          topics.timeRequest(receiverId),
          JSON.stringify({ v: 1, receiverId, nonce: n, t0: 1 }),
        );
      // The suite's own server (another group) answers each once; the pair once between them.
      await until(() => answers().length === 40, '40 answers');
      await sleep(200);
      const counts = new Map<string, number>();
      for (const m of answers()) {
        const n = (JSON.parse(m.payload.toString()) as TimeResponse).nonce;
        counts.set(n, (counts.get(n) ?? 0) + 1);
      }
      expect([...counts.keys()].sort()).toEqual([...nonces].sort());
      expect([...counts.values()].every((c) => c === 2)).toBe(true);
      expect(a.stats.answered).toBeGreaterThan(0);
      expect(b.stats.answered).toBeGreaterThan(0);
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('survives a broker restart and answers again once it is back', async () => {
    const broker = await PrivateBroker.start();
    const own = timeServer(broker.url, 'controller');
    let receiver: MqttClient | undefined;
    try {
      await own.start();
      await broker.down();
      // MQTT.js retries every second; the service notes each refused attempt.
      await until(() => own.stats.lastError !== '', 'a refused reconnect', 5000);
      await broker.up();
      const receiverId = newReceiver();
      receiver = await mqtt.connectAsync(broker.url, { protocolVersion: 5, reconnectPeriod: 0 });
      const got: Buffer[] = [];
      receiver.on('message', (_t, p) => got.push(p));
      await receiver.subscribeAsync(topics.timeResponse(receiverId), { qos: 0 });
      const request: TimeRequest = { v: 1, receiverId, nonce: nonce(), t0: 7 };
      // Until the service has reconnected and subscribed again, requests go unanswered.
      for (let i = 0; i < 60 && got.length === 0; i++) {
        await receiver.publishAsync(topics.timeRequest(receiverId), JSON.stringify({ ...request, nonce: nonce() }));
        await sleep(100);
      }
      expect(got.length).toBeGreaterThan(0);
    } finally {
      await receiver?.endAsync();
      await own.stop();
      await broker.down();
    }
  }, 15_000);
});
