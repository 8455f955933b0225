import { connect as connectTcp, type Socket } from 'node:net';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PrivateBroker } from '../../edge-agent/test/support/private-broker.js';
import { FaultProxy } from '../src/faults/fault-proxy.js';
import { readConnect } from '../src/faults/mqtt-connect.js';

// A Mosquitto of the test's own, the fault proxy in front of it, and real mqtt.js v5
// clients connecting through the proxy. Every fault is shown by a measurement of what the
// clients see (times, order, disconnects), not by looking inside the proxy.

let broker: PrivateBroker;
let proxy: FaultProxy;
const clients: MqttClient[] = [];
const sockets: Socket[] = [];

/** Receiver ids look like rx-<commune>-<village>-<n>: a receiver is in its commune and its village. */
function areasOf(clientId: string): string[] {
  const match = /^rx-(\d{5})-(\d{2})-\d+$/.exec(clientId);
  return match ? [match[1] as string, `${match[1]}-${match[2]}`] : [];
}

beforeAll(async () => {
  broker = await PrivateBroker.start();
  proxy = await FaultProxy.start({ target: { host: '127.0.0.1', port: broker.port }, areasOf });
}, 30_000);

afterEach(async () => {
  proxy.lift();
  await Promise.all(clients.splice(0).map((client) => client.endAsync(true)));
  for (const socket of sockets.splice(0)) socket.destroy();
});

afterAll(async () => {
  await proxy?.close();
  await broker?.down();
});

let counter = 0;
/** A fresh receiver-like id per client, so no test inherits another's broker session. */
function id(name: string): string {
  counter += 1;
  return `rx-${name}-${counter}`;
}

async function client(clientId: string, options: IClientOptions = {}): Promise<MqttClient> {
  const created = await mqtt.connectAsync(proxy.url, {
    clientId,
    protocolVersion: 5,
    reconnectPeriod: 200,
    connectTimeout: 2_000,
    keepalive: 60,
    ...options,
  });
  created.on('error', () => {}); // resets arrive as ECONNRESET; the client reconnects by itself
  clients.push(created);
  return created;
}

/** Counts a client's disconnects and (re)connects from now on. */
function watch(watched: MqttClient): { closes: number; connects: number; firstCloseAt?: number } {
  const seen: { closes: number; connects: number; firstCloseAt?: number } = { closes: 0, connects: 0 };
  watched.on('close', () => {
    seen.closes += 1;
    seen.firstCloseAt ??= performance.now();
  });
  watched.on('connect', () => {
    seen.connects += 1;
  });
  return seen;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

function nextMessage(receiver: MqttClient, topic: string, timeoutMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message on ${topic} within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (received: string, payload: Buffer) => {
      if (received !== topic) return;
      clearTimeout(timer);
      receiver.off('message', onMessage);
      resolve(payload);
    };
    receiver.on('message', onMessage);
  });
}

/** Publish to a topic the client itself subscribes to: the message goes up to the broker and back down. */
async function roundTrip(self: MqttClient, topic: string): Promise<number> {
  const start = performance.now();
  const back = nextMessage(self, topic);
  self.publish(topic, 'ping');
  await back;
  return performance.now() - start;
}

async function fastestRoundTrip(self: MqttClient, topic: string, samples = 3): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < samples; i++) fastest = Math.min(fastest, await roundTrip(self, topic));
  return fastest;
}

/** An MQTT 3.1.1 CONNECT, built by hand so the test controls how its bytes are split. */
function connect311(clientId: string): Buffer {
  const idBytes = Buffer.from(clientId, 'utf8');
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, 0x02, 0x00, 0x3c]);
  const payload = Buffer.concat([Buffer.from([idBytes.length >> 8, idBytes.length & 0xff]), idBytes]);
  const body = Buffer.concat([variable, payload]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

function rawSocket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp(proxy.port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
    sockets.push(socket);
  });
}

const closed = (socket: Socket) => new Promise<void>((resolve) => socket.once('close', () => resolve()));

