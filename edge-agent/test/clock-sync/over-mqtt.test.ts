import { randomUUID } from 'node:crypto';
import { generateSigningKey, loadSigningKey, TrustedKeySet, trustedKeyFor } from '@loa/protocols';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TimeServer } from '../../../controller/src/time-sync/time-server.js';
import { ClockSync } from '../../src/clock-sync/clock-sync.js';
import type { Clock } from '../../src/hardware/seams.js';
import { systemClock } from '../../src/hardware/system-clock.js';
import { MqttLink } from '../../src/link/mqtt-link.js';
import { PrivateBroker } from '../support/private-broker.js';

// The receiver's link and clock sync, wired as the agent wires them, against the real
// controller time service through a Mosquitto of the file's own (the links publish
// retained receiver states, which must not reach other tests on the shared broker).

const controllerJwk = generateSigningKey();
const trusted = new TrustedKeySet([trustedKeyFor(controllerJwk)]);
let broker: PrivateBroker;
let server: TimeServer;
/** A time server the receivers do not trust, answering too and an hour off. */
let rogue: TimeServer;
const links: MqttLink[] = [];

beforeAll(async () => {
  broker = await PrivateBroker.start();
  server = new TimeServer({ mqttUrl: broker.url, key: loadSigningKey(controllerJwk), group: 'controller' });
  rogue = new TimeServer({
    mqttUrl: broker.url,
    key: loadSigningKey(generateSigningKey()),
    group: 'rogue',
    now: () => Date.now() + 3600_000,
  });
  await server.start();
  await rogue.start();
}, 15_000);

afterEach(async () => {
  await Promise.all(links.splice(0).map((l) => l.close()));
});

afterAll(async () => {
  await server?.stop();
  await rogue?.stop();
  await broker?.down();
});

/** A receiver clock that is wrong by `skewMs` (a board whose RTC battery died). */
const skewed = (skewMs: number): Clock => ({ ...systemClock, now: () => Date.now() + skewMs });

async function receiver(clock: Clock, keys = trusted) {
  const receiverId = `rx-clock-${randomUUID().slice(0, 8)}`;
  const link = new MqttLink({
    url: broker.url,
    receiverId,
    areas: [],
    agentVersion: 'test',
    bootId: 'b',
    clock,
  });
  links.push(link);
  const sync = new ClockSync({
    receiverId,
    clock,
    keys,
    publish: (_topic, payload) => link.publishTo('timeRequest', payload),
    samples: 8,
    spacingMs: 20,
    answerTimeoutMs: 1000,
  });
  link.onMessage((_topic, payload, name) => {
    if (name === 'timeResponse') sync.onResponse(payload);
  });
  link.start();
  for (let i = 0; i < 300 && !link.connected; i++) await new Promise((r) => setTimeout(r, 10));
  expect(link.connected).toBe(true);
  return { sync, link };
}

describe('clock sync with the controller time service over MQTT', () => {
  it('finds a receiver clock 90 s fast to within 200 ms (a loaded CI machine), says how sure it is, and ignores a forger', async () => {
    const answeredBefore = server.stats.answered;
    const { sync } = await receiver(skewed(90_000));
    const state = await sync.syncNow();
    expect(state.synced).toBe(true);
    // offset = controller - receiver: the receiver is 90 s ahead, so about -90 s.
    expect(Math.abs(state.offsetMs - -90_000)).toBeLessThan(200);
    expect(state.errorMs).toBeGreaterThan(0);
    expect(state.errorMs).toBeLessThan(200);
    expect(Math.abs(sync.controllerTime() - Date.now())).toBeLessThan(200);
    expect(server.stats.answered - answeredBefore).toBe(8);
    // The rogue answered every request too (an hour off): each answer was refused. The
    // burst ends once the true answers are in, so the rogue's last may still be on its way.
    for (let i = 0; i < 100 && sync.stats.refused < 8; i++) await new Promise((r) => setTimeout(r, 20));
    expect(sync.stats).toMatchObject({ requests: 8, answers: 8, refused: 8 });
  });

  it('finds a clock 90 s slow just as well', async () => {
    const { sync } = await receiver(skewed(-90_000));
    const state = await sync.syncNow();
    expect(Math.abs(state.offsetMs - 90_000)).toBeLessThan(200);
    expect(Math.abs(sync.controllerTime() - Date.now())).toBeLessThan(200);
  });

  it('trusts no answer signed by a key it does not know, and stays unsynced', async () => {
    const { sync } = await receiver(skewed(30_000), new TrustedKeySet([trustedKeyFor(generateSigningKey())]));
    const state = await sync.syncNow();
    expect(state).toMatchObject({ synced: false, offsetMs: 0 });
    expect(sync.stats).toMatchObject({ answers: 0, refused: 16, failedBursts: 1 });
    expect(sync.controllerTime() - Date.now()).toBeGreaterThan(29_000); // still its own clock
  });

  it('stays unsynced when no time service answers', async () => {
    await server.stop();
    await rogue.stop();
    const { sync } = await receiver(skewed(-5000));
    const state = await sync.syncNow();
    expect(state).toMatchObject({ synced: false, offsetMs: 0, stale: false });
    expect(sync.stats).toMatchObject({ requests: 8, answers: 0, refused: 0, failedBursts: 1 });
  });
});
