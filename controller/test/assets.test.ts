import { createHash, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileErrors, validate } from '@readme/openapi-parser';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchRange, parseContentRange } from '../../edge-agent/src/content/asset-fetch.js';
import { systemClock } from '../../edge-agent/src/hardware/system-clock.js';
import { MemoryStorage } from '../../edge-agent/src/store/memory-storage.js';
import { oggCrc32, oggOpusFile, sine } from '../../edge-agent/test/support/ogg-opus-fixture.js';
import { parseRange } from '../src/assets/asset-routes.js';
import { DiskAssetStore } from '../src/assets/asset-store.js';
import { probeOggOpus } from '../src/audio/decoding/ogg-opus-probe.js';
import { hashPassword } from '../src/auth/passwords.js';
import { loadControllerConfig } from '../src/config.js';
import { seedDemoProvince } from '../src/demo/seed.js';
import { buildApp } from '../src/http/app.js';
import { useFreshDatabase } from './support/database.js';

// Uploads (POST /assets: any audio, decoded and normalised by the audio pipeline) are
// tested with the upload routes; here assets are put in the store and the table directly,
// and what is tested is serving them, their record, the probe and the store.

const database = useFreshDatabase();
const PASSWORD = 'correct horse battery staple';
const USERS = ['admin', 'nobody'] as const;
type User = (typeof USERS)[number];

let app: FastifyInstance;
let redis: Redis;
let dir: string;
let store: DiskAssetStore;
const cookies = new Map<User, string>();

const sha = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const ONE_SECOND = oggOpusFile(sine(440, 1));

beforeAll(async () => {
  const db = database.db();
  await seedDemoProvince(db, { password: PASSWORD });
  // Signed in, but without any grant.
  await db.user.create({
    data: { username: 'nobody', displayName: 'Nobody', passwordHash: await hashPassword(PASSWORD) },
  });
  dir = await mkdtemp(join(tmpdir(), 'loa-assets-'));
  store = new DiskAssetStore(dir);
  redis = new Redis(loadControllerConfig().REDIS_URL, { maxRetriesPerRequest: 1 });
  // No audio pipeline: the asset routes serve downloads and records only.
  app = await buildApp({ db, redis, loginRateLimit: 100, rateLimitNamespace: `test-${randomUUID()}-`, assets: store });
  for (const username of USERS) {
    const response = await app.inject({
      method: 'POST',
      url: '/auth/login',
      payload: { username, password: PASSWORD },
    });
    expect(response.statusCode, response.body).toBe(200);
    const cookie = response.cookies.find((c) => c.name === 'loa_session');
    cookies.set(username, `loa_session=${cookie?.value}`);
  }
}, 60_000);

afterAll(async () => {
  await app?.close();
  redis?.disconnect();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/**
 * Puts an Ogg Opus file in the store and records it as an upload would have been
 * (the row the routes serve from), without the pipeline. Answers its SHA-256.
 */
async function storeAsset(bytes: Uint8Array): Promise<string> {
  const probe = probeOggOpus(bytes);
  if (!probe.ok) throw new Error(`test fixture is not Ogg Opus: ${probe.message}`);
  const sha256 = await store.put(bytes);
  expect(sha256).toBe(sha(bytes));
  await database.db().asset.create({
    data: {
      sha256,
      durationMs: probe.info.durationMs,
      bytes: bytes.length,
      format: 'ogg-opus',
      mime: 'audio/ogg; codecs=opus',
    },
  });
  return sha256;
}

// --- Ogg pages for hand-made files (the probe has its own CRC; this one is the writer's) ---
const crc32 = oggCrc32;
function oggPage(packet: Buffer, o: { seq: number; flags: number; granule?: bigint; serial?: number }): Buffer {
  const lacing: number[] = [];
  let left = packet.length;
  for (; left >= 255; left -= 255) lacing.push(255);
  lacing.push(left);
  const header = Buffer.alloc(27 + lacing.length);
  header.write('OggS', 0);
  header[5] = o.flags;
  header.writeBigInt64LE(o.granule ?? 0n, 6);
  header.writeUInt32LE(o.serial ?? 7, 14);
  header.writeUInt32LE(o.seq, 18);
  header[26] = lacing.length;
  Buffer.from(lacing).copy(header, 27);
  const page = Buffer.concat([header, packet]);
  page.writeUInt32LE(crc32(page), 22);
  return page;
}
/** Rewrites a page's CRC after a deliberate change. */
function fixCrc(page: Buffer): Buffer {
  const copy = Buffer.from(page);
  copy.writeUInt32LE(0, 22);
  copy.writeUInt32LE(crc32(copy), 22);
  return copy;
}
/** Splits a file into its pages (trusting the framing; only for well-formed test files). */
function pages(file: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < file.length; ) {
    const segments = file[at + 26] as number;
    let length = 27 + segments;
    for (let i = 0; i < segments; i++) length += file[at + 27 + i] as number;
    out.push(file.subarray(at, at + length));
    at += length;
  }
  return out;
}
const opusHead = () => {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0);
  head[8] = 1;
  head[9] = 1;
  head.writeUInt16LE(312, 10);
  head.writeUInt32LE(48000, 12);
  return head;
};
const opusTags = () =>
  Buffer.concat([Buffer.from('OpusTags'), Buffer.from([4, 0, 0, 0]), Buffer.from('test'), Buffer.alloc(4)]);

