import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type AreaRef,
  CommandSigner,
  CommandVerifier,
  decodeLivePacket,
  generateSigningKey,
  type LivePacket,
  loadSigningKey,
  ReplayGuard,
  receiverCommandSubscriptions,
  TrustedKeySet,
  topicFilter,
  trustedKeyFor,
  type VerifiedCommand,
} from '@loa/protocols';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiskAssetStore } from '../src/assets/asset-store.js';
import { areaChain } from '../src/broker/broker-config.js';
import { loadControllerConfig } from '../src/config.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { databaseSequence } from '../src/dispatch/sequence.js';
import { buildApp } from '../src/http/app.js';
import type { LiveDeps } from '../src/live/live-broadcast.js';
import { type RelayRunner, startRelays } from '../src/relay/relay-runner.js';
import { useFreshDatabase } from './support/database.js';
import { dominantTone, ToneStreamServer, toneFile } from './support/tone-stream.js';

// The stream is a 440 Hz tone, the fallback content a 1000 Hz one: what the packets carry says which is on air.
const STREAM_HZ = 440;
const FALLBACK_HZ = 1000;
const TONES = [STREAM_HZ, FALLBACK_HZ];
const VILLAGE = '02680-01';
const RX = 'rx-02680-01-1';

const config = loadControllerConfig();
const database = useFreshDatabase();
const jwk = generateSigningKey();
const keys = new TrustedKeySet([trustedKeyFor(jwk)]);
const station = new ToneStreamServer(toneFile(STREAM_HZ, 20, 'mp3'), 'mp3', 20);
const logs: Array<{ msg: string } & Record<string, unknown>> = [];
let app: FastifyInstance;
let redis: Redis;
let controllerMqtt: MqttClient;
let listener: MqttClient;
let runners: RelayRunner[] = [];
let cookie: string;
let contentId: string;
let areas: AreaRef[];

/** What a receiver hears: every live packet verified and its frames decoded, in arrival order. */
interface Heard {
  at: number;
  packet: LivePacket;
  pcm: Float32Array;
}
const heard = new Map<string, Heard[]>();
const commands: VerifiedCommand[] = [];
// node-opus (a controller dependency) decodes too: one decoder per session, fed in order.
const NativeOpus = createRequire(import.meta.url)('node-opus/lib/OpusEncoder.js') as new (
  rate: number,
  channels: number,
) => { decode(frame: Buffer): Buffer };
const decoders = new Map<string, InstanceType<typeof NativeOpus>>();

function hear(sessionId: string, payload: Buffer): void {
  const check = decodeLivePacket(payload, sessionId, keys);
  // Other test files share the broker: their sessions are signed with their own keys.
  if (!check.ok && check.reason === 'unknown_key') return;
  if (!check.ok) throw new Error(`live packet refused: ${check.reason} ${check.detail}`);
  let decoder = decoders.get(sessionId);
  if (!decoder) {
    decoder = new NativeOpus(48_000, 1);
    decoders.set(sessionId, decoder);
  }
  const parts = check.packet.frames.map((f) => {
    const int16 = decoder.decode(Buffer.from(f));
    const samples = new Int16Array(int16.buffer, int16.byteOffset, int16.length / 2);
    return Float32Array.from(samples, (s) => s / 32768);
  });
  const pcm = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    pcm.set(p, offset);
    offset += p.length;
  }
  const list = heard.get(sessionId) ?? [];
  list.push({ at: Date.now(), packet: check.packet, pcm });
  heard.set(sessionId, list);
}

/** The tone of the audio in the packets that arrived in the last `ms`, once they hold most of that time's audio. */
function toneOfLast(sessionId: string, ms: number): number | undefined {
  const since = Date.now() - ms;
  const recent = (heard.get(sessionId) ?? []).filter((h) => h.at >= since && h.pcm.length > 0);
  const pcm = new Float32Array(recent.reduce((n, h) => n + h.pcm.length, 0));
  let offset = 0;
  for (const h of recent) {
    pcm.set(h.pcm, offset);
    offset += h.pcm.length;
  }
  // Too little to judge (the window only began to fill): no verdict.
  return pcm.length >= 0.8 * 48 * ms ? dominantTone(pcm, TONES) : undefined;
}

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  ms: number,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Local wall-clock time (to the second, as startLocal takes it) `ms` from now. */
const localIn = (ms: number) => new Date(Date.now() + ms + 7 * 3600_000).toISOString().slice(0, 19);

