import { randomUUID } from 'node:crypto';
import { generateSigningKey, loadSigningKey, TrustedKeySet, topics, trustedKeyFor } from '@loa/protocols';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimeServer } from '../../../controller/src/time-sync/time-server.js';
import { ClockSync } from '../../src/clock-sync/clock-sync.js';
import type { Clock } from '../../src/hardware/seams.js';
import { systemClock } from '../../src/hardware/system-clock.js';

const MQTT_URL = process.env.MQTT_URL ?? 'mqtt://127.0.0.1:1883';
const jwk = generateSigningKey();
const group = `clock-${randomUUID().slice(0, 8)}`;
let server: TimeServer;
let client: MqttClient;

beforeAll(async () => {
  server = new TimeServer({ mqttUrl: MQTT_URL, key: loadSigningKey(jwk), group });
  await server.start();
  client = await mqtt.connectAsync(MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
});

afterAll(async () => {
  await client?.endAsync();
  await server?.stop();
});

/** A receiver clock that is wrong by `skewMs` (a board whose RTC battery died). */
const skewed = (skewMs: number): Clock => ({ ...systemClock, now: () => Date.now() + skewMs });

async function syncWith(keys: TrustedKeySet, clock: Clock) {
  const receiverId = `rx-clock-${randomUUID().slice(0, 8)}`;
  const sync = new ClockSync({
    receiverId,
    clock,
    keys,
    publish: async (topic, payload) => void (await client.publishAsync(topic, payload, { qos: 0 })),
    samples: 6,
    spacingMs: 20,
    answerTimeoutMs: 400,
  });
  const listener = (topic: string, payload: Buffer) => {
    if (topic === topics.timeResponse(receiverId)) sync.onResponse(payload);
  };
  client.on('message', listener);
  await client.subscribeAsync(topics.timeResponse(receiverId), { qos: 0 });
  try {
    return { state: await sync.syncNow(), sync };
  } finally {
    client.off('message', listener);
  }
}

describe('clock sync with the controller over MQTT', () => {
  it('finds a 90 s error to within a few ms and says how sure it is', async () => {
    const { state, sync } = await syncWith(new TrustedKeySet([trustedKeyFor(jwk)]), skewed(-90_000));
    expect(state.synced).toBe(true);
    expect(Math.abs(state.offsetMs - 90_000)).toBeLessThan(50);
    expect(state.errorMs).toBeGreaterThan(0);
    expect(state.errorMs).toBeLessThan(50);
    expect(Math.abs(sync.controllerTime() - Date.now())).toBeLessThan(50);
    expect(sync.stats.answers).toBe(6);
  });

  it('ignores answers signed by a key it does not trust, and stays unsynced', async () => {
    const { state, sync } = await syncWith(new TrustedKeySet([trustedKeyFor(generateSigningKey())]), skewed(30_000));
    expect(state).toMatchObject({ synced: false, offsetMs: 0 });
    expect(sync.stats.refused).toBe(6);
  });

  it('answers only well-formed requests for the topic they came on', async () => {
    const before = server.stats.rejected;
    await client.publishAsync(
      topics.timeRequest('rx-clock-x'),
      '{"v":1,"receiverId":"rx-clock-y","nonce":"abcdefghijklmnop","t0":1}',
    );
    await client.publishAsync(topics.timeRequest('rx-clock-x'), 'not json');
    for (let i = 0; i < 100 && server.stats.rejected < before + 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(server.stats.rejected).toBe(before + 2);
  });
});