const VORBIS = Buffer.concat([
  oggPage(
    Buffer.concat([
      Buffer.from([1]),
      Buffer.from('vorbis'),
      Buffer.from([0, 0, 0, 0, 1, 0x80, 0xbb, 0, 0]),
      Buffer.alloc(14),
    ]),
    { seq: 0, flags: 2 },
  ),
  oggPage(Buffer.concat([Buffer.from([3]), Buffer.from('vorbis'), Buffer.alloc(20)]), { seq: 1, flags: 4 }),
]);
const HEADERS_ONLY = Buffer.concat([
  oggPage(opusHead(), { seq: 0, flags: 2 }),
  oggPage(opusTags(), { seq: 1, flags: 4 }),
]);

describe('GET /assets/{sha256}', () => {
  const hash = sha(ONE_SECOND);
  const size = ONE_SECOND.length;
  const get = (headers: Record<string, string> = {}, method: 'GET' | 'HEAD' = 'GET', id = hash) =>
    app.inject({ method, url: `/assets/${id}`, headers });

  beforeAll(async () => {
    await storeAsset(ONE_SECOND);
  });

  it('serves the whole file without a session, with caching headers', async () => {
    const response = await get();
    expect(response.statusCode).toBe(200);
    expect(response.rawPayload.equals(ONE_SECOND)).toBe(true);
    expect(response.headers).toMatchObject({
      'content-type': 'audio/ogg; codecs=opus',
      'content-length': String(size),
      'accept-ranges': 'bytes',
      etag: `"${hash}"`,
      'cache-control': 'public, max-age=31536000, immutable',
    });
    expect(response.headers['content-range']).toBeUndefined();
    // A hex name in capitals is the same file.
    expect((await get({}, 'GET', hash.toUpperCase())).rawPayload.equals(ONE_SECOND)).toBe(true);
  });

  it('serves byte ranges: the first bytes, a suffix, an open end, an end past the file', async () => {
    const cases: Array<[string, number, number]> = [
      ['bytes=0-99', 0, 99],
      ['bytes=-100', size - 100, size - 1],
      ['bytes=1000-', 1000, size - 1],
      [`bytes=${size - 1}-`, size - 1, size - 1],
      ['bytes=10-999999', 10, size - 1],
      ['bytes=-999999', 0, size - 1],
      ['bytes=0-0', 0, 0],
    ];
    for (const [range, start, end] of cases) {
      const response = await get({ range });
      expect(response.statusCode, range).toBe(206);
      expect(response.headers['content-range'], range).toBe(`bytes ${start}-${end}/${size}`);
      expect(response.headers['content-length'], range).toBe(String(end - start + 1));
      expect(response.headers.etag).toBe(`"${hash}"`);
      expect(response.rawPayload.equals(ONE_SECOND.subarray(start, end + 1)), range).toBe(true);
    }
  });

  it('answers 416 with Content-Range bytes */size for a range outside the file', async () => {
    for (const range of [`bytes=${size}-`, `bytes=${size + 10}-${size + 20}`, 'bytes=-0']) {
      const response = await get({ range });
      expect(response.statusCode, range).toBe(416);
      expect(response.headers['content-range']).toBe(`bytes */${size}`);
      expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect((response.json() as { detail: string }).detail).toContain(`outside the file's ${size} bytes`);
    }
  });

  it('sends the whole file for a malformed or multi-range Range, or an If-Range of another version', async () => {
    for (const headers of [
      { range: 'bytes=50-10' },
      { range: 'bytes=0-1,5-6' },
      { range: 'items=0-10' },
      { range: 'bytes=0-10', 'if-range': '"0000"' },
      { range: 'bytes=0-10', 'if-range': 'Wed, 21 Oct 2015 07:28:00 GMT' },
    ] as Array<Record<string, string>>) {
      const response = await get(headers);
      expect(response.statusCode, JSON.stringify(headers)).toBe(200);
      expect(response.rawPayload.equals(ONE_SECOND)).toBe(true);
    }
    const current = await get({ range: 'bytes=0-10', 'if-range': `"${hash}"` });
    expect(current.statusCode).toBe(206);
  });

  it('answers 304 to If-None-Match naming the file', async () => {
    for (const tag of [`"${hash}"`, `W/"${hash}"`, `"other", "${hash}"`, '*']) {
      const response = await get({ 'if-none-match': tag });
      expect(response.statusCode, tag).toBe(304);
      expect(response.rawPayload.length).toBe(0);
      expect(response.headers.etag).toBe(`"${hash}"`);
      expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    }
    expect((await get({ 'if-none-match': '"other"' })).statusCode).toBe(200);
  });

  it('answers HEAD with the headers only', async () => {
    const whole = await get({}, 'HEAD');
    expect(whole.statusCode).toBe(200);
    expect(whole.rawPayload.length).toBe(0);
    expect(whole.headers).toMatchObject({
      'content-length': String(size),
      etag: `"${hash}"`,
      'accept-ranges': 'bytes',
    });
    const part = await get({ range: 'bytes=-10' }, 'HEAD');
    expect(part.statusCode).toBe(206);
    expect(part.headers).toMatchObject({
      'content-length': '10',
      'content-range': `bytes ${size - 10}-${size - 1}/${size}`,
    });
  });

  it('answers 400 for a malformed SHA-256 and 404 for an unknown one', async () => {
    for (const bad of ['abc', 'z'.repeat(64), `${hash}0`, '..%2f..%2fetc%2fpasswd']) {
      const response = await get({}, 'GET', bad);
      expect(response.statusCode, bad).toBe(400);
      expect((response.json() as { detail: string }).detail).toContain('64 hex digits');
    }
    const unknown = await get({}, 'GET', 'ab'.repeat(32));
    expect(unknown.statusCode).toBe(404);
    expect((unknown.json() as { detail: string }).detail).toContain('upload the recording with POST /assets');
    expect((await get({}, 'HEAD', 'ab'.repeat(32))).statusCode).toBe(404);
  });

  it('answers 404 (not 500) when a recorded file is missing from the store', async () => {
    const file = oggOpusFile(sine(880, 0.3));
    const recorded = await storeAsset(file);
    expect((await get({}, 'GET', recorded)).statusCode).toBe(200);
    expect(await store.delete(recorded)).toBe(true);
    for (const method of ['GET', 'HEAD'] as const) {
      const response = await get({}, method, recorded);
      expect(response.statusCode, method).toBe(404);
      if (method === 'GET') expect((response.json() as { detail: string }).detail).toContain('its file is missing');
    }
  });

  it('serves any range exactly (property)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(size + 50), fc.nat(size + 50), fc.boolean(), async (a, b, suffix) => {
        const range = suffix ? `bytes=-${a}` : `bytes=${Math.min(a, b)}-${Math.max(a, b)}`;
        const response = await get({ range });
        const expected = parseRange(range, size);
        if (expected === 'unsatisfiable') return response.statusCode === 416;
        if (!expected) return false;
        return (
          response.statusCode === 206 &&
          response.rawPayload.equals(ONE_SECOND.subarray(expected.start, expected.end + 1)) &&
          response.headers['content-range'] === `bytes ${expected.start}-${expected.end}/${size}`
        );
      }),
      { numRuns: 60 },
    );
  });
});

