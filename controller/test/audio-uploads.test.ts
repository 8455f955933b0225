import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SIREN_MS, TONE_NAMES } from '@loa/protocols';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { OggOpusDecoder } from 'ogg-opus-decoder';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { DiskAssetStore } from '../src/assets/asset-store.js';
import { AudioServices } from '../src/audio/audio-services.js';
import { hashPassword } from '../src/auth/passwords.js';
import { loadControllerConfig } from '../src/config.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { buildApp } from '../src/http/app.js';
import { EventBus } from '../src/live-events/event-bus.js';
import { EspeakNgEngine } from '../src/speech/espeak-ng-engine.js';
import { type SpeechEngine, TransientSpeechError } from '../src/speech/speech-engine.js';
import { AudioFixtures, speechLike, wavBytes } from './support/audio-fixtures.js';
import { useFreshDatabase } from './support/database.js';

const database = useFreshDatabase();
const PASSWORD = 'correct horse battery staple';
const fixtures = new AudioFixtures();
const SMALL_LIMIT = 20_000;

/** espeak-ng, failing the first call for a text that says so, as a busy engine would: the job must retry. */
class FlakyEngine implements SpeechEngine {
  readonly id = 'flaky-espeak';
  readonly calls = new Map<string, number>();
  readonly #espeak = new EspeakNgEngine();
  voiceFor = (language: Parameters<SpeechEngine['voiceFor']>[0]) => this.#espeak.voiceFor(language);
  async synthesise(text: string, voice: string) {
    const calls = (this.calls.get(text) ?? 0) + 1;
    this.calls.set(text, calls);
    if (text.includes('máy bận') && calls === 1) throw new TransientSpeechError('engine busy');
    return this.#espeak.synthesise(text, voice);
  }
}

let app: FastifyInstance;
let small: FastifyInstance;
let base: string;
let redis: Redis;
let bus: EventBus;
let audio: AudioServices;
let assetDir: string;
const engine = new FlakyEngine();
const changed: string[] = [];
const cookies = new Map<string, string>();
let wav: Buffer;
let mp3: Buffer;

beforeAll(async () => {
  const db = database.db();
  await seedDemoProvince(db, { password: PASSWORD });
  await db.user.create({
    data: { username: 'nobody', displayName: 'Nobody', passwordHash: await hashPassword(PASSWORD) },
  });
  const config = loadControllerConfig();
  assetDir = mkdtempSync(join(tmpdir(), 'loa-audio-assets-'));
  const store = new DiskAssetStore(assetDir);
  redis = new Redis(config.REDIS_URL, { maxRetriesPerRequest: 1 });
  bus = new EventBus(config.REDIS_URL, `test-events-${randomUUID()}`);
  await bus.ready();
  audio = new AudioServices(
    db,
    store,
    { ...config, ASSET_DIR: assetDir, QUEUE_PREFIX: `test-${randomUUID()}` },
    engine,
  );
  await audio.start({
    onContentChanged: async (id) => {
      changed.push(id);
    },
    onJob: (job, actor) =>
      void bus.publish({ type: 'audio.job', userId: actor?.userId ?? null, job, at: new Date().toISOString() }),
  });
  const common = {
    db,
    redis,
    loginRateLimit: 100,
    rateLimitNamespace: `test-${randomUUID()}-`,
    assets: store,
    audio,
    bus,
  };
  app = await buildApp(common);
  small = await buildApp({ ...common, assetMaxBytes: SMALL_LIMIT });
  base = (await app.listen({ host: '127.0.0.1', port: 0 })).replace('http', 'ws');
  for (const username of ['official-02680', 'admin', 'nobody']) {
    const response = await app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username, password: PASSWORD },
    });
    cookies.set(username, `loa_session=${response.cookies.find((c) => c.name === 'loa_session')?.value}`);
  }
  wav = wavBytes(speechLike(3, 44_100, 0.05), 44_100);
  mp3 = await readFile(fixtures.convert(fixtures.file('voice.wav', wav), 'mp3'));
}, 120_000);

afterAll(async () => {
  await app?.close();
  await small?.close();
  await audio?.close();
  await bus?.close();
  redis?.disconnect();
  if (assetDir) await rm(assetDir, { recursive: true, force: true });
});