describe('readConnect', () => {
  // MQTT 5 CONNECT with properties (session expiry 3600 s, receive maximum 20) and client id "rx-1".
  const v5 = Buffer.from([
    0x10, 0x19, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x05, 0x02, 0x00, 0x1e, 0x08, 0x11, 0x00, 0x00, 0x0e, 0x10, 0x21,
    0x00, 0x14, 0x00, 0x04, 0x72, 0x78, 0x2d, 0x31,
  ]);

  it('reads the client id of MQTT 5 (past the properties) and 3.1.1, and waits for every missing byte', () => {
    expect(readConnect(v5)).toEqual({
      kind: 'connect',
      clientId: 'rx-1',
      protocolLevel: 5,
      keepaliveS: 30,
      length: 27,
    });
    expect(readConnect(connect311('rx-02680-01-3'))).toMatchObject({ kind: 'connect', clientId: 'rx-02680-01-3' });
    for (let cut = 0; cut < v5.length; cut++) expect(readConnect(v5.subarray(0, cut)).kind).toBe('incomplete');
    // Bytes of the next packet after the CONNECT do not disturb it.
    expect(readConnect(Buffer.concat([v5, Buffer.from([0xc0, 0x00])]))).toMatchObject({ clientId: 'rx-1', length: 27 });
  });

  it('refuses what is not a CONNECT it can read', () => {
    expect(readConnect(Buffer.from([0x30, 0x00])).kind).toBe('invalid'); // a PUBLISH first
    expect(readConnect(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff])).kind).toBe('invalid'); // 5-byte length
    expect(readConnect(Buffer.from([0x10, 0xf0, 0xa2, 0x04])).kind).toBe('invalid'); // 70 000 bytes: too large
    const wrongName = Buffer.from(v5);
    wrongName[4] = 0x41; // "AQTT"
    expect(readConnect(wrongName).kind).toBe('invalid');
    const badUtf8 = Buffer.from(v5);
    badUtf8[23] = 0xff;
    expect(readConnect(badUtf8).kind).toBe('invalid');
    const lyingLength = Buffer.from(v5);
    lyingLength[22] = 0x09; // client id said to be 9 bytes, 4 are left
    expect(readConnect(lyingLength).kind).toBe('invalid');
  });
});