describe('GET /assets/{sha256}/info', () => {
  it('answers the asset record to signed-in users', async () => {
    const file = oggOpusFile(sine(600, 0.7));
    const hash = await storeAsset(file);
    const row = await database.db().asset.findUniqueOrThrow({ where: { sha256: hash } });
    const response = await app.inject({
      url: `/assets/${hash.toUpperCase()}/info`,
      headers: { cookie: cookies.get('nobody') as string },
    });
    expect(response.statusCode, response.body).toBe(200);
    expect(response.json()).toEqual({
      sha256: hash,
      url: `/assets/${hash}`,
      durationMs: row.durationMs,
      bytes: file.length,
      format: 'ogg-opus',
      mime: 'audio/ogg; codecs=opus',
      loudnessLufs: null,
      truePeakDbtp: null,
      origin: 'upload',
      source: null,
      processing: null,
      createdAt: row.createdAt.toISOString(),
    });
    expect(Math.abs(row.durationMs - 700)).toBeLessThanOrEqual(20);
    expect((await app.inject({ url: `/assets/${hash}/info` })).statusCode).toBe(401);
    const unknown = await app.inject({
      url: `/assets/${'cd'.repeat(32)}/info`,
      headers: { cookie: cookies.get('admin') as string },
    });
    expect(unknown.statusCode).toBe(404);
    const malformed = await app.inject({
      url: '/assets/not-a-hash/info',
      headers: { cookie: cookies.get('admin') as string },
    });
    expect(malformed.statusCode).toBe(400);
    expect((malformed.json() as { detail: string }).detail).toContain('64 hex digits');
  });
});

