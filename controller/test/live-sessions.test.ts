import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandBody } from '@loa/protocols';
import { compileErrors, validate } from '@readme/openapi-parser';
import { afterAll, describe, expect, it } from 'vitest';
import wavefile from 'wavefile';
import WebSocket from 'ws';
import { openLiveSession } from '../src/live/live-broadcast.js';
import { decodeOpusFrames, sine, toneOf } from './support/live-audio.js';
import { until, useLiveFixture } from './support/live-fixture.js';

const fx = useLiveFixture('LS');
const { P } = fx;
const C1 = `${P}-D1-C1`;
const C2 = `${P}-D1-C2`;
const official1 = `official-${C1}`.toLowerCase();
const official2 = `official-${C2}`.toLowerCase();
const admin = `admin-${P}`.toLowerCase();
const emergency = `emergency-${P}`.toLowerCase();
const technician = `technician-${P}`.toLowerCase();
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'loa-live-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Opened {
  session: { id: string; state: string; openedAt: string };
  audioUrl: string;
  onAirAt: string;
}

const open = async (user: string, body: Record<string, unknown>) => {
  const response = await fx.call('POST', '/live/sessions', user, { title: 'Thông báo trực tiếp', ...body });
  expect(response.statusCode, response.body).toBe(201);
  return response.json() as Opened;
};
const session = async (id: string, user = admin) => (await fx.call('GET', `/live/sessions/${id}`, user)).json();
const liveCommand = (kind: 'live.start' | 'live.stop', sessionId: string) =>
  until(() => fx.commands().find((c) => c.kind === kind && (c.body as { sessionId: string }).sessionId === sessionId));
const audioPackets = (id: string) => fx.packets(id).filter((p) => p.packet.frames.length > 0);

describe('the live API', () => {
  it('is in the OpenAPI document, valid, every operation with a summary, the tag and its success response', async () => {
    const document = fx.app().swagger() as Parameters<typeof validate>[0];
    const result = await validate(structuredClone(document));
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    const paths = (
      document as { paths: Record<string, Record<string, { summary?: string; tags?: string[]; responses?: object }>> }
    ).paths;
    const live = Object.entries(paths)
      .filter(([path]) => path.startsWith('/live/'))
      .flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, o]) => ({ name: `${method.toUpperCase()} ${path}`, o })),
      );
    expect(live.map((l) => l.name).sort()).toEqual([
      'GET /live/sessions',
      'GET /live/sessions/{id}',
      'GET /live/sessions/{id}/deliveries',
      'POST /live/sessions',
      'POST /live/sessions/{id}/stop',
    ]);
    for (const { o } of live) {
      expect(o.summary).toBeTruthy();
      expect(o.tags).toEqual(['live']);
      expect(Object.keys(o.responses ?? {}).some((s) => /^2/.test(s))).toBe(true);
    }
    // The WebSocket (a 101 upgrade) is left out of the document by @fastify/websocket; the README describes it.
    expect(fx.app().hasRoute({ method: 'GET', url: '/live/sessions/:id/audio' })).toBe(true);
  });
});