const multipart = (file: Buffer, filename: string, type: string) => {
  const boundary = `----loa${randomUUID()}`;
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`,
    ),
    file,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, type: `multipart/form-data; boundary=${boundary}` };
};

function post(url: string, payload: Buffer, type: string, { user = 'official-02680', wait = true, target = app } = {}) {
  return target.inject({
    method: 'POST',
    url,
    headers: {
      'content-type': type,
      ...(user ? { cookie: cookies.get(user) as string } : {}),
      ...(wait ? { prefer: 'wait=60' } : {}),
    },
    payload,
  });
}

/** Uploads waiting on disk (speech being made has files there too, not counted). */
const incoming = async () => (await readdir(join(assetDir, 'incoming'))).filter((f) => f.startsWith('upload-'));

async function decodes(sha256: string) {
  const file = await readFile(join(assetDir, sha256.slice(0, 2), sha256));
  const decoder = new OggOpusDecoder();
  await decoder.ready;
  const out = await decoder.decodeFile(file);
  decoder.free();
  return out.samplesDecoded / 48;
}

describe('POST /assets', () => {
  it('takes an MP3 as a form upload and answers the normalised Opus asset once made (Prefer: wait)', async () => {
    const form = multipart(mp3, 'tin-tuc.mp3', 'audio/mpeg');
    const response = await post('/assets', form.body, form.type);
    expect(response.statusCode, response.body).toBe(201);
    const asset = response.json();
    expect(asset).toMatchObject({
      format: 'ogg-opus',
      mime: 'audio/ogg; codecs=opus',
      origin: 'upload',
      source: { format: 'mp3', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      processing: expect.stringContaining('-16LUFS'),
      job: { state: 'completed', progress: 1 },
    });
    expect(Math.abs(asset.loudnessLufs - -16)).toBeLessThanOrEqual(1);
    expect(asset.truePeakDbtp).toBeLessThanOrEqual(0.5); // as decoded: the ceiling binds before the codec
    expect(asset.source.loudnessLufs).toBeLessThan(-25);
    expect(Math.abs(asset.durationMs - 3000)).toBeLessThan(80);
    expect(response.headers.location).toBe(`/assets/${asset.sha256}`);
    expect(Math.abs((await decodes(asset.sha256)) - 3000)).toBeLessThan(80);
    const served = await app.inject({ url: `/assets/${asset.sha256}` });
    expect(served.statusCode).toBe(200);
    expect(served.headers['content-type']).toBe('audio/ogg; codecs=opus');
    expect(await database.db().auditLog.count({ where: { entity: 'asset', entityId: asset.sha256 } })).toBe(1);
    expect(await incoming()).toEqual([]);

    // The same file again is answered at once, with no job.
    const again = await post('/assets', form.body, form.type, { wait: false });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ sha256: asset.sha256, job: null });
  });

  it('takes raw WAV bytes, answers 202 with the job and streams its progress over the WebSocket', async () => {
    const socket = new WebSocket(`${base}/events`, { headers: { cookie: cookies.get('official-02680') as string } });
    const events: { type: string; job?: { id: string; state: string; progress: number; stage: string | null } }[] = [];
    socket.on('message', (data) => events.push(JSON.parse(String(data))));
    await new Promise((resolve) => socket.once('open', resolve));
    const long = wavBytes(speechLike(20, 48_000, 0.2));
    const response = await post('/assets', long, 'audio/wav', { wait: false });
    expect(response.statusCode, response.body).toBe(202);
    const { job } = response.json();
    expect(job).toMatchObject({ kind: 'upload', state: expect.stringMatching(/^(queued|active)$/) });
    expect(response.headers.location).toBe(`/audio-jobs/${job.id}`);
    let view = job;
    for (let i = 0; i < 300 && !['completed', 'refused', 'failed'].includes(view.state); i++) {
      await new Promise((r) => setTimeout(r, 100));
      view = (
        await app.inject({ url: `/audio-jobs/${job.id}`, headers: { cookie: cookies.get('official-02680') as string } })
      ).json();
    }
    expect(view).toMatchObject({ state: 'completed', progress: 1, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    await new Promise((r) => setTimeout(r, 300));
    socket.close();
    const mine = events
      .filter((e) => e.type === 'audio.job' && e.job?.id === job.id)
      .map((e) => e.job as NonNullable<(typeof events)[0]['job']>);
    expect(mine.at(-1)).toMatchObject({ state: 'completed', progress: 1 });
    const active = mine.filter((j) => j.state === 'active');
    expect(active.some((j) => j.stage === 'measuring')).toBe(true);
    expect(active.some((j) => j.stage === 'encoding' && j.progress > 0 && j.progress < 1)).toBe(true);
    // Someone else may not watch it.
    const other = await app.inject({
      url: `/audio-jobs/${job.id}`,
      headers: { cookie: cookies.get('admin') as string },
    });
    expect(other.statusCode).toBe(404);
  });

  it('refuses a disguised file with 422 naming the problem, keeping nothing', async () => {
    const png = Buffer.concat([Buffer.from([0x89]), Buffer.from('PNG\r\n\x1a\n'), Buffer.alloc(500, 1)]);
    const form = multipart(png, 'thong-bao.mp3', 'audio/mpeg');
    const response = await post('/assets', form.body, form.type);
    expect(response.statusCode, response.body).toBe(422);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.json()).toMatchObject({
      reason: 'disguised',
      detail: expect.stringMatching(/sent as audio\/mpeg but is a PNG image.*renaming a file does not convert it/),
      job: { state: 'refused', reason: 'disguised', attempts: 1 },
    });
    expect(await incoming()).toEqual([]);
  });

  it('refuses a silent recording, an empty body, and a wrong type', async () => {
    const silent = await post('/assets', wavBytes(new Float32Array(48_000 * 2)), 'audio/wav');
    expect(silent.statusCode).toBe(422);
    expect(silent.json().reason).toBe('silent');
    const empty = await post('/assets', Buffer.alloc(0), 'audio/wav');
    expect(empty.statusCode).toBe(422);
    expect(empty.json()).toMatchObject({ reason: 'empty' });
    const text = await post('/assets', Buffer.from('hello'), 'text/plain');
    expect(text.statusCode).toBe(415);
    expect(text.json().detail).toMatch(/multipart\/form-data/);
    expect(await incoming()).toEqual([]);
  });

  it('refuses a file over the size limit with 413, raw or in a form, keeping nothing', async () => {
    const big = wavBytes(speechLike(1, 48_000, 0.1)); // 96 kB > 20 kB
    const raw = await post('/assets', big, 'audio/wav', { target: small });
    expect(raw.statusCode).toBe(413);
    expect(raw.json().detail).toMatch(/larger than 20000 bytes/);
    const form = multipart(big, 'big.wav', 'audio/wav');
    expect((await post('/assets', form.body, form.type, { target: small })).statusCode).toBe(413);
    expect(await incoming()).toEqual([]);
  });

  it('refuses uploads without a session (401) or without any grant (403)', async () => {
    expect((await post('/assets', wav, 'audio/wav', { user: '' })).statusCode).toBe(401);
    expect((await post('/assets', wav, 'audio/wav', { user: 'nobody' })).statusCode).toBe(403);
  });
});

describe('POST /recordings', () => {
  it('takes a browser recording (WebM/Opus) for a variant no engine speaks, and refuses other types', async () => {
    const webm = await readFile(fixtures.convert(fixtures.file('hmong.wav', wav), 'webm'));
    const response = await post('/recordings', webm, 'audio/webm;codecs=opus');
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ origin: 'recording', source: { format: 'webm' } });
    const mp3Recording = await post('/recordings', mp3, 'audio/mpeg');
    expect(mp3Recording.statusCode).toBe(415);
  });
});

describe('speech', () => {
  const speak = (language: string, text: string) =>
    app.inject({
      method: 'POST',
      url: '/speech/preview',
      headers: { cookie: cookies.get('official-02680') as string, prefer: 'wait=60' },
      payload: { language, text },
    });

  it('reads numbers, dates and times out in Vietnamese', async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/speech/reading',
      headers: { cookie: cookies.get('official-02680') as string },
      payload: { language: 'vie', text: 'Họp lúc 14:30 ngày 05/04/2026 tại phòng 2.' },
    });
    expect(response.json()).toEqual({
      reading:
        'Họp lúc mười bốn giờ ba mươi phút ngày mùng năm tháng tư năm hai nghìn không trăm hai mươi sáu tại phòng hai.',
      voice: 'vi',
    });
  });

  it('synthesises Vietnamese (retrying a busy engine), normalised, and caches it', async () => {
    const text = 'Thông báo lịch tiêm chủng, máy bận lần đầu.';
    const response = await speak('vie', text);
    expect(response.statusCode, response.body).toBe(201);
    const asset = response.json();
    expect(asset).toMatchObject({ origin: 'speech', job: { state: 'completed', attempts: 2 } });
    expect(engine.calls.get(text)).toBe(2);
    expect(Math.abs(asset.loudnessLufs - -16)).toBeLessThanOrEqual(1);
    expect(await decodes(asset.sha256)).toBeGreaterThan(800);
    const cached = await database.db().speechCache.findMany({ where: { assetSha256: asset.sha256 } });
    expect(cached).toHaveLength(1);
    expect(cached[0]).toMatchObject({ engine: 'flaky-espeak', voice: 'vi' });
  });

  it('refuses a language no engine speaks with 422 no-speech-engine', async () => {
    const response = await speak('hmn', 'Nyob zoo');
    expect(response.statusCode).toBe(422);
    expect(response.json()).toMatchObject({ reason: 'no-speech-engine', detail: expect.stringMatching(/record/) });
  });

  it("gives a text variant its speech on its own, and says the content's audio changed", async () => {
    const response = await app.inject({
      method: 'POST',
      url: '/content',
      headers: { cookie: cookies.get('official-02680') as string },
      payload: {
        title: 'Lịch họp thôn',
        category: 'notice',
        ownerArea: '02680',
        variants: [
          { language: 'vie', text: 'Họp thôn lúc 19:30 tối thứ 6.' },
          { language: 'hmn', text: 'Tsis muaj suab' },
        ],
      },
    });
    expect(response.statusCode, response.body).toBe(201);
    const id = response.json().id as string;
    const db = database.db();
    let vie = null;
    for (let i = 0; i < 200 && !vie?.assetSha256; i++) {
      await new Promise((r) => setTimeout(r, 100));
      vie = await db.contentVariant.findFirst({ where: { contentId: id, language: 'vie' } });
    }
    expect(vie?.assetSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(changed).toContain(id);
    const hmn = await db.contentVariant.findFirst({ where: { contentId: id, language: 'hmn' } });
    expect(hmn?.assetSha256).toBeNull(); // no engine speaks it: recorded instead
    // Saving the same words again keeps the speech (no gap without audio).
    const current = await app.inject({
      url: `/content/${id}`,
      headers: { cookie: cookies.get('official-02680') as string },
    });
    const patched = await app.inject({
      method: 'PATCH',
      url: `/content/${id}`,
      headers: { cookie: cookies.get('official-02680') as string, 'if-match': current.headers.etag as string },
      payload: { title: 'Lịch họp thôn (sửa)', variants: [{ language: 'vie', text: 'Họp thôn lúc 19:30 tối thứ 6.' }] },
    });
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json().variants[0].asset.sha256).toBe(vie?.assetSha256);
  });
});

describe('tones', () => {
  it('stores the chime and the five sirens as ordinary, normalised assets at start-up', async () => {
    const response = await app.inject({ url: '/tones', headers: { cookie: cookies.get('official-02680') as string } });
    expect(response.statusCode).toBe(200);
    const tones = response.json() as {
      name: string;
      asset: { sha256: string; durationMs: number; loudnessLufs: number; origin: string };
    }[];
    expect(tones.map((t) => t.name).sort()).toEqual([...TONE_NAMES].sort());
    for (const tone of tones) {
      expect(tone.asset.origin).toBe('tone');
      expect(Math.abs(tone.asset.loudnessLufs - -16)).toBeLessThanOrEqual(1);
      const expected = tone.name === 'chime' ? 1500 : SIREN_MS[Number(tone.name.slice(-1)) as 1 | 2 | 3 | 4 | 5];
      expect(Math.abs(tone.asset.durationMs - expected)).toBeLessThan(30);
      expect(Math.abs((await decodes(tone.asset.sha256)) - expected)).toBeLessThan(30);
    }
  });
});
