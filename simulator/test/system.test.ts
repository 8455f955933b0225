import { TOPIC_ROOT, topics } from '@loa/protocols';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { System } from '../src/harness/system.js';

// The harness's private system with a broker that checks: the controller's broker
// accounts (a password and an ACL per receiver) in a Mosquitto of its own.
let system: System;

beforeAll(async () => {
  system = await System.start({ province: { receivers: 4, perVillage: 4 }, brokerAuth: true });
}, 120_000);

afterAll(async () => {
  await system?.stop();
});

const connect = (url: string, options: mqtt.IClientOptions = {}) =>
  mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 3000, ...options });

describe('a private system whose broker checks credentials', () => {
  it('refuses strangers, lets each receiver in with its own password, and holds it to its own topics', async () => {
    const url = system.broker.url;
    await expect(connect(url)).rejects.toThrow(/[Nn]ot authorized|[Bb]ad User Name or Password|135|134/);
    const [id, password] = [...system.receiverPasswords][0] as [string, string];
    await expect(connect(url, { clientId: id, username: id, password: 'wrong' })).rejects.toThrow();

    const watcher = await connect(system.observerUrl);
    const seen: string[] = [];
    watcher.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    await watcher.subscribeAsync(`${TOPIC_ROOT}/#`, { qos: 1 });
    const receiver = await connect(url, { clientId: id, username: id, password });
    const village = system.province?.villages[0]?.code as string;
    // Its own telemetry goes through; a command on its village's topic is refused by the ACL.
    await receiver.publishAsync(topics.receiverTelemetry(id), 'own', { qos: 1 });
    await expect(
      receiver.publishAsync(topics.areaCommand('village', village), 'forged by a receiver', { qos: 1 }),
    ).rejects.toThrow(/Not authorized/);
    await watcher.publishAsync(topics.areaCommand('village', village), 'from the observer', { qos: 1 });
    await new Promise((r) => setTimeout(r, 500));
    expect(seen).toContain(`${topics.receiverTelemetry(id)} own`);
    expect(seen).toContain(`${topics.areaCommand('village', village)} from the observer`);
    expect(seen.some((m) => m.endsWith('forged by a receiver'))).toBe(false);
    await receiver.endAsync();
    await watcher.endAsync();
    // The controller got in with its own account: it answers, and it is connected to the broker.
    expect((await fetch(`${system.controller.url}/readyz`)).ok).toBe(true);
  }, 60_000);
});