describe('opening live speech', () => {
  it('is refused outside the caller’s scope, to technicians, without a target, and where no receiver is', async () => {
    const outside = await fx.call('POST', '/live/sessions', official2, { title: 'x', areaIds: [fx.areaId(C1)] });
    expect(outside.statusCode, outside.body).toBe(403);
    expect(outside.json().detail).toContain(C1);
    const tech = await fx.call('POST', '/live/sessions', technician, { title: 'x', areaIds: [fx.areaId(C1)] });
    expect(tech.statusCode).toBe(403);
    const none = await fx.call('POST', '/live/sessions', official1, { title: 'x', areaIds: [] });
    expect(none.statusCode).toBe(400);
    const unknown = await fx.call('POST', '/live/sessions', official1, {
      title: 'x',
      areaIds: ['00000000-0000-4000-8000-000000000000'],
    });
    expect(unknown.statusCode).toBe(404);
    const badLatency = await fx.call('POST', '/live/sessions', official1, {
      title: 'x',
      areaIds: [fx.areaId(C1)],
      latencyMs: 5000,
    });
    expect(badLatency.statusCode).toBe(400);
    // A village without receivers.
    const commune = await fx.db().area.findUniqueOrThrow({ where: { code: C1 } });
    const empty = await fx.db().area.create({
      data: {
        code: `${C1}-EMPTY`,
        level: 'village',
        name: 'Thôn trống',
        parentId: commune.id,
        path: `${commune.path}${C1}-EMPTY/`,
        languages: ['vie'],
      },
    });
    const nobody = await fx.call('POST', '/live/sessions', official1, { title: 'x', areaIds: [empty.id] });
    expect(nobody.statusCode, nobody.body).toBe(422);
    expect(nobody.json().detail).toContain('no enabled receiver');
    expect(await fx.db().liveSession.count()).toBe(0);
  });

  it('sends a signed live.start on the area topic, is on air after the chime, allows one speaker per area, and stops in one action', async () => {
    const opened = await open(official1, { areaIds: [fx.areaId(C1)], language: 'vie' });
    const id = opened.session.id;
    expect(opened.audioUrl).toBe(`/live/sessions/${id}/audio`);
    expect(opened.session.state).toBe('opening');
    const lead = Date.parse(opened.onAirAt) - Date.parse(opened.session.openedAt);
    expect(lead).toBeGreaterThanOrEqual(3500);
    expect(lead).toBeLessThan(4000);

    // The first receiver of commune 1 verified it with the controller's public key, on the commune's topic.
    const start = await liveCommand('live.start', id);
    expect(start.target).toEqual({ type: 'area', level: 'commune', areaCode: C1 });
    const body = start.body as CommandBody<'live.start'>;
    expect(body).toMatchObject({
      sessionId: id,
      priority: 'live',
      codec: { name: 'opus', sampleRate: 48000, channels: 1, frameMs: 20, bitrate: 24000 },
      latencyMs: 250,
      heartbeatTimeoutMs: 5000,
      prelude: 'chime',
      volume: 80,
      language: 'vie',
    });
    expect(start.expiresAt - start.issuedAt).toBe(60_000);

    const deliveries = (await fx.call('GET', `/live/sessions/${id}/deliveries`, official1)).json();
    expect(deliveries.total).toBe(10);
    expect(deliveries.counts).toEqual({ planned: 10 });

    // A second speaker on a village inside the commune is refused, naming the session on air.
    const village = `${C1}-V1`;
    const overlap = await fx.call('POST', '/live/sessions', admin, { title: 'y', areaIds: [fx.areaId(village)] });
    expect(overlap.statusCode, overlap.body).toBe(409);
    expect(overlap.json().detail).toContain(id);
    expect(overlap.json().session).toMatchObject({ id, title: 'Thông báo trực tiếp' });
    // So is one naming a receiver of the commune on its own.
    const rx = fx.province().receivers.find((r) => r.villageCode === village)?.id as string;
    const single = await fx.call('POST', '/live/sessions', admin, { title: 'y', areaIds: [], receiverIds: [rx] });
    expect(single.statusCode, single.body).toBe(409);
    // The other commune is free.
    const other = await open(official2, { areaIds: [fx.areaId(C2)], prelude: 'none' });

    await until(async () => ((await session(id)).state === 'on_air' ? true : undefined), 5000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(opened.onAirAt));

    // Listed for whoever covers it; not for the other commune's official.
    const mine = (await fx.call('GET', '/live/sessions', official1)).json().items.map((s: { id: string }) => s.id);
    expect(mine).toContain(id);
    expect(mine).not.toContain(other.session.id);
    const onAir = (await fx.call('GET', '/live/sessions?state=on_air', admin)).json().items;
    expect(onAir.map((s: { id: string }) => s.id).sort()).toEqual([id, other.session.id].sort());
    expect((await fx.call('GET', `/live/sessions/${id}`, official2)).statusCode).toBe(403);

    // Another official may not stop it; emergency staff over it may.
    expect((await fx.call('POST', `/live/sessions/${id}/stop`, official2, {})).statusCode).toBe(403);
    const stopped = await fx.call('POST', `/live/sessions/${id}/stop`, emergency, { reason: 'nhầm khu vực' });
    expect(stopped.statusCode, stopped.body).toBe(200);
    expect(stopped.json()).toMatchObject({ state: 'ended', endReason: 'stopped: nhầm khu vực' });
    const stop = await liveCommand('live.stop', id);
    expect(stop.body).toEqual({ sessionId: id, reason: 'stopped: nhầm khu vực' });
    const last = fx.packets(id).at(-1)?.packet;
    expect(last?.last).toBe(true);
    expect((await fx.call('POST', `/live/sessions/${id}/stop`, emergency, {})).statusCode).toBe(409);
    // Nobody reported playing: every delivery is missed.
    const after = (await fx.call('GET', `/live/sessions/${id}/deliveries`, official1)).json();
    expect(after.counts).toEqual({ missed: 10 });
    const audit = await fx.db().auditLog.findMany({ where: { entity: 'live_session', entityId: id } });
    expect(audit.map((a) => a.action).sort()).toEqual(['open', 'stop']);

    expect((await fx.call('POST', `/live/sessions/${other.session.id}/stop`, official2, {})).statusCode).toBe(200);
    // With the first one ended, the commune is free again.
    const again = await open(admin, { areaIds: [fx.areaId(village)], prelude: 'none' });
    expect((await fx.call('POST', `/live/sessions/${again.session.id}/stop`, admin, {})).statusCode).toBe(200);
  });
});