describe('FaultProxy', () => {
  it('passes MQTT through unchanged and knows each connection by its client id, also for MQTT 3.1.1', async () => {
    const subId = id('sub');
    const pubId = id('pub');
    const oldId = id('v311');
    const subscriber = await client(subId);
    await subscriber.subscribeAsync('t/pass', { qos: 1 });
    const publisher = await client(pubId);
    await client(oldId, { protocolVersion: 4 });
    const got = nextMessage(subscriber, 't/pass');
    await publisher.publishAsync('t/pass', 'hello through the proxy', { qos: 1 });
    expect((await got).toString()).toBe('hello through the proxy');
    const { byClient, total } = proxy.connections();
    expect([byClient.get(subId), byClient.get(pubId), byClient.get(oldId)]).toEqual([1, 1, 1]);
    expect(total).toBeGreaterThanOrEqual(3);
  });

  it('reads a CONNECT split over several TCP chunks, and closes a connection that does not start with one', async () => {
    const socket = await rawSocket();
    const packet = connect311('rx-raw-split');
    const connack = new Promise<Buffer>((resolve) => socket.once('data', resolve));
    socket.write(packet.subarray(0, 3));
    await sleep(30);
    socket.write(packet.subarray(3, 12));
    await sleep(30);
    socket.write(packet.subarray(12));
    expect((await connack)[0]).toBe(0x20); // the broker's CONNACK came back through the proxy
    expect(proxy.connections().byClient.get('rx-raw-split')).toBe(1);

    const before = proxy.stats().malformed;
    const garbage = await rawSocket();
    const garbageClosed = closed(garbage);
    garbage.write('GET / HTTP/1.1\r\n\r\n');
    await garbageClosed;
    // A CONNECT announcing 70 000 bytes is refused on its first bytes, before the rest arrives.
    const huge = await rawSocket();
    const hugeClosed = closed(huge);
    huge.write(Buffer.from([0x10, 0xf0, 0xa2, 0x04]));
    await hugeClosed;
    expect(proxy.stats().malformed - before).toBe(2);
  });

  it('adds the latency to each direction of the chosen receiver only, until lifted', async () => {
    const slowId = id('lat');
    const slow = await client(slowId);
    const other = await client(id('lat-other'));
    await slow.subscribeAsync(`t/lat/${slowId}`);
    await other.subscribeAsync('t/lat/other');
    const baseline = await fastestRoundTrip(slow, `t/lat/${slowId}`);
    const rule = proxy.apply({ receivers: [slowId] }, { latencyMs: 150 });
    // The round trip crosses the slow link twice: the PUBLISH up (+150 ms), the message down (+150 ms).
    const delayed = await fastestRoundTrip(slow, `t/lat/${slowId}`);
    expect(delayed).toBeGreaterThanOrEqual(298);
    expect(delayed).toBeLessThan(300 + 700);
    expect(await fastestRoundTrip(other, 't/lat/other')).toBeLessThan(150);
    proxy.lift(rule);
    expect(await fastestRoundTrip(slow, `t/lat/${slowId}`)).toBeLessThan(150);
    expect(baseline).toBeLessThan(150);
  });

  it('jitters each chunk but keeps the byte order: 100 numbered messages arrive in order', async () => {
    const pubId = id('jit');
    const subscriber = await client(id('jit-sub'));
    await subscriber.subscribeAsync('t/jit');
    const publisher = await client(pubId);
    const arrivals: { n: number; delay: number }[] = [];
    subscriber.on('message', (_topic, payload) => {
      const { n, sent } = JSON.parse(payload.toString()) as { n: number; sent: number };
      arrivals.push({ n, delay: performance.now() - sent });
    });
    proxy.apply({ receivers: [pubId] }, { latencyMs: 10, jitterMs: 80 });
    // A few ms apart, so each message is a chunk of its own: without the order rule a
    // jitter of up to 80 ms would overtake one with another many times over.
    for (let n = 0; n < 100; n++) {
      publisher.publish('t/jit', JSON.stringify({ n, sent: performance.now() }));
      await sleep(3);
    }
    await waitFor(() => arrivals.length === 100, '100 messages');
    expect(arrivals.map((arrival) => arrival.n)).toEqual([...Array(100).keys()]);
    const delays = arrivals.map((arrival) => arrival.delay);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(9);
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(20); // the jitter did vary the delays
  });

  it('limits the bandwidth: 100 KB at 50 KB/s takes about 2 s', async () => {
    const pubId = id('bw');
    const subscriber = await client(id('bw-sub'));
    await subscriber.subscribeAsync('t/bw');
    const publisher = await client(pubId);
    const payload = Buffer.alloc(100_000, 0x61);
    const timed = async () => {
      const start = performance.now();
      const got = nextMessage(subscriber, 't/bw');
      publisher.publish('t/bw', payload);
      expect((await got).length).toBe(payload.length);
      return performance.now() - start;
    };
    expect(await timed()).toBeLessThan(1_000); // unlimited first
    proxy.apply({ receivers: [pubId] }, { bandwidthBytesPerS: 50_000 });
    const limited = await timed();
    expect(limited).toBeGreaterThanOrEqual(1_800);
    expect(limited).toBeLessThan(5_000);
  });

  it('cuts one receiver: it is closed and its reconnects are refused, others go on; lifting lets it back', async () => {
    const cutId = id('cut');
    const cut = await client(cutId);
    const other = await client(id('cut-other'));
    await other.subscribeAsync('t/cut');
    const cutSeen = watch(cut);
    const otherSeen = watch(other);
    const before = proxy.stats();
    const rule = proxy.apply({ receivers: [cutId] }, { cut: true });
    await waitFor(() => !cut.connected, 'the cut receiver to be disconnected');
    await sleep(1_000); // it retries every 200 ms meanwhile
    expect(cut.connected).toBe(false);
    expect(cutSeen.connects).toBe(0);
    expect(proxy.stats().refused - before.refused).toBeGreaterThanOrEqual(2);
    expect(proxy.connections().byClient.has(cutId)).toBe(false);
    const got = nextMessage(other, 't/cut');
    other.publish('t/cut', 'still here');
    expect((await got).toString()).toBe('still here');
    expect(otherSeen.closes).toBe(0);
    proxy.lift(rule);
    await waitFor(() => cut.connected, 'the receiver to reconnect after the cut');
    expect(proxy.connections().byClient.get(cutId)).toBe(1);
  });

  it('cuts by area through areasOf: the commune goes off, a neighbouring commune stays', async () => {
    const inCommune = [await client('rx-02680-01-1'), await client('rx-02680-02-1')];
    const neighbour = await client('rx-02683-01-1');
    const neighbourSeen = watch(neighbour);
    const rule = proxy.apply({ areas: ['02680'] }, { cut: true });
    await waitFor(() => inCommune.every((receiver) => !receiver.connected), 'the commune to go off');
    await sleep(500);
    expect(inCommune.some((receiver) => receiver.connected)).toBe(false);
    expect(neighbour.connected).toBe(true);
    expect(neighbourSeen.closes).toBe(0);
    proxy.lift(rule);
    await waitFor(() => inCommune.every((receiver) => receiver.connected), 'the commune to come back');

    const noAreas = await FaultProxy.start({ target: { host: '127.0.0.1', port: broker.port } });
    expect(() => noAreas.apply({ areas: ['02680'] }, { cut: true })).toThrow(/areasOf/);
    expect(() => noAreas.apply('all', { latencyMs: -1 })).toThrow(RangeError);
    await noAreas.close();
  });

  it('blackholes a receiver: the socket stays open, its keepalive notices, lifting lets it reconnect', async () => {
    const holeId = id('hole');
    const hole = await client(holeId, { keepalive: 1, connectTimeout: 1_000 });
    const other = await client(id('hole-other'), { keepalive: 1 });
    const holeSeen = watch(hole);
    const otherSeen = watch(other);
    await hole.publishAsync('t/hole', 'last word'); // the keepalive timer starts from here
    const start = performance.now();
    const before = proxy.stats();
    const rule = proxy.apply({ receivers: [holeId] }, { blackhole: true });
    expect(proxy.connections().byClient.get(holeId)).toBe(1);
    await waitFor(() => holeSeen.firstCloseAt !== undefined, 'the keepalive to notice', 6_000);
    // mqtt.js gives up 1.5 keepalives after its last packet: the proxy closed nothing itself.
    const noticed = (holeSeen.firstCloseAt as number) - start;
    expect(noticed).toBeGreaterThanOrEqual(1_000);
    expect(noticed).toBeLessThan(5_000);
    expect(proxy.stats().bytesDiscarded).toBeGreaterThan(before.bytesDiscarded); // its PINGREQ fell in the hole
    await sleep(1_500); // reconnects go into the hole too: their CONNECT gets no answer
    expect(hole.connected).toBe(false);
    expect(holeSeen.connects).toBe(0);
    expect(other.connected).toBe(true);
    expect(otherSeen.closes).toBe(0);
    proxy.lift(rule);
    await waitFor(() => hole.connected, 'the receiver to reconnect after the blackhole');
    expect(proxy.stats().resets).toBeGreaterThan(before.resets); // its blackholed attempt was closed on lifting
  });

  it('resets connections at random at the given rate, only for the chosen receiver', async () => {
    const flakyId = id('flaky');
    const flaky = await client(flakyId, { reconnectPeriod: 50 });
    const steady = await client(id('steady'));
    const flakySeen = watch(flaky);
    const steadySeen = watch(steady);
    const before = proxy.stats().resets;
    const rule = proxy.apply({ receivers: [flakyId] }, { resetPerMinute: 1_200 }); // 20 a second while up
    await sleep(2_000);
    expect(flakySeen.closes).toBeGreaterThanOrEqual(3);
    expect(proxy.stats().resets - before).toBeGreaterThanOrEqual(flakySeen.closes - 1);
    expect(steadySeen.closes).toBe(0);
    proxy.lift(rule);
    await waitFor(() => flaky.connected, 'the flaky receiver to reconnect');
    const closes = flakySeen.closes;
    await sleep(600);
    expect(flakySeen.closes).toBe(closes);
  });

  it('resetAll closes every connection at once and they all come back', async () => {
    const ids = [id('all'), id('all'), id('all')];
    const all = await Promise.all(ids.map((clientId) => client(clientId)));
    const seen = all.map(watch);
    const before = proxy.stats().resets;
    proxy.resetAll();
    await waitFor(() => seen.every((s) => s.closes === 1 && s.connects === 1), 'every client to reconnect once');
    expect(proxy.stats().resets - before).toBeGreaterThanOrEqual(3);
    const { byClient } = proxy.connections();
    expect(ids.map((clientId) => byClient.get(clientId))).toEqual([1, 1, 1]);
  });

  it('counts the bytes it forwards each way', async () => {
    const subscriber = await client(id('bytes-sub'));
    await subscriber.subscribeAsync('t/bytes');
    const publisher = await client(id('bytes-pub'));
    const before = proxy.stats();
    const got = nextMessage(subscriber, 't/bytes');
    publisher.publish('t/bytes', Buffer.alloc(10_000, 0x62));
    await got;
    const after = proxy.stats();
    // One PUBLISH of 10 000 bytes of payload plus a dozen of header and topic, up from the publisher and down to the subscriber.
    for (const bytes of [after.bytesUp - before.bytesUp, after.bytesDown - before.bytesDown]) {
      expect(bytes).toBeGreaterThanOrEqual(10_000);
      expect(bytes).toBeLessThan(10_100);
    }
    expect(after.accepted).toBeGreaterThan(0);
  });
});