describe('receivers downloading over HTTP', () => {
  let base: string;
  let server: FastifyInstance;
  const file = oggOpusFile(sine(440, 20));
  const hash = sha(file);

  beforeAll(async () => {
    server = await buildApp({ db: database.db(), redis, rateLimitNamespace: `test-${randomUUID()}-`, assets: store });
    await storeAsset(file);
    base = await server.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('resumes a download cut off part way with Range: bytes=<have>-', async () => {
    // A first attempt that gets some of the file and is cut off.
    const aborter = new AbortController();
    const first = await fetch(`${base}/assets/${hash}`, {
      headers: { 'accept-encoding': 'identity' },
      signal: aborter.signal,
    });
    expect(first.status).toBe(200);
    const reader = (first.body as ReadableStream<Uint8Array>).getReader();
    const chunk = (await reader.read()).value as Uint8Array;
    aborter.abort();
    await reader.cancel().catch(() => {});
    // Keep less than the whole file even if the first chunk was all of it.
    const have = Math.min(chunk.length, Math.floor(file.length / 3));
    const kept = Buffer.from(chunk.subarray(0, have));
    const rest = await fetch(`${base}/assets/${hash}`, {
      headers: { 'accept-encoding': 'identity', range: `bytes=${have}-` },
    });
    expect(rest.status).toBe(206);
    expect(parseContentRange(rest.headers.get('content-range'))).toEqual({ start: have, total: file.length });
    expect(rest.headers.get('content-length')).toBe(String(file.length - have));
    const whole = Buffer.concat([kept, Buffer.from(await rest.arrayBuffer())]);
    expect(sha(whole)).toBe(hash);
    // Asking beyond the end, as an agent whose partial file is too long would: 416.
    const beyond = await fetch(`${base}/assets/${hash}`, { headers: { range: `bytes=${file.length}-` } });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('content-range')).toBe(`bytes */${file.length}`);
  });

  it("completes a partial file with the edge agent's own downloader", async () => {
    const storage = new MemoryStorage();
    const have = 12_345;
    await storage.append('part', file.subarray(0, have));
    await fetchRange({
      url: new URL(`/assets/${hash}`, base),
      headers: () => ({}),
      have,
      bytes: file.length,
      storage,
      part: 'part',
      clock: systemClock,
      stallMs: 10_000,
      fetch,
      signal: new AbortController().signal,
    });
    expect(sha((await storage.read('part')) as Buffer)).toBe(hash);
  });
});

describe('Ogg Opus probe', () => {
  it('measures real files made by libopus', () => {
    for (const seconds of [0.02, 0.5, 1, 3.7]) {
      const result = probeOggOpus(oggOpusFile(sine(440, seconds)));
      expect(result.ok, JSON.stringify(result)).toBe(true);
      if (result.ok) {
        expect(Math.abs(result.info.durationMs - seconds * 1000)).toBeLessThanOrEqual(20);
        expect(result.info).toMatchObject({ channels: 1, preSkip: 312, mappingFamily: 0, vendor: 'test' });
      }
    }
  });

  it('names each problem', () => {
    // Pages gather about a second of packets: three seconds make several audio pages.
    const [head, tags, ...audio] = pages(oggOpusFile(sine(440, 3))) as [Buffer, Buffer, ...Buffer[]];
    expect(audio.length).toBeGreaterThanOrEqual(3);
    const other = (page: Buffer, serial: number) => {
      const copy = Buffer.from(page);
      copy.writeUInt32LE(serial, 14);
      return fixCrc(copy);
    };
    const bos = (page: Buffer) => {
      const copy = Buffer.from(page);
      copy[5] = (copy[5] as number) | 2;
      return fixCrc(copy);
    };
    const headWith = (change: (h: Buffer) => void) => {
      const h = opusHead();
      change(h);
      return Buffer.concat([oggPage(h, { seq: 0, flags: 2, serial: 0x4c4f4121 }), ...pages(ONE_SECOND).slice(1)]);
    };
    const cases: Array<[Uint8Array, string, RegExp]> = [
      [Buffer.from([]), 'empty', /empty/],
      [Buffer.concat([Buffer.from('RIFF\0\0\0\0WAVE'), Buffer.alloc(40)]), 'not-ogg', /^this is a WAV file;/],
      [Buffer.from([0xff, 0xfb, 0x90, 0x64, 0, 0]), 'not-ogg', /MP3/],
      [Buffer.from('{"title": "not audio"}'), 'not-ogg', /JSON/],
      [VORBIS, 'not-opus', /Ogg Vorbis/],
      [
        Buffer.concat([head, tags, ...audio.slice(0, 1), ...audio.slice(2)]),
        'corrupt',
        /sequence number .* pages are missing/,
      ],
      [Buffer.concat([head, other(tags, 99), ...audio]), 'corrupt', /another stream/],
      [Buffer.concat([head, bos(other(tags, 99)), ...audio]), 'multiple-streams', /several streams/],
      [Buffer.concat([head, bos(tags), ...audio]), 'corrupt', /beginning-of-stream again/],
      [Buffer.concat([ONE_SECOND, ONE_SECOND]), 'multiple-streams', /chained/],
      [Buffer.concat([ONE_SECOND, Buffer.from('trailing junk')]), 'corrupt', /follow the end-of-stream page/],
      [
        Buffer.concat([
          oggPage(opusHead(), { seq: 0, flags: 2 }),
          oggPage(Buffer.from('OpusTagz....'), { seq: 1, flags: 4 }),
        ]),
        'corrupt',
        /not the OpusTags header/,
      ],
      [headWith((h) => h.writeUInt8(2, 18)), 'unsupported', /mapping family 2/],
      [headWith((h) => h.writeUInt8(0x10, 8)), 'unsupported', /OpusHead version 16/],
      [headWith((h) => h.writeUInt16LE(60_000, 10)), 'zero-duration', /pre-skip/],
      [HEADERS_ONLY, 'zero-duration', /no audio/],
      [ONE_SECOND.subarray(0, ONE_SECOND.length - 1), 'truncated', /cut short/],
    ];
    for (const [bytes, reason, message] of cases) {
      const result = probeOggOpus(bytes);
      expect(result.ok, `${reason} ${message}`).toBe(false);
      if (!result.ok) {
        expect(result.reason, result.message).toBe(reason);
        expect(result.message).toMatch(message);
      }
    }
    // A granule position claiming far more audio than the packets hold.
    const last = Buffer.from(audio[audio.length - 1] as Buffer);
    last.writeBigInt64LE(48_000n * 3600n, 6);
    const lying = probeOggOpus(Buffer.concat([head, tags, ...audio.slice(0, -1), fixCrc(last)]));
    expect(lying).toMatchObject({ ok: false, reason: 'corrupt' });
    // The limit is inclusive: a file as long as the limit is taken, a millisecond less refuses it.
    const measured = probeOggOpus(ONE_SECOND);
    if (!measured.ok) throw new Error(measured.message);
    const { durationMs } = measured.info;
    expect(probeOggOpus(ONE_SECOND, { maxDurationMs: durationMs - 1 })).toMatchObject({
      ok: false,
      reason: 'too-long',
    });
    expect(probeOggOpus(ONE_SECOND, { maxDurationMs: durationMs }).ok).toBe(true);
  });

  it('answers any bytes without throwing (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const result = probeOggOpus(bytes);
        return result.ok === false && result.message.length > 0;
      }),
      { numRuns: 500 },
    );
    // Random bytes behind a real Ogg capture pattern and header.
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1024 }), (tail) => {
        const result = probeOggOpus(Buffer.concat([ONE_SECOND.subarray(0, 28), tail]));
        return result.ok === false;
      }),
      { numRuns: 300 },
    );
  });

  it('refuses every change of one byte, and any truncation (property)', () => {
    fc.assert(
      fc.property(fc.nat(ONE_SECOND.length - 1), fc.integer({ min: 1, max: 255 }), (at, xor) => {
        const changed = Buffer.from(ONE_SECOND);
        changed[at] = (changed[at] as number) ^ xor;
        return probeOggOpus(changed).ok === false;
      }),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.nat(ONE_SECOND.length - 1), (length) => probeOggOpus(ONE_SECOND.subarray(0, length)).ok === false),
      { numRuns: 300 },
    );
  });
});