describe('live audio', () => {
  it('goes out as signed packets of three frames on one timeline that decode to what was said; keep-alives in silence; the last packet, then live.stop', async () => {
    const b = await openLiveSession(fx.deps(), 'system', {
      kind: 'speech',
      title: 'sine',
      priority: 'live',
      areaIds: [fx.areaId(C1)],
      volume: 70,
      prelude: 'none',
    });
    expect(b.onAirAt - Date.now()).toBeGreaterThan(300);
    await b.onAir;
    const tone = sine(440, 1);
    // 20 ms chunks stamped as a browser's arrive: a steady clock with jitter.
    for (let k = 0; k < 50; k++)
      b.pushPcm(tone.subarray(k * 960, (k + 1) * 960), b.onAirAt + 40 + k * 20 + ((k * 7) % 11) - 5);
    await until(() => (audioPackets(b.id).length === 17 ? true : undefined), 3000);
    const audio = audioPackets(b.id).map((p) => p.packet);
    expect(audio.map((p) => p.frames.length)).toEqual([...Array(16).fill(3), 2]);
    const t0 = audio[0]?.captureTs as number;
    expect(t0).toBeCloseTo(b.onAirAt + 35, 6);
    for (const [i, p] of audio.entries()) expect(p.captureTs).toBeCloseTo(t0 + i * 60, 6);
    const { hz, rms } = toneOf(decodeOpusFrames(audio.flatMap((p) => p.frames)).subarray(4800));
    expect(hz).toBeGreaterThan(435);
    expect(hz).toBeLessThan(445);
    expect(rms).toBeGreaterThan(0.25);

    // Silence: a keep-alive (no frames) each second.
    await new Promise((r) => setTimeout(r, 2600));
    // (Keep-alives during the lead before on air are not what this checks: those after the audio are.)
    const lastAudioAt = audioPackets(b.id).at(-1)?.at as number;
    const alive = fx.packets(b.id).filter((p) => p.packet.frames.length === 0 && p.at > lastAudioAt);
    expect(alive.length).toBeGreaterThanOrEqual(2);
    const gap = (alive[1]?.at as number) - (alive[0]?.at as number);
    expect(gap).toBeGreaterThan(800);
    expect(gap).toBeLessThan(1300);

    await b.end('done');
    const all = fx.packets(b.id);
    expect(all.map((p) => p.packet.seq)).toEqual(all.map((_, i) => i));
    expect(all.at(-1)?.packet.last).toBe(true);
    expect(all.filter((p) => p.packet.last)).toHaveLength(1);
    for (let i = 1; i < all.length; i++)
      expect(all[i]?.packet.captureTs).toBeGreaterThanOrEqual(all[i - 1]?.packet.captureTs as number);
    const stop = await liveCommand('live.stop', b.id);
    expect(stop.body).toEqual({ sessionId: b.id, reason: 'done' });
    // The last packet first, then the stop.
    expect(stop.order).toBeGreaterThan(all.at(-1)?.order as number);
    expect(b.stats()).toMatchObject({
      framesSent: 50,
      packetsSent: all.length,
      droppedBeforeOnAir: 0,
      publishFailures: 0,
    });
    expect(b.stats().keepAlives).toBe(
      fx.packets(b.id).filter((p) => p.packet.frames.length === 0 && !p.packet.last).length,
    );
    const row = await fx.db().liveSession.findUniqueOrThrow({ where: { id: b.id } });
    expect(row).toMatchObject({ state: 'ended', endReason: 'done', framesSent: 50, packetsSent: all.length });
    expect(fx.badPackets(b.id)).toEqual([]);
    // Idempotent: a second end changes nothing and sends nothing.
    await b.end('again');
    expect(fx.packets(b.id)).toHaveLength(all.length);
    expect((await fx.db().liveSession.findUniqueOrThrow({ where: { id: b.id } })).endReason).toBe('done');
  });

  it('drops what was captured before on air, and a session nobody speaks on ends by itself', async () => {
    const b = await openLiveSession({ ...fx.deps(), idleEndS: 1 }, 'system', {
      kind: 'speech',
      title: 'idle',
      priority: 'live',
      areaIds: [fx.areaId(C2)],
      volume: 70,
      prelude: 'none',
    });
    // 200 ms, the first 100 of it before the on-air moment.
    b.pushPcm(sine(300, 0.2), b.onAirAt - 100);
    expect(b.stats().droppedBeforeOnAir).toBe(4800);
    expect(await Promise.race([b.ended, new Promise((r) => setTimeout(() => r('still open'), 4000))])).toBe('idle');
    const row = await fx.db().liveSession.findUniqueOrThrow({ where: { id: b.id } });
    expect(row).toMatchObject({ state: 'ended', endReason: 'idle', framesSent: 5 });
    expect(audioPackets(b.id)[0]?.packet.captureTs).toBeCloseTo(b.onAirAt, 6);
  });
});