/**
 * A relay schedule created through the API, starting up to `inMs` from now (startLocal has
 * whole seconds, and an airtime already begun is not materialised: keep inMs above 1 s);
 * answers its one occurrence's id.
 */
async function scheduleRelay(over: Record<string, unknown>, inMs: number, durationMs: number): Promise<string> {
  const response = await app.inject({
    method: 'POST',
    url: '/schedules',
    headers: { cookie },
    payload: {
      title: 'Tiếp sóng Đài Tiếng nói Việt Nam',
      contentId,
      startLocal: localIn(inMs),
      durationMs,
      priority: 'normal',
      startMode: 'hard',
      volume: 70,
      prelude: 'none',
      targets: { areas: [VILLAGE] },
      relayUrl: station.url,
      deadAirS: 3,
      acceptConflicts: true,
      ...over,
    },
  });
  expect(response.statusCode, response.body).toBe(201);
  const occurrence = await database.db().occurrence.findFirstOrThrow({ where: { scheduleId: response.json().id } });
  return occurrence.id;
}

const ffmpegChildren = () =>
  readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return stat.includes('(ffmpeg)') && stat.split(' ')[3] === String(process.pid);
      } catch {
        return false;
      }
    });

beforeAll(async () => {
  const db = database.db();
  await seedDemoProvince(db, { password: 'pw' });
  await station.listen();

  // The fallback: a 1000 Hz tone stored as the pipeline stores audio (48 kHz mono Ogg Opus, by SHA-256).
  const assets = new DiskAssetStore(mkdtempSync(join(tmpdir(), 'loa-relay-assets-')));
  const ogg = execFileSync('ffmpeg', [
    ...['-v', 'error', '-f', 'lavfi', '-i', `sine=frequency=${FALLBACK_HZ}:sample_rate=48000:duration=3`],
    ...['-af', 'volume=0.25', '-ac', '1', '-c:a', 'libopus', '-b:a', '32k', '-f', 'ogg', 'pipe:1'],
  ]);
  const sha256 = await assets.put(ogg);
  await db.asset.create({
    data: { sha256, durationMs: 3000, bytes: ogg.length, format: 'ogg-opus', mime: 'audio/ogg; codecs=opus' },
  });
  const owner = await db.area.findUniqueOrThrow({ where: { code: '02680' } });
  const content = await db.content.create({
    data: {
      title: 'Nhạc chờ',
      category: 'programme',
      ownerAreaId: owner.id,
      variants: { create: [{ language: 'vie', kind: 'audio', assetSha256: sha256 }] },
    },
  });
  contentId = content.id;

  redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
  app = await buildApp({ db, redis, rateLimitNamespace: `test-${randomUUID()}-` });
  const login = await app.inject({
    method: 'POST',
    url: '/auth/login',
    payload: { username: 'official-02680', password: 'pw' },
  });
  cookie = `loa_session=${login.cookies.find((c) => c.name === 'loa_session')?.value}`;

  areas = await areaChain(db, (await db.area.findUniqueOrThrow({ where: { code: VILLAGE } })).path);
  controllerMqtt = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5 });
  listener = await mqtt.connectAsync(config.MQTT_URL, { protocolVersion: 5, reconnectPeriod: 0 });
  const verifier = new CommandVerifier({ keys, receiverId: RX, areas, replay: new ReplayGuard() });
  listener.on('message', (topic, payload) => {
    const live = /^loa\/v1\/live\/([^/]+)\/audio$/.exec(topic);
    if (live) return hear(live[1] as string, payload);
    const result = verifier.verify(payload, topic);
    if (result.ok) commands.push(result.command);
  });
  await listener.subscribeAsync(receiverCommandSubscriptions(RX, areas), { qos: 1 });
  await listener.subscribeAsync(topicFilter('liveAudio'), { qos: 0 });

  const deps: LiveDeps & { assets: DiskAssetStore } = {
    db,
    signer: new CommandSigner({
      issuer: 'test-relay',
      key: loadSigningKey(jwk),
      nextSeq: databaseSequence(db, 'test-relay'),
    }),
    mqtt: controllerMqtt,
    signingKey: loadSigningKey(jwk),
    assets,
    log: (msg, detail) => logs.push({ msg, ...detail }),
  };
  // Two instances, as in production: each relay is aired by exactly one of them.
  const settings = { retryS: 1, timeoutS: 3, ffmpegPath: config.FFMPEG_PATH };
  runners = [startRelays(deps, settings), startRelays(deps, settings)];
}, 60_000);