describe('disk asset store', () => {
  it('keeps an identical file, replaces a damaged one, reads ranges, deletes', async () => {
    const local = new DiskAssetStore(await mkdtemp(join(tmpdir(), 'loa-store-')));
    const bytes = Buffer.from('some bytes of audio');
    const hash = await local.put(bytes);
    expect(hash).toBe(sha(bytes));
    const path = join(local.dir, hash.slice(0, 2), hash);
    const first = await stat(path);
    expect(await local.put(bytes)).toBe(hash);
    expect((await stat(path)).ino).toBe(first.ino);
    // Damaged on disk (same length): the next put writes it again.
    await writeFile(path, Buffer.from('some bytes of AUDIO'));
    await local.put(bytes);
    expect((await readFile(path)).equals(bytes)).toBe(true);
    expect(await local.size(hash)).toBe(bytes.length);
    const part = await local.createReadStream(hash, { start: 5, end: 9 });
    const chunks: Buffer[] = [];
    for await (const c of part ?? []) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('bytes');
    expect(await local.createReadStream('00'.repeat(32))).toBeUndefined();
    expect(await local.delete(hash)).toBe(true);
    expect(await local.delete(hash)).toBe(false);
    expect(await local.has(hash)).toBe(false);
    await rm(local.dir, { recursive: true, force: true });
  });

  it('refuses names that are not a SHA-256, so nothing outside the store is reached', async () => {
    for (const name of ['../../etc/passwd', 'AB'.repeat(32), '', 'ab']) {
      await expect(store.size(name)).rejects.toThrow(/not a SHA-256/);
      await expect(store.createReadStream(name)).rejects.toThrow(/not a SHA-256/);
      await expect(store.delete(name)).rejects.toThrow(/not a SHA-256/);
    }
  });

  it('stores concurrent puts of the same bytes once, and removes old temporary files', async () => {
    const local = new DiskAssetStore(await mkdtemp(join(tmpdir(), 'loa-store-')));
    const bytes = Buffer.alloc(300_000, 7);
    const hashes = await Promise.all(Array.from({ length: 5 }, () => local.put(bytes)));
    expect(new Set(hashes).size).toBe(1);
    const shard = join(local.dir, (hashes[0] as string).slice(0, 2));
    expect(await readdir(shard)).toEqual([hashes[0]]);
    // A crash between write and rename leaves a temporary file behind.
    await mkdir(shard, { recursive: true });
    const leftover = join(shard, `.${hashes[0]}.abcdef.tmp`);
    await writeFile(leftover, 'partial');
    expect(await local.removeTemporaryFiles()).toBe(0);
    const old = new Date(Date.now() - 2 * 3600_000);
    await utimes(leftover, old, old);
    expect(await local.removeTemporaryFiles()).toBe(1);
    expect(await readdir(shard)).toEqual([hashes[0]]);
    await rm(local.dir, { recursive: true, force: true });
  });
});