describe('across controller instances', () => {
  const ghost = async (updatedAt?: Date) => {
    const db = fx.db();
    const id = randomUUID();
    const creator = await db.user.findUniqueOrThrow({ where: { username: admin } });
    await db.liveSession.create({
      data: {
        id,
        kind: 'speech',
        title: 'held elsewhere',
        priority: 'live',
        volume: 80,
        latencyMs: 250,
        state: 'on_air',
        areaIds: [fx.areaId(C1)],
        issuedTargets: [{ commandId: randomUUID(), target: { type: 'area', level: 'commune', areaCode: C1 } }],
        createdById: creator.id,
      },
    });
    const receivers = fx.province().receivers.filter((r) => r.villageCode.startsWith(C1));
    await db.liveDelivery.createMany({ data: receivers.map((r) => ({ sessionId: id, receiverId: r.id })) });
    if (updatedAt) await db.$executeRaw`UPDATE "LiveSession" SET "updatedAt" = ${updatedAt} WHERE id = ${id}::uuid`;
    return id;
  };

  it('a session another instance holds blocks its areas and is stopped from here; one whose instance died is over', async () => {
    const held = await ghost();
    const blocked = await fx.call('POST', '/live/sessions', official1, { title: 'x', areaIds: [fx.areaId(C1)] });
    expect(blocked.statusCode).toBe(409);
    expect(blocked.json().session.id).toBe(held);
    // Its audio socket is on the other instance.
    const socket = connect(`/live/sessions/${held}/audio`, admin);
    expect(await socket.refused).toBe(409);
    const stopped = await fx.call('POST', `/live/sessions/${held}/stop`, admin, {});
    expect(stopped.statusCode, stopped.body).toBe(200);
    expect(stopped.json()).toMatchObject({ state: 'ended', endReason: 'stopped' });
    expect((await liveCommand('live.stop', held)).body).toEqual({ sessionId: held, reason: 'stopped' });
    expect((await fx.call('GET', `/live/sessions/${held}/deliveries`, admin)).json().counts).toEqual({ missed: 10 });

    // Not touched for a minute: its instance is gone, so the area is free and the session failed.
    const dead = await ghost(new Date(Date.now() - 60_000));
    const opened = await open(official1, { areaIds: [fx.areaId(C1)], prelude: 'none' });
    expect(await fx.db().liveSession.findUniqueOrThrow({ where: { id: dead } })).toMatchObject({
      state: 'failed',
      endReason: 'controller_lost',
    });
    expect((await fx.call('POST', `/live/sessions/${opened.session.id}/stop`, official1, {})).statusCode).toBe(200);
  });

  it('a broadcast whose session was stopped on another instance stops sending within seconds', async () => {
    const b = await openLiveSession(fx.deps(), 'system', {
      kind: 'speech',
      title: 'stopped elsewhere',
      priority: 'live',
      areaIds: [fx.areaId(C2)],
      volume: 80,
      prelude: 'none',
    });
    await b.onAir;
    b.pushPcm(sine(300, 0.3), b.onAirAt);
    // What another instance's stop route does.
    await fx
      .db()
      .liveSession.update({ where: { id: b.id }, data: { state: 'ended', endReason: 'stopped: elsewhere' } });
    const reason = await Promise.race([b.ended, new Promise((r) => setTimeout(() => r('still sending'), 7000))]);
    expect(reason).toBe('stopped: elsewhere');
    expect(fx.packets(b.id).at(-1)?.packet.last).toBe(true);
    const row = await fx.db().liveSession.findUniqueOrThrow({ where: { id: b.id } });
    expect(row).toMatchObject({ state: 'ended', endReason: 'stopped: elsewhere', framesSent: 15 });
  }, 15_000);
});

