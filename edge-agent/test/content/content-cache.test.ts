import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AssetRef } from '@loa/protocols';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CacheReport, ContentCache } from '../../src/content/content-cache.js';
import { systemClock } from '../../src/hardware/system-clock.js';
import { MemoryStorage } from '../../src/store/memory-storage.js';

const files = new Map<string, Buffer>();
/** What the server does next for a file: cut after N bytes, serve corrupt bytes, ignore Range. */
const misbehave = new Map<string, 'cut' | 'corrupt' | 'ignore-range'>();
let served = 0;
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const sha = request.url?.split('/').pop() ?? '';
    const data = files.get(sha);
    if (!data) return void response.writeHead(404).end();
    const trick = misbehave.get(sha);
    misbehave.delete(sha);
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    let body = data;
    if (range && trick !== 'ignore-range') {
      body = data.subarray(Number(range[1]));
      response.writeHead(206, { 'content-range': `bytes ${range[1]}-${data.length - 1}/${data.length}` });
    } else response.writeHead(200, { 'content-length': data.length });
    if (trick === 'corrupt') body = Buffer.from(body.map((b, i) => (i === 7 ? b ^ 0xff : b)));
    if (trick === 'cut') {
      const half = body.subarray(0, Math.floor(body.length / 2));
      served += half.length;
      response.write(half, () => response.destroy());
      return;
    }
    served += body.length;
    response.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function asset(bytes = 50_000): AssetRef {
  const data = randomBytes(bytes);
  const sha256 = createHash('sha256').update(data).digest('hex');
  files.set(sha256, data);
  return { sha256, url: `/assets/${sha256}`, bytes, durationMs: 10_000, mime: 'audio/ogg; codecs=opus' };
}

async function cache(budgetBytes = 1_000_000, storage = new MemoryStorage()) {
  const reports: CacheReport[] = [];
  const c = await ContentCache.open({
    storage,
    clock: systemClock,
    baseUrl: base,
    report: (r) => reports.push(r),
    budgetBytes,
  });
  return { c, reports, storage };
}

async function until(check: () => boolean, ms = 5000) {
  for (let waited = 0; !check() && waited < ms; waited += 10) await new Promise((r) => setTimeout(r, 10));
  expect(check()).toBe(true);
}

describe('content cache', () => {
  it('downloads, verifies and reports an asset ready; reads it back', async () => {
    const { c, reports } = await cache();
    const a = asset();
    c.want([a]);
    await until(() => c.has(a.sha256));
    expect(reports).toEqual([{ type: 'cache', sha256: a.sha256, state: 'ready', bytes: a.bytes }]);
    expect((await c.read(a.sha256))?.equals(files.get(a.sha256) as Buffer)).toBe(true);
  });

  it('resumes a cut download with Range, fetching only the missing bytes', async () => {
    const { c } = await cache();
    const a = asset(80_000);
    misbehave.set(a.sha256, 'cut');
    served = 0;
    c.want([a]);
    await until(() => c.has(a.sha256), 8000);
    expect(served).toBe(80_000);
    expect(c.stats.bytesDownloaded).toBe(80_000);
  });

  it('starts over when the server ignores Range', async () => {
    const { c } = await cache();
    const a = asset(40_000);
    misbehave.set(a.sha256, 'cut');
    c.want([a]);
    await new Promise((r) => setTimeout(r, 50));
    misbehave.set(a.sha256, 'ignore-range');
    await until(() => c.has(a.sha256), 8000);
    expect((await c.read(a.sha256))?.length).toBe(40_000);
  });

  it('refuses a corrupted download and downloads it again', async () => {
    const { c, reports } = await cache();
    const a = asset();
    misbehave.set(a.sha256, 'corrupt');
    c.want([a]);
    await until(() => c.has(a.sha256), 8000);
    expect(c.stats.verifyFailures).toBe(1);
    expect(reports.at(-1)?.state).toBe('ready');
  });

  it('refuses an asset corrupted on disk, drops it and fetches it again', async () => {
    const { c, reports, storage } = await cache();
    const a = asset();
    c.want([a]);
    await until(() => c.has(a.sha256));
    const bytes = (await storage.read(`assets/${a.sha256}`)) as Buffer;
    bytes[100] = (bytes[100] as number) ^ 1;
    await storage.writeAtomic(`assets/${a.sha256}`, bytes);
    expect(await c.read(a.sha256)).toBeUndefined();
    expect(reports.at(-1)).toMatchObject({ state: 'failed', reason: expect.stringMatching(/corrupted/) });
    await until(() => c.has(a.sha256));
    expect((await c.read(a.sha256))?.equals(files.get(a.sha256) as Buffer)).toBe(true);
  });

  it('evicts the least recently used assets the schedule does not need, never the retained ones', async () => {
    const { c, reports } = await cache(120_000);
    const [a, b, d] = [asset(), asset(), asset()];
    c.want([a as AssetRef]);
    await until(() => c.has((a as AssetRef).sha256));
    c.want([b as AssetRef]);
    await until(() => c.has((b as AssetRef).sha256));
    c.retain([(a as AssetRef).sha256]);
    c.want([d as AssetRef]);
    await until(() => c.has((d as AssetRef).sha256));
    expect(c.has((a as AssetRef).sha256)).toBe(true);
    expect(c.has((b as AssetRef).sha256)).toBe(false);
    expect(reports.filter((r) => r.state === 'evicted').map((r) => r.sha256)).toEqual([(b as AssetRef).sha256]);
  });

  it('finds what is already on disk after a restart', async () => {
    const storage = new MemoryStorage();
    const first = await cache(1_000_000, storage);
    const a = asset();
    first.c.want([a]);
    await until(() => first.c.has(a.sha256));
    const second = await cache(1_000_000, storage);
    expect(second.c.has(a.sha256)).toBe(true);
    expect(second.c.state()).toMatchObject({ assets: 1, bytesUsed: a.bytes });
  });
});