describe('OpenAPI', () => {
  it('documents the asset routes', async () => {
    const document = app.swagger() as {
      paths: Record<
        string,
        Record<string, { summary?: string; tags?: string[]; responses?: Record<string, unknown>; security?: unknown[] }>
      >;
    };
    const result = await validate(structuredClone(document) as Parameters<typeof validate>[0]);
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    for (const [path, method] of [
      ['/assets/{sha256}', 'get'],
      ['/assets/{sha256}', 'head'],
      ['/assets/{sha256}/info', 'get'],
    ] as const) {
      const operation = document.paths[path]?.[method];
      expect(operation?.summary, `${method} ${path}`).toBeTruthy();
      expect(operation?.tags, `${method} ${path}`).toEqual(['assets']);
    }
    expect(document.paths['/assets/{sha256}']?.get?.security).toEqual([]);
    expect(Object.keys(document.paths['/assets/{sha256}']?.get?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '206', '304', '400', '404', '416']),
    );
    // Without the audio pipeline there is no upload route, documented or served.
    expect(document.paths['/assets']).toBeUndefined();
    const upload = await app.inject({
      method: 'POST',
      url: '/assets',
      headers: { cookie: cookies.get('admin') as string, 'content-type': 'audio/ogg' },
      payload: ONE_SECOND,
    });
    expect(upload.statusCode, upload.body).toBe(404);
  });
});