/** A WebSocket to the app, and the JSON messages it got. */
function connect(path: string, user: string) {
  const socket = new WebSocket(`${fx.baseUrl().replace('http', 'ws')}${path}`, {
    headers: { cookie: fx.cookie(user) },
  });
  const messages: Array<Record<string, unknown>> = [];
  socket.on('message', (data, binary) => {
    if (!binary) messages.push(JSON.parse(data.toString()));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  const refused = new Promise<number>((resolve) =>
    socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
  );
  const opened = new Promise<void>((resolve) => socket.on('open', () => resolve()));
  socket.on('error', () => {});
  const next = (type: string) => until(() => messages.find((m) => m.type === type), 6000);
  return { socket, messages, closed, refused, opened, next };
}

describe('the audio WebSocket', () => {
  it('takes PCM of any rate and channels from the speaker, on air at the moment it says, and ends the session when they hang up', async () => {
    const opened = await open(official2, { areaIds: [fx.areaId(C2)], prelude: 'none' });
    const id = opened.session.id;
    // Without a session cookie, and for someone else than the speaker: refused before the upgrade.
    const anonymous = new WebSocket(`${fx.baseUrl().replace('http', 'ws')}${opened.audioUrl}`);
    anonymous.on('error', () => {});
    expect(await new Promise((r) => anonymous.on('unexpected-response', (_q, res) => r(res.statusCode)))).toBe(401);
    expect(await connect(opened.audioUrl, official1).refused).toBe(403);

    const speaker = connect(opened.audioUrl, official2);
    await speaker.opened;
    // A second speaker for the same session is refused.
    expect(await connect(opened.audioUrl, official2).refused).toBe(409);
    speaker.socket.send(JSON.stringify({ format: 's16le', sampleRate: 16000, channels: 2 }));
    const accepted = await speaker.next('accepted');
    expect(accepted).toMatchObject({ sessionId: id, onAirAt: Date.parse(opened.onAirAt) });
    const onAir = await speaker.next('on_air');
    expect(onAir.at).toBe(Date.parse(opened.onAirAt));
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(opened.onAirAt));

    // 1 s of 440 Hz, stereo 16 kHz 16-bit, in 20 ms chunks paced in real time.
    const tone = sine(440, 1, 16_000, 0.5, 2);
    const chunk = 320 * 2;
    const startedAt = performance.now();
    for (let k = 0; k * chunk < tone.length; k++) {
      const part = tone.subarray(k * chunk, (k + 1) * chunk);
      const bytes = Buffer.alloc(part.length * 2);
      for (const [i, s] of part.entries()) bytes.writeInt16LE(Math.round(s * 32767), i * 2);
      speaker.socket.send(bytes);
      const wait = startedAt + (k + 1) * 20 - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const stats = await speaker.next('stats');
    expect(stats).toHaveProperty('framesSent');
    speaker.socket.close(1000);
    await until(async () => ((await session(id)).state === 'ended' ? true : undefined), 5000);
    const row = await session(id);
    expect(row.endReason).toBe('speaker_closed');
    const audio = audioPackets(id).map((p) => p.packet);
    const frames = audio.flatMap((p) => p.frames);
    // The resampler holds back a few ms; the tail frame is padded: 49 to 51 frames of 20 ms.
    expect(frames.length).toBeGreaterThanOrEqual(49);
    expect(frames.length).toBeLessThanOrEqual(51);
    const { hz } = toneOf(decodeOpusFrames(frames).subarray(4800, 40_000));
    expect(hz).toBeGreaterThan(435);
    expect(hz).toBeLessThan(445);
    // One timeline, in steps of 60 ms while the packets are full.
    for (let i = 1; i < audio.length; i++)
      if (audio[i - 1]?.frames.length === 3)
        expect(audio[i]?.captureTs).toBeCloseTo((audio[i - 1]?.captureTs as number) + 60, 6);
    expect(fx.packets(id).at(-1)?.packet.last).toBe(true);
  });

  it('closes with 1008 and the reason on a bad first message, leaving the session open for another try', async () => {
    const opened = await open(official2, { areaIds: [fx.areaId(C2)], prelude: 'none' });
    const first = connect(opened.audioUrl, official2);
    await first.opened;
    first.socket.send(JSON.stringify({ format: 'mp3' }));
    const closed = await first.closed;
    expect(closed.code).toBe(1008);
    expect(closed.reason).toContain('unknown format');
    const pcmWithoutRate = connect(opened.audioUrl, official2);
    await pcmWithoutRate.opened;
    pcmWithoutRate.socket.send(JSON.stringify({ format: 's16le', channels: 1 }));
    expect((await pcmWithoutRate.closed).reason).toContain('sampleRate');
    const audioFirst = connect(opened.audioUrl, official2);
    await audioFirst.opened;
    audioFirst.socket.send(Buffer.alloc(640));
    expect((await audioFirst.closed).code).toBe(1008);
    expect((await session(opened.session.id)).state).not.toBe('ended');

    // A format accepted, then a chunk cut mid-sample: 1007, and hanging up ends the session.
    const broken = connect(opened.audioUrl, official2);
    await broken.opened;
    broken.socket.send(JSON.stringify({ format: 'f32le', sampleRate: 48000, channels: 1 }));
    await broken.next('accepted');
    broken.socket.send(Buffer.alloc(7));
    expect((await broken.closed).code).toBe(1007);
    await until(async () => ((await session(opened.session.id)).state === 'ended' ? true : undefined), 5000);
  });

  it('passes 20 ms Opus frames through without re-encoding', async () => {
    const opened = await open(official2, { areaIds: [fx.areaId(C2)], prelude: 'none' });
    const speaker = connect(opened.audioUrl, official2);
    await speaker.opened;
    speaker.socket.send(JSON.stringify({ format: 'opus', frameMs: 20 }));
    await speaker.next('on_air');
    const { OpusFrameEncoder } = await import('../src/audio/encoding/opus-frame-encoder.js');
    const encoder = new OpusFrameEncoder();
    const frames: Buffer[] = [];
    encoder.push(sine(440, 0.3), (f) => frames.push(f));
    for (const f of frames) speaker.socket.send(f);
    // Paced out in real time after the latency; a loaded machine needs more than the 0.55 s it takes.
    await until(
      () => (audioPackets(opened.session.id).flatMap((p) => p.packet.frames).length === 15 ? true : undefined),
      10_000,
    );
    const sent = audioPackets(opened.session.id).flatMap((p) => p.packet.frames);
    expect(sent.map((f) => Buffer.from(f).toString('hex'))).toEqual(frames.map((f) => f.toString('hex')));
    // A 60 ms Opus packet is not a 20 ms frame.
    speaker.socket.send(Buffer.from([(3 << 3) | 0, 0xff, 0xfe]));
    const closed = await speaker.closed;
    expect(closed.code).toBe(1007);
    expect(closed.reason).toContain('60 ms');
  });
});

describe('the loa-live CLI', () => {
  const cli = (args: string[]) =>
    new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      const child = spawn(
        process.execPath,
        ['--conditions', 'source', '--import', 'tsx', 'controller/src/live/live-cli.ts', ...args],
        { cwd: repoRoot, env: { ...process.env, LOA_TOKEN: '' } },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      child.stderr.on('data', (d) => {
        err += d;
      });
      child.on('close', (code) => resolve({ code, out, err }));
    });

  it('pushes a WAV file live, paced in real time, and prints the session and what the receivers did', async () => {
    const token = await fx.token(official1);
    const wav = new wavefile.WaveFile();
    const tone = sine(440, 2, 22_050, 0.5, 2);
    const left = Array.from({ length: tone.length / 2 }, (_, i) => Math.round((tone[i * 2] as number) * 32767));
    wav.fromScratch(2, 22_050, '16', [left, left]);
    const file = join(dir, 'speech.wav');
    writeFileSync(file, wav.toBuffer());
    const startedAt = Date.now();
    const run = await cli([
      'push',
      file,
      '--areas',
      C1,
      '--url',
      fx.baseUrl(),
      '--token',
      token,
      '--prelude',
      'none',
      '--title',
      'CLI',
    ]);
    expect(run.code, run.err).toBe(0);
    expect(Date.now() - startedAt).toBeGreaterThan(3900); // 2 s lead + 2 s of audio
    const id = /session ([0-9a-f-]{36}) opened/.exec(run.out)?.[1] as string;
    expect(id).toBeDefined();
    expect(run.out).toContain('sent 2.0 / 2.0 s');
    expect(run.out).toContain(`session ${id} ended (speaker_closed); receivers: 10 missed`);
    const frames = audioPackets(id).flatMap((p) => p.packet.frames);
    expect(frames.length).toBeGreaterThanOrEqual(98);
    expect(frames.length).toBeLessThanOrEqual(101);
    expect(toneOf(decodeOpusFrames(frames).subarray(4800, 90_000)).hz).toBeCloseTo(440, -1);
    expect((await fx.db().liveSession.findUniqueOrThrow({ where: { id } })).title).toBe('CLI');
  }, 60_000);

  it('says clearly what is wrong: not a WAV, a bad token, no access', async () => {
    const notWav = join(dir, 'notes.txt');
    writeFileSync(notWav, 'not audio at all');
    const token = await fx.token(official2);
    const a = await cli(['push', notWav, '--areas', C2, '--url', fx.baseUrl(), '--token', token]);
    expect(a.code).toBe(1);
    expect(a.err).toContain('is not a WAV file');
    const wav = new wavefile.WaveFile();
    wav.fromScratch(1, 16_000, '16', new Array(1600).fill(0));
    const file = join(dir, 'short.wav');
    writeFileSync(file, wav.toBuffer());
    const b = await cli(['push', file, '--areas', C2, '--url', fx.baseUrl(), '--token', 'tok_wrong']);
    expect(b.code).toBe(1);
    expect(b.err).toContain('401');
    const c = await cli(['push', file, '--areas', C1, '--url', fx.baseUrl(), '--token', token]);
    expect(c.code).toBe(1);
    expect(c.err).toContain('not allowed (403)');
    const d = await cli(['push', file, '--url', fx.baseUrl(), '--token', token]);
    expect(d.code).toBe(2);
  }, 60_000);
});
