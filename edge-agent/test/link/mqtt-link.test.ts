import { randomUUID } from 'node:crypto';
import { topics } from '@loa/protocols';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/hardware/system-clock.js';
import { Backoff } from '../../src/link/backoff.js';
import { MqttLink } from '../../src/link/mqtt-link.js';
import { PrivateBroker } from '../support/private-broker.js';

describe('reconnect backoff', () => {
  it('grows exponentially within full-jitter bounds, caps, and resets after a connection', () => {
    let r = 0.999;
    const backoff = new Backoff(1000, 60_000, () => r);
    const delays = Array.from({ length: 10 }, () => backoff.next());
    expect(delays.slice(0, 7)).toEqual([999, 1998, 3996, 7992, 15984, 31968, 59940]);
    expect(Math.max(...delays)).toBeLessThan(60_000);
    r = 0;
    expect(backoff.next()).toBe(0); // jitter reaches down to zero: a fleet spreads out
    backoff.reset();
    r = 0.5;
    expect(backoff.next()).toBe(500);
  });
});

describe('MQTT link', () => {
  let broker: PrivateBroker;
  beforeAll(async () => {
    broker = await PrivateBroker.start();
  });
  afterAll(() => broker.down());

  it('announces itself online (retained), leaves a last will saying offline, and says shutdown on a clean close', async () => {
    const receiverId = `rx-link-${randomUUID().slice(0, 8)}`;
    const watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    const link = new MqttLink({
      url: broker.url,
      receiverId,
      areas: [{ level: 'village', areaCode: '02680-01' }],
      agentVersion: 't',
      bootId: 'b',
      clock: systemClock,
      backoff: new Backoff(50, 200),
    });
    const commands: string[] = [];
    link.onMessage((topic) => commands.push(topic));
    link.start();
    for (let i = 0; i < 200 && !link.connected; i++) await new Promise((r) => setTimeout(r, 10));
    expect(link.connected).toBe(true);
    await watcher.publishAsync(topics.areaCommand('village', '02680-01'), 'x', { qos: 1 });
    await watcher.publishAsync(topics.areaCommand('village', '02680-02'), 'y', { qos: 1 });
    await broker.down(); // an unclean end: the broker itself goes, so take the will from a restart
    await broker.up();
    for (let i = 0; i < 300 && link.stats.connects < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(link.stats.connects).toBe(2);
    await link.close('shutdown');
    const fresh = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    const retained = await new Promise<{ online: boolean; reason: string }>((resolve) => {
      fresh.on('message', (_t, p) => resolve(JSON.parse(p.toString())));
      void fresh.subscribeAsync(topics.receiverState(receiverId), { qos: 1 });
    });
    expect(retained).toMatchObject({ online: false, reason: 'shutdown' });
    expect(commands).toEqual([topics.areaCommand('village', '02680-01')]);
    await fresh.endAsync();
    await watcher.endAsync(true);
  }, 20_000);

  it('leaves its last will when the connection dies', async () => {
    const receiverId = `rx-link-${randomUUID().slice(0, 8)}`;
    const link = new MqttLink({
      url: broker.url,
      receiverId,
      areas: [],
      agentVersion: 't',
      bootId: 'b',
      clock: systemClock,
      backoff: new Backoff(60_000, 60_000, () => 1),
    });
    link.start();
    for (let i = 0; i < 200 && !link.connected; i++) await new Promise((r) => setTimeout(r, 10));
    const watcher = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
    const states: Array<{ online: boolean; reason: string }> = [];
    watcher.on('message', (_t, p) => states.push(JSON.parse(p.toString())));
    await watcher.subscribeAsync(topics.receiverState(receiverId), { qos: 1 });
    for (let i = 0; i < 100 && states.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(states[0]).toMatchObject({ online: true, reason: 'connected' });
    // Cut the TCP connection under the client, as a dropped 3G link would.
    await forceDrop(receiverId, broker.url);
    for (let i = 0; i < 200 && states.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(states[1]).toMatchObject({ online: false, reason: 'last_will' });
    await link.close();
    await watcher.endAsync();
  }, 20_000);
});

/** Takes over the receiver's client id: the broker drops the old connection and sends its will. */
async function forceDrop(clientId: string, url: string): Promise<void> {
  const thief = await mqtt.connectAsync(url, { protocolVersion: 5, clientId, reconnectPeriod: 0, clean: true });
  await thief.endAsync(true);
}