afterAll(async () => {
  await Promise.all(runners.map((r) => r.close()));
  await station.kill();
  await app?.close();
  await listener?.endAsync();
  await controllerMqtt?.endAsync();
  redis?.disconnect();
});

describe('relay of a radio stream', () => {
  it('relays the stream live, falls back to the content on dead air, returns to the stream, ends with the window', async () => {
    const db = database.db();
    const windowMs = 12_000;
    const id = await scheduleRelay({}, 1500, windowMs);
    const occurrence = await db.occurrence.findUniqueOrThrow({ where: { id } });

    // On air: the session's id is the occurrence's, aired by one of the two instances.
    const session = await waitFor(
      'the relay on air',
      () => db.liveSession.findFirst({ where: { id, state: 'on_air' } }),
      5000,
    );
    expect(session).toMatchObject({ kind: 'relay', occurrenceId: id, relayUrl: station.url, priority: 'normal' });
    expect(runners.map((r) => r.running().includes(id))).toSatisfy(
      (airing: boolean[]) => airing.filter(Boolean).length === 1,
    );
    const start = commands.find((c) => c.kind === 'live.start' && c.body.sessionId === id);
    expect(start?.body).toMatchObject({ prelude: 'none', volume: 70, latencyMs: 250 });

    // 1. The stream's tone is what the packets carry.
    await waitFor('two seconds of the stream', () => toneOfLast(id, 2000) === STREAM_HZ, 5000);

    // 2. The station dies: within deadAirS (3 s) the fallback content is on air, counted once.
    const killedAt = Date.now();
    await station.kill();
    await waitFor('the fallback', () => toneOfLast(id, 400) === FALLBACK_HZ, 3000);
    expect(Date.now() - killedAt).toBeLessThan(3000);
    await waitFor('a second of the fallback', () => toneOfLast(id, 1000) === FALLBACK_HZ, 2000);
    expect((await db.liveSession.findUniqueOrThrow({ where: { id } })).fallbacks).toBe(1);
    expect(logs.find((l) => l.msg === 'relay dead air: airing the fallback' && l.sessionId === id)).toMatchObject({
      reason: 'ended',
    });

    // 3. The station returns: a retry (every second here) hears 2 s of sound and takes over.
    const requestsBefore = station.requests;
    await station.listen();
    await waitFor('the stream back', () => toneOfLast(id, 400) === STREAM_HZ, 6000);
    expect(station.requests).toBeGreaterThan(requestsBefore);
    expect(logs.some((l) => l.msg === 'relay stream back on air' && l.sessionId === id)).toBe(true);
    expect((await db.liveSession.findUniqueOrThrow({ where: { id } })).fallbacks).toBe(1);

    // 4. The window ends: the last packet, then live.stop, and the session is over.
    const ended = await waitFor(
      'the end of the window',
      () => db.liveSession.findFirst({ where: { id, state: 'ended' } }),
      occurrence.endsAt.getTime() - Date.now() + 3000,
    );
    expect(ended.endReason).toBe('relay_window_end');
    expect(ended.endedAt?.getTime()).toBeGreaterThanOrEqual(occurrence.endsAt.getTime());
    expect(ended.endedAt?.getTime()).toBeLessThan(occurrence.endsAt.getTime() + 1500);
    const packets = heard.get(id) ?? [];
    await waitFor('live.stop', () => commands.some((c) => c.kind === 'live.stop' && c.body.sessionId === id), 2000);
    expect(packets.at(-1)?.packet.last).toBe(true);
    expect(packets.filter((p) => p.packet.last)).toHaveLength(1);
    // One continuous session: sequence numbers without a gap, capture times never going back.
    packets.forEach((p, i) => {
      expect(p.packet.seq).toBe(i);
      if (i > 0) expect(p.packet.captureTs).toBeGreaterThanOrEqual((packets[i - 1] as Heard).packet.captureTs);
    });
    expect(ended.framesSent).toBe(packets.reduce((n, p) => n + p.packet.frames.length, 0));
    // Packets are full (three 20 ms frames under one signature) but for the odd one at a switch.
    const audio = packets.filter((p) => p.packet.frames.length > 0);
    expect(audio.filter((p) => p.packet.frames.length === 3).length / audio.length).toBeGreaterThan(0.9);
    expect(runners.flatMap((r) => r.running())).not.toContain(id);
    expect(ffmpegChildren()).toEqual([]);
  }, 40_000);

  it('ends a running relay when its airtime is cancelled, and never starts it again', async () => {
    const db = database.db();
    const id = await scheduleRelay({}, 1200, 60_000);
    await waitFor('the relay on air', () => db.liveSession.findFirst({ where: { id, state: 'on_air' } }), 5000);
    const cancel = await app.inject({
      method: 'POST',
      url: `/occurrences/${id}/cancel`,
      headers: { cookie },
      payload: { reason: 'họp dân đột xuất' },
    });
    expect(cancel.statusCode, cancel.body).toBe(200);
    const ended = await waitFor(
      'the relay ended',
      () => db.liveSession.findFirst({ where: { id, state: 'ended' } }),
      3000,
    );
    expect(ended.endReason).toBe('occurrence_cancelled');
    await new Promise((r) => setTimeout(r, 1500));
    expect(runners.flatMap((r) => r.running())).not.toContain(id);
    expect(await db.liveSession.count({ where: { occurrenceId: id } })).toBe(1);
  });

  it('ends a running relay when its schedule is withdrawn', async () => {
    const db = database.db();
    const id = await scheduleRelay({}, 1200, 60_000);
    const { scheduleId } = await db.occurrence.findUniqueOrThrow({ where: { id } });
    await waitFor('the relay on air', () => db.liveSession.findFirst({ where: { id, state: 'on_air' } }), 5000);
    const withdrawn = await app.inject({ method: 'DELETE', url: `/schedules/${scheduleId}`, headers: { cookie } });
    expect(withdrawn.statusCode, withdrawn.body).toBe(200);
    const ended = await waitFor(
      'the relay ended',
      () => db.liveSession.findFirst({ where: { id, state: 'ended' } }),
      3000,
    );
    expect(ended.endReason).toBe('schedule_withdrawn');
  });

  it('leaves an airtime whose session exists to its holder, and marks a session left by a dead instance failed', async () => {
    const db = database.db();
    const id = await scheduleRelay({}, 2500, 60_000);
    // Another instance won the insert, then died: its row stopped being touched a minute ago.
    await db.liveSession.create({
      data: {
        id,
        kind: 'relay',
        title: 'Tiếp sóng',
        priority: 'normal',
        volume: 70,
        latencyMs: 250,
        prelude: 'none',
        state: 'on_air',
        occurrenceId: id,
        relayUrl: station.url,
      },
    });
    await db.$executeRaw`UPDATE "LiveSession" SET "updatedAt" = now() - interval '1 minute' WHERE id = ${id}::uuid`;
    const failed = await waitFor(
      'the lost session marked failed',
      () => db.liveSession.findFirst({ where: { id, state: 'failed' } }),
      4000,
    );
    expect(failed.endReason).toBe('controller_lost');
    expect(runners.flatMap((r) => r.running())).not.toContain(id);
    expect(await db.liveSession.count({ where: { occurrenceId: id } })).toBe(1);
  });

  it('ends every relay it airs when the controller stops, leaving no ffmpeg behind', async () => {
    const db = database.db();
    const id = await scheduleRelay({}, 1200, 60_000);
    await waitFor('the relay on air', () => db.liveSession.findFirst({ where: { id, state: 'on_air' } }), 5000);
    expect(ffmpegChildren().length).toBeGreaterThan(0);
    await Promise.all(runners.map((r) => r.close()));
    const ended = await db.liveSession.findUniqueOrThrow({ where: { id } });
    expect(ended).toMatchObject({ state: 'ended', endReason: 'controller_stopping' });
    expect(ffmpegChildren()).toEqual([]);
  });
});
